import { PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import pino from 'pino';
import { systemClock } from '../../../shared/clock';
import { DETAIL_TYPES, type PumpEvent } from '../../../shared/schemas/events';
import { DynamoDbOutboxStore, eventIdFor } from '../../../shared/stores/outbox-store';
import { OutboxRelay } from '../../../services/consumer/pipeline/outbox-relay';
import { listenerArn } from '../../../services/local/eventbridge/index';
import { type LocalStack, startLocalStack } from '../../../services/local/stack';
import { waitFor } from '../../support/waiting';

function event(i: number): PumpEvent {
  const eventId = eventIdFor(['P-1', i, 'test']);
  const at = new Date(Date.UTC(2026, 0, 1, 0, 0, i * 10)).toISOString();
  return {
    eventId,
    detailType: DETAIL_TYPES.conditionChanged,
    pumpId: 'P-1',
    time: Date.UTC(2026, 0, 1, 0, 0, i * 10),
    detail: {
      eventId,
      pumpId: 'P-1',
      tenantId: 't',
      siteId: 's',
      pumpType: 'centrifugal',
      windowStart: at,
      windowEnd: at,
      state: i % 2 ? 'ALARM' : 'NORMAL',
      score: i,
      threshold: 1,
      reason: `window ${i}`,
      topChannels: [],
      model: null,
    },
  };
}

/** Alerts reach subscribers (DESIGN.md §4.4) through partial failures and throttling, once per eventId. */
describe('outbox relay against the local bus', () => {
  let stack: LocalStack;
  let relay: OutboxRelay;
  let outbox: DynamoDbOutboxStore;
  const received: string[] = [];

  beforeAll(async () => {
    stack = await startLocalStack({});
    const { config, clients } = stack;
    outbox = new DynamoDbOutboxStore(clients.doc, config.names.tables.events);
    stack.eventBridge.addListener('all', (e) => {
      received.push((e.detail as { eventId: string }).eventId);
    });
    await clients.eventBridge.send(new PutRuleCommand({ Name: 'all', EventBusName: config.names.eventBusName, EventPattern: JSON.stringify({ source: ['pumpwatch'] }) }));
    await clients.eventBridge.send(new PutTargetsCommand({ Rule: 'all', EventBusName: config.names.eventBusName, Targets: [{ Id: 'all', Arn: listenerArn('all') }] }));
    relay = new OutboxRelay(outbox, clients.eventBridge, systemClock, { eventBusName: config.names.eventBusName, sweepIntervalMs: 200, sweepGraceMs: 0, maxAttempts: 6, maxBackoffMs: 1_000 }, pino({ level: 'silent' }));
  });

  afterAll(async () => {
    await relay.stop();
    await stack.stop();
  });

  beforeEach(() => {
    received.length = 0;
    stack.eventBridge.clearFaults();
  });

  async function publishAll(events: PumpEvent[]): Promise<void> {
    for (const e of events) await outbox.add(e, Date.now());
    await relay.publish(events);
  }

  it('re-sends only the entries that failed with a retryable code, so each eventId arrives once', async () => {
    const events = Array.from({ length: 25 }, (_, i) => event(i));
    // the first two calls fail every other entry; the rest succeed
    stack.eventBridge.injectPutEventsFault({ kind: 'failEntries', calls: 2, every: 2, errorCode: 'InternalFailure' });
    await publishAll(events);
    await stack.eventBridge.drain(5_000);
    expect([...received].sort()).toEqual(events.map((e) => e.eventId).sort());
    for (const e of events) expect((await outbox.get(e.eventId))?.publishedAt).toBeDefined();
  });

  it('backs off and retries a throttled call, delivering every event once', async () => {
    const events = Array.from({ length: 12 }, (_, i) => event(100 + i));
    stack.eventBridge.injectPutEventsFault({ kind: 'throttle', calls: 3 });
    await publishAll(events);
    await stack.eventBridge.drain(5_000);
    expect([...received].sort()).toEqual(events.map((e) => e.eventId).sort());
  });

  it('leaves entries the bus rejects pending with the error, and the sweep publishes them later', async () => {
    const events = Array.from({ length: 4 }, (_, i) => event(200 + i));
    stack.eventBridge.injectPutEventsFault({ kind: 'failEntries', calls: 1, every: 2, errorCode: 'MalformedDetail' });
    await publishAll(events);
    const rejected = [events[0]!, events[2]!];
    for (const e of rejected) {
      const item = await outbox.get(e.eventId);
      expect(item?.publishedAt).toBeUndefined();
      expect(item?.lastError).toMatch(/MalformedDetail/);
    }
    relay.start();
    await waitFor('the sweep published the rest', async () => (await Promise.all(rejected.map((e) => outbox.get(e.eventId)))).every((i) => i?.publishedAt !== undefined), 10_000);
    await stack.eventBridge.drain(5_000);
    expect([...received].sort()).toEqual(events.map((e) => e.eventId).sort());
  });
});
