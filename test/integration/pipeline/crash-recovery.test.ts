import { PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENV } from '../../../shared/env';
import { FAULT_POINTS, type FaultPoint } from '../../../shared/faults';
import { ConditionPolicySchema } from '../../../shared/schemas/condition';
import { listenerArn } from '../../../services/local/eventbridge/index';
import { encodeJson, KinesisProducer } from '../../../services/ingest/producer';
import { DEMO_ZONES, FleetSimulator, parseFault, simulateBatches } from '../../../services/ingest/simulator';
import { prepareFleet } from '../../../services/local/fleet';
import { listenToSubscriptions } from '../../../services/local/subscriptions';
import { STANDARD_SUBSCRIPTIONS } from '../../../shared/subscriptions';
import { Cluster } from '../../support/cluster';
import { waitFor } from '../../support/waiting';

/**
 * Exactly-once effects on at-least-once delivery (DESIGN.md §4.2): for a fixed input, a worker
 * process is SIGKILLed at each boundary of the pipeline, a fresh worker finishes the job, and the
 * final tables and the set of published eventIds must equal those of a run without the crash.
 */
const ENV_10S = { [ENV.windowSizeMs]: '10000', [ENV.idleTimeoutMs]: '2000', [ENV.outboxSweepMs]: '500' };
// Deterministic content: NO_DATA depends on processing time, so it is switched off here.
const POLICY = ConditionPolicySchema.parse({ k: 2, n: 3, zones: DEMO_ZONES, noDataAfterMs: 365 * 86_400_000 });

/** The n-th time each point is reached: mid-run, after some effects are already durable. */
const CRASH_AT: Record<FaultPoint, number> = {
  'after-read': 2,
  'after-window': 2,
  'after-history-write': 40,
  'after-outbox-write': 2,
  'after-state-write': 4,
  'after-put-events': 2,
  'before-checkpoint': 2,
};

interface Outcome {
  windows: unknown[];
  states: unknown[];
  outbox: unknown[];
  quarantine: unknown[];
  published: string[];
}

// Aligned to the window size: 240 s of data make exactly 24 windows per pump.
const T0 = Math.floor((Date.now() - 10 * 60_000) / 10_000) * 10_000;

async function scan(cluster: Cluster, table: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const r = await cluster.stack.clients.doc.send(new ScanCommand({ TableName: table, ExclusiveStartKey: startKey, ConsistentRead: true }));
    out.push(...(r.Items ?? []));
    startKey = r.LastEvaluatedKey;
  } while (startKey);
  return out;
}

function strip(items: Record<string, unknown>[], drop: string[], key: (i: Record<string, unknown>) => string): unknown[] {
  return items
    .map((i) => Object.fromEntries(Object.entries(i).filter(([k]) => !drop.includes(k))))
    .sort((a, b) => key(a).localeCompare(key(b)));
}

