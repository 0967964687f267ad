import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateEventBusCommand, EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { readAlertsConfig, subscriptionsOf, type AlertsConfig } from '../../../services/alerts/config';
import { CliContext } from '../../../services/cli/context';
import { toEntry, batchEntries } from '../../../services/consumer/pipeline/outbox-relay';
import { startEventBridgeServer, type DeadLetterRecord, type EventBridgeEnvelope, type EventBridgeServer } from '../../../services/local/eventbridge';
import { applySubscriptions } from '../../../services/local/subscriptions';
import { loadConfig } from '../../../shared/config';
import { ENV } from '../../../shared/env';
import { DETAIL_TYPES, type PumpEvent } from '../../../shared/schemas/events';
import { pumpEvent } from '../../unit/alerts/pump-events';
import { runAlerts } from '../../unit/alerts/run-cli';
import { startWebhookServer } from '../../support/webhooks';

const BUS = 'pumpwatch-itest-events';
const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);

interface WebhookCall {
  readonly path: string;
  readonly rule: string;
  readonly status: number;
  readonly event: EventBridgeEnvelope;
}

/**
 * Webhook subscribers on a local port: `/ok/…` answers 200; `/fail/…` always 500; `/flaky/…` 503 on
 * the first attempt of each event, then 200 after a random short delay (so retries and slow
 * answers are exercised).
 */
async function startWebhooks(): Promise<{ url: string; calls: WebhookCall[]; close(): Promise<void> }> {
  const calls: WebhookCall[] = [];
  const attempts = new Map<string, number>();
  const server = await startWebhookServer(({ path: url, headers, body }) => {
    const event = body as EventBridgeEnvelope;
    const key = `${url}|${event.id}`;
    const n = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, n);
    const status = url.startsWith('/fail') ? 500 : url.startsWith('/flaky') && n === 1 ? 503 : 200;
    const rule = String(headers['x-pumpwatch-rule-arn'] ?? '').split('/').pop() ?? '';
    calls.push({ path: url, rule, status, event });
    return { status, delayMs: url.startsWith('/flaky') ? Math.floor(Math.random() * 4) : 0 };
  });
  return { ...server, calls };
}

function readJsonLines<T>(file: string): T[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as T);
}

