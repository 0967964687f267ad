import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENV } from '../../../shared/env';
import type { EventBridgeEnvelope } from '../../../services/local/eventbridge/index';
import { DETAIL_TYPES } from '../../../shared/schemas/events';
import { DynamoDbOutboxStore } from '../../../shared/stores/outbox-store';
import { DynamoDbQuarantineStore } from '../../../shared/stores/quarantine-store';
import { DynamoDbStateStore } from '../../../shared/stores/state-store';
import { DynamoDbWindowStore } from '../../../shared/stores/window-store';
import { createWorker, type Worker } from '../../../services/consumer/worker';
import { encodeJson, KinesisProducer } from '../../../services/ingest/producer';
import { FleetSimulator, parseFault, simulateBatches } from '../../../services/ingest/simulator';
import { prepareFleet } from '../../../services/local/fleet';
import { type LocalStack, startLocalStack } from '../../../services/local/stack';
import { waitFor } from '../../support/waiting';

/**
 * The whole path through the real emulators with the real SDK clients: simulated telemetry
 * (one pump developing a bearing fault) and malformed records in; condition states, window
 * history, events on the bus and quarantined records out.
 */
describe('pipeline end to end', () => {
  let stack: LocalStack;
  let worker: Worker;
  let dir: string;
  const delivered: EventBridgeEnvelope[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pumpwatch-e2e-'));
    stack = await startLocalStack({
      env: { [ENV.failoverTimeMs]: '3000', [ENV.takerIntervalMs]: '500', [ENV.idleTimeBetweenReadsMs]: '100', [ENV.checkpointIntervalMs]: '500' },
    });
    stack.eventBridge.addListener('topic-alarms', (e) => {
      delivered.push(e);
    });
    stack.eventBridge.addListener('log-conditions', () => undefined);
  });

  afterAll(async () => {
    await worker?.stop();
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('turns telemetry into states, history, events and quarantine', async () => {
    // prepare: a fleet of 3 pumps, P-0002 develops a bearing fault 3 minutes in
    const now = Date.now();
    const start = now - 6 * 60_000;
    const sim = new FleetSimulator({ pumps: 3, seed: 11, faults: [parseFault('P-0002:bearing@180+30')] }, start);
    await prepareFleet(stack.config, stack.clients, sim.pumps, { dir }, now);
    const batches = simulateBatches(sim, start, 6 * 60, 5);
    const producer = new KinesisProducer(stack.clients.kinesis, { streamName: stack.config.names.streamName });
    const bad = [
      { partitionKey: 'P-0001', data: new TextEncoder().encode('{"pumpId": "P-0001", "ts": ') },
      { partitionKey: 'P-0001', data: encodeJson({ pumpId: 'P-0001', ts: now, metrics: { pressure: 'high' } }) },
      { partitionKey: 'P-0003', data: encodeJson({ pumpId: 'P-0003', ts: now + 3_600_000, metrics: { pressure: 6 } }) },
      { partitionKey: 'P-0003', data: new TextEncoder().encode('{"pumpId":"P-0003","ts":1780000000000,"metrics":{"pressure":1e999}}') },
    ];
    // act
    await producer.putAll([...batches.map((b) => ({ partitionKey: b.pumpId, data: encodeJson(b) })), ...bad]);
    worker = createWorker(stack.config, stack.clients);
    worker.start();
    // assess: states
    const states = new DynamoDbStateStore(stack.clients.doc, stack.config.names.tables.state);
    await waitFor('P-0002 in ALARM', async () => (await states.get('P-0002'))?.memory.state === 'ALARM', 60_000);
    // the healthy pumps (possibly on another shard) end up NORMAL, never raised
    await waitFor('healthy pumps evaluated', async () => {
      const [a, c] = [await states.get('P-0001'), await states.get('P-0003')];
      return a && c && a.memory.lastWindowStart !== null && c.memory.lastWindowStart !== null;
    });
    expect((await states.get('P-0001'))?.memory.state).toBe('NORMAL');
    expect((await states.get('P-0003'))?.memory.state).toBe('NORMAL');
    // window history: one item per (pump, window), scored by the type's default model
    const history = new DynamoDbWindowStore(stack.clients.doc, stack.config.names.tables.windows);
    // 6 minutes of data: 36 windows of 10 s (the first and last may be partial or still open).
    const windows = await waitFor('P-0001 windows', async () => {
      const w = await history.query('P-0001');
      return w.length >= 35 ? w : undefined;
    });
    expect(new Set(windows.map((w) => w.windowStart)).size).toBe(windows.length);
    expect(windows.every((w) => w.status === 'SCORED' && w.model?.target === 'types/centrifugal/v1/model.tar.gz')).toBe(true);
    expect(windows.every((w) => w.windowEnd - w.windowStart === 10_000)).toBe(true);
    // events: the alarm reached the subscriber, with the reason
    const alarm = await waitFor('alarm delivered to the pump-alarms subscriber', () =>
      delivered.find((e) => e['detail-type'] === DETAIL_TYPES.conditionChanged && (e.detail as { pumpId: string }).pumpId === 'P-0002'),
    );
    const detail = alarm.detail as { state: string; topChannels: { channel: string }[]; reason: string; eventId: string };
    expect(detail.state).toBe('ALARM');
    expect(detail.topChannels.map((c) => c.channel)).toContain('vibration_rms');
    expect(detail.reason).toMatch(/score|zone/);
    const outbox = new DynamoDbOutboxStore(stack.clients.doc, stack.config.names.tables.events);
    const p2 = await outbox.list({ pumpId: 'P-0002' });
    expect(p2.map((e) => e.detailType)).toEqual(expect.arrayContaining([DETAIL_TYPES.conditionChanged, DETAIL_TYPES.anomalyDetected]));
    await waitFor('all events published', async () => (await outbox.list()).every((e) => e.publishedAt !== undefined));
    expect(delivered.filter((e) => (e.detail as { pumpId: string }).pumpId !== 'P-0002')).toEqual([]);
    // quarantine: every bad record kept with its reason
    const quarantine = new DynamoDbQuarantineStore(stack.clients.doc, stack.config.names.tables.quarantine);
    const items = await waitFor('4 records quarantined', async () => {
      const list = await quarantine.list();
      return list.length >= 4 ? list : undefined;
    });
    expect(items.map((i) => i.reason).sort()).toEqual(['future_timestamp', 'malformed_json', 'non_finite_value', 'schema_violation']);
    expect(items.find((i) => i.reason === 'schema_violation')!.detail).toMatch(/metrics\.pressure/);
    expect(Buffer.from(items.find((i) => i.reason === 'malformed_json')!.data, 'base64').toString()).toBe('{"pumpId": "P-0001", "ts": ');
  }, 120_000);
});