async function runOnce(fault?: FaultPoint): Promise<Outcome> {
  const cluster = await Cluster.start({ shards: 2, env: ENV_10S });
  const dir = mkdtempSync(join(tmpdir(), 'pumpwatch-crash-'));
  try {
    const { config, clients } = cluster.stack;
    const sim = new FleetSimulator({ pumps: 6, seed: 17, faults: [parseFault('P-0002:bearing@90+30')] }, T0);
    await prepareFleet(config, clients, sim.pumps.map((p) => ({ ...p, policy: POLICY })), { dir }, T0);
    // The standard subscriptions deliver to in-process listeners; give them somewhere to go.
    listenToSubscriptions(cluster.stack.eventBridge, STANDARD_SUBSCRIPTIONS, () => undefined);
    const published = new Set<string>();
    cluster.stack.eventBridge.addListener('all', (e) => {
      published.add((e.detail as { eventId: string }).eventId);
    });
    await clients.eventBridge.send(new PutRuleCommand({ Name: 'all-pumpwatch', EventBusName: config.names.eventBusName, EventPattern: JSON.stringify({ source: ['pumpwatch'] }) }));
    await clients.eventBridge.send(new PutTargetsCommand({ Rule: 'all-pumpwatch', EventBusName: config.names.eventBusName, Targets: [{ Id: 'all', Arn: listenerArn('all') }] }));
    const batches = simulateBatches(sim, T0, 240, 5);
    const bad = [new TextEncoder().encode('{"pumpId":"P-0001","ts":'), encodeJson({ pumpId: 'P-0004', ts: T0, metrics: { pressure: 'x' } })];
    const producer = new KinesisProducer(clients.kinesis, { streamName: config.names.streamName });
    await producer.putAll([...batches.map((b) => ({ partitionKey: b.pumpId, data: encodeJson(b) })), ...bad.map((data, i) => ({ partitionKey: `P-000${i + 1}`, data }))]);
    const expectedWindows = 6 * 24;
    if (fault) {
      const crashing = cluster.startWorker('crashing', { [ENV.faults]: `crash@${fault}#${CRASH_AT[fault]}` });
      const exit = await new Promise<NodeJS.Signals | 'no crash' | null>((r) => {
        const timer = setTimeout(() => r('no crash'), 30_000);
        crashing.once('exit', (_code, signal) => {
          clearTimeout(timer);
          r(signal);
        });
      });
      expect({ fault, exit }).toEqual({ fault, exit: 'SIGKILL' });
    }
    cluster.startWorker('finisher');
    const t = config.names.tables;
    await waitFor(
      'every window applied and every event published',
      async () => {
        const windows = await scan(cluster, t.windows);
        const outbox = await scan(cluster, t.events);
        const live = windows.filter((w) => String(w.sk).startsWith('w#'));
        const samples = live.reduce((n, w) => n + (w.features as { sampleCount: number }).sampleCount, 0);
        // Every pump's state has reached its newest window (history is written before the state).
        const newest = new Map<string, number>();
        for (const w of live) newest.set(String(w.pumpId), Math.max(newest.get(String(w.pumpId)) ?? 0, Number(w.windowStart)));
        const states = await scan(cluster, t.state);
        const statesDone =
          states.length === 6 && states.every((st) => (st.memory as { lastWindowStart: number }).lastWindowStart === newest.get(String(st.pumpId)));
        return (
          statesDone &&
          live.length >= expectedWindows &&
          samples === 6 * 240 &&
          live.every((w) => w.state !== undefined) &&
          outbox.every((e) => e.publishedAt !== undefined) &&
          published.size >= outbox.length
        );
      },
      60_000,
      300,
    );
    await cluster.stack.eventBridge.drain(5_000);
    return {
      windows: strip((await scan(cluster, t.windows)).filter((w) => String(w.sk).startsWith('w#')), ['createdAt'], (i) => `${i.pumpId}|${i.sk}`),
      states: strip(await scan(cluster, t.state), ['version', 'updatedAt', 'lastSeenAt'], (i) => String(i.pumpId)),
      outbox: strip(await scan(cluster, t.events), ['createdAt', 'publishedAt', 'attempts', 'lastError'], (i) => String(i.eventId)),
      // Sequence numbers differ from one stack to the next; the record itself identifies the item.
      quarantine: strip(await scan(cluster, t.quarantine), ['receivedAt', 'id', 'sequenceNumber'], (i) => String(i.data)),
      published: [...published].sort(),
    };
  } finally {
    await cluster.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('crash at every boundary', () => {
  let baseline: Outcome;

  beforeAll(async () => {
    baseline = await runOnce();
    // the fixed input does produce the effects the crashes must not disturb
    expect(baseline.windows).toHaveLength(6 * 24);
    expect(baseline.outbox.length).toBeGreaterThanOrEqual(6 + 2); // enrolments + the fault's alarm and anomaly
    expect(baseline.quarantine).toHaveLength(2);
    expect(baseline.published).toHaveLength(baseline.outbox.length);
  }, 120_000);

  it.each(FAULT_POINTS.map((p) => [p]))('SIGKILL %s: same tables and published eventIds as without the crash', async (point) => {
    const outcome = await runOnce(point as FaultPoint);
    expect(outcome.windows).toEqual(baseline.windows);
    expect(outcome.states).toEqual(baseline.states);
    expect(outcome.outbox).toEqual(baseline.outbox);
    expect(outcome.quarantine).toEqual(baseline.quarantine);
    expect(outcome.published).toEqual(baseline.published);
  }, 120_000);
});