describe('alert subscriptions on the local bus (real SDK client)', () => {
  let tmp: string;
  let dir: string;
  let bus: EventBridgeServer;
  let client: EventBridgeClient;
  let hooks: Awaited<ReturnType<typeof startWebhooks>>;
  let config: AlertsConfig;
  /** Deliveries to the in-process listeners, by rule: the console of `local up`. */
  const listened: { rule: string; event: EventBridgeEnvelope }[] = [];

  async function publish(events: readonly PumpEvent[]): Promise<void> {
    const items = events.map((event) => ({ event, entry: toEntry(event, BUS) }));
    for (const batch of batchEntries(items)) {
      const out = await client.send(new PutEventsCommand({ Entries: batch.map((b) => b.entry) }));
      expect(out.FailedEntryCount).toBe(0);
    }
  }

  /** Every (rule, pumpwatch eventId) a subscriber received, from every kind of target. */
  function received(): Map<string, Set<string>> {
    const byEvent = new Map<string, Set<string>>();
    const add = (rule: string, e: EventBridgeEnvelope): void => {
      const id = String(e.detail.eventId);
      byEvent.set(id, (byEvent.get(id) ?? new Set()).add(rule));
    };
    for (const l of listened) add(l.rule, l.event);
    for (const c of hooks.calls) add(c.rule, c.event);
    const files: [string, string][] = [
      ['pump-anomalies', 'queues/anomalies.jsonl'],
      ['pump-condition-log', 'logs/conditions.jsonl'],
      ['site-a-all', 'files/site-a.jsonl'],
      ['pump-order', 'files/order.jsonl'],
    ];
    for (const [rule, file] of files) for (const e of readJsonLines<EventBridgeEnvelope>(path.join(dir, file))) add(rule, e);
    return byEvent;
  }

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pumpwatch-alerts-it-'));
    dir = path.join(tmp, 'subscriptions');
    hooks = await startWebhooks();
    bus = await startEventBridgeServer({ port: 0, webhookRetry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 } });
    client = new EventBridgeClient({ endpoint: bus.url, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    await client.send(new CreateEventBusCommand({ Name: BUS }));
    for (const name of ['topic-alarms', 'log-conditions']) bus.addListener(name, (event, info) => void listened.push({ rule: info.ruleName, event }));

    // The subscriptions file: the standard alarm topic fanned out to two webhooks, and user rules.
    const file = path.join(tmp, 'pumpwatch.subscriptions.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        topics: { alarms: { webhooks: [`${hooks.url}/ok/pager`, `${hooks.url}/ok/chat`] } },
        subscriptions: [
          {
            name: 'site-a-all',
            description: 'Every event of site A, replays included.',
            pattern: { source: ['pumpwatch'], detail: { siteId: ['site-a'] } },
            targets: [
              { kind: 'webhook', url: `${hooks.url}/ok/site-a` },
              { kind: 'file', path: 'files/site-a.jsonl' },
            ],
          },
          {
            name: 'anomaly-hook',
            description: 'Anomalies to a webhook that is down.',
            pattern: { source: ['pumpwatch'], 'detail-type': [DETAIL_TYPES.anomalyDetected] },
            targets: [{ kind: 'webhook', url: `${hooks.url}/fail/anomalies`, retry: { maximumRetryAttempts: 2 }, deadLetterFile: 'dead/anomaly-hook.jsonl' }],
          },
          {
            name: 'pump-order',
            description: 'Every event of the ordering pumps, through a webhook that fails first attempts.',
            pattern: { source: ['pumpwatch'], detail: { pumpId: [{ prefix: 'ORD-' }] } },
            targets: [
              { kind: 'webhook', url: `${hooks.url}/flaky/order`, retry: { maximumRetryAttempts: 3 } },
              { kind: 'file', path: 'files/order.jsonl' },
            ],
          },
        ],
      }),
    );
    config = readAlertsConfig({ file });
    await applySubscriptions(client, BUS, subscriptionsOf(config), { dir, topics: config.topics });
  });

  afterAll(async () => {
    client.destroy();
    await bus.close();
    await hooks.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  describe('an event reaches exactly the subscriptions whose patterns match it', () => {
    const alarm = pumpEvent({ pumpId: 'P-1', siteId: 'site-a', state: 'ALARM', previousState: 'WARNING', windowStart: T0 });
    const warning = pumpEvent({ pumpId: 'P-2', siteId: 'site-b', state: 'WARNING', previousState: 'NORMAL', windowStart: T0 });
    const anomaly = pumpEvent({ pumpId: 'P-3', siteId: 'site-b', detailType: DETAIL_TYPES.anomalyDetected, windowStart: T0 });
    const replayed = pumpEvent({ pumpId: 'P-1', siteId: 'site-a', state: 'ALARM', windowStart: T0 - 3_600_000, replay: { jobId: 'replay-42', startedAt: '2026-01-02T08:00:00.000Z' } });

    beforeAll(async () => {
      await publish([alarm, warning, anomaly, replayed]);
      await bus.drain(10_000);
    });

    it.each([
      ['an ALARM condition change', alarm, ['pump-alarms', 'pump-condition-log', 'site-a-all']],
      ['a WARNING condition change', warning, ['pump-condition-log']],
      ['an anomaly', anomaly, ['anomaly-hook', 'pump-anomalies', 'pump-condition-log']],
      ['a replayed ALARM (no live-only rule; the site rule does not exclude replays)', replayed, ['site-a-all']],
    ])('%s', (_what, event, rules) => {
      expect([...(received().get(event.eventId) ?? [])].sort()).toEqual(rules);
    });

    it('reaches every target of a matching rule: the topic fan-out webhooks, the listener, the file', () => {
      const pathsFor = (id: string): string[] => hooks.calls.filter((c) => c.event.detail.eventId === id && c.status === 200).map((c) => c.path).sort();
      expect(pathsFor(alarm.eventId)).toEqual(['/ok/chat', '/ok/pager', '/ok/site-a']);
      expect(listened.filter((l) => l.event.detail.eventId === alarm.eventId).map((l) => l.rule).sort()).toEqual(['pump-alarms', 'pump-condition-log']);
      const [line] = readJsonLines<EventBridgeEnvelope>(path.join(dir, 'files', 'site-a.jsonl')).filter((e) => e.detail.eventId === alarm.eventId);
      expect(line).toMatchObject({ source: 'pumpwatch', 'detail-type': DETAIL_TYPES.conditionChanged, detail: alarm.detail });
    });

    it('retries a failing webhook the configured number of times, then dead-letters the event', () => {
      // 1 attempt + maximumRetryAttempts 2.
      const attempts = hooks.calls.filter((c) => c.path === '/fail/anomalies');
      expect(attempts.map((c) => [c.status, c.event.detail.eventId])).toEqual([
        [500, anomaly.eventId],
        [500, anomaly.eventId],
        [500, anomaly.eventId],
      ]);
      const dead = readJsonLines<DeadLetterRecord>(path.join(dir, 'dead', 'anomaly-hook.jsonl'));
      expect(dead).toHaveLength(1);
      expect(dead[0]).toMatchObject({
        ruleName: 'anomaly-hook',
        eventBusName: BUS,
        targetId: 'webhook-0',
        targetArn: `${hooks.url}/fail/anomalies`,
        errorCode: 'HTTP_500',
        exhaustedRetryCondition: 'MaximumRetryAttempts',
        retryAttempts: 2,
        event: { 'detail-type': DETAIL_TYPES.anomalyDetected, detail: anomaly.detail },
      });
      expect(dead[0]!.payload).toEqual(dead[0]!.event);
      // The other subscribers of the anomaly were not held back by the failing one.
      expect(received().get(anomaly.eventId)).toEqual(new Set(['anomaly-hook', 'pump-anomalies', 'pump-condition-log']));
    });

    it('alerts tail shows what each subscription received, from the local files', async () => {
      const run = await runAlerts(['alerts', 'tail', '--dir', dir, '--from-beginning', '--no-follow', '--json', '--rule', 'pump-alarms', '--rule', 'site-a-all', '--subscriptions', config.source!]);
      const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { rule: string; event: EventBridgeEnvelope });
      const seen = lines.filter((l) => [alarm.eventId, replayed.eventId].includes(String(l.event.detail.eventId))).map((l) => `${l.rule} ${String(l.event.detail.eventId)}`);
      expect(seen.sort()).toEqual([`pump-alarms ${alarm.eventId}`, `site-a-all ${alarm.eventId}`, `site-a-all ${replayed.eventId}`].sort());
    });

    it('alerts list shows each rule on the running bus', async () => {
      const context = new CliContext(loadConfig({ [ENV.eventBridgeEndpoint]: bus.url, [ENV.eventBusName]: BUS }));
      const run = await runAlerts(['alerts', 'list', '--json', '--subscriptions', config.source!], () => context).finally(() => context.close());
      const list = JSON.parse(run.stdout) as { name: string; bus: string | null }[];
      expect(list.map((s) => [s.name, s.bus])).toEqual([
        ['pump-alarms', 'present'],
        ['pump-anomalies', 'present'],
        ['pump-condition-log', 'present'],
        ['site-a-all', 'present'],
        ['anomaly-hook', 'present'],
        ['pump-order', 'present'],
      ]);
    });
  });

  it('delivers to a webhook and a file in per-pump order, across retries and PutEvents batches', async () => {
    // prepare: two pumps' condition histories, interleaved as one worker's outbox relay publishes them
    const states = ['NORMAL', 'WARNING', 'ALARM', 'WARNING', 'NORMAL'] as const;
    const events: PumpEvent[] = [];
    for (let i = 0; i < 15; i++) {
      for (const pumpId of ['ORD-1', 'ORD-2']) {
        events.push(pumpEvent({ pumpId, siteId: 'site-o', state: states[i % states.length], windowStart: T0 + i * 10_000 }));
      }
    }

    // act: 30 events in 3 PutEvents calls
    await publish(events);
    await bus.drain(15_000);

    // assess
    const expected = (pumpId: string): string[] => events.filter((e) => e.pumpId === pumpId).map((e) => e.eventId);
    const ok = hooks.calls.filter((c) => c.path === '/flaky/order' && c.status === 200).map((c) => c.event);
    const filed = readJsonLines<EventBridgeEnvelope>(path.join(dir, 'files', 'order.jsonl'));
    expect(hooks.calls.filter((c) => c.path === '/flaky/order' && c.status === 503)).toHaveLength(events.length);
    for (const pumpId of ['ORD-1', 'ORD-2']) {
      const ids = (list: EventBridgeEnvelope[]): string[] => list.filter((e) => e.detail.pumpId === pumpId).map((e) => String(e.detail.eventId));
      expect(ids(ok)).toEqual(expected(pumpId));
      expect(ids(filed)).toEqual(expected(pumpId));
    }
    expect(bus.deadLetters().filter((d) => d.ruleName === 'pump-order')).toEqual([]);
  });
});
