import { Cluster } from '../test/support/cluster';
import { encodeJson, KinesisProducer } from '../services/ingest/producer';
import { FleetSimulator, simulateBatches } from '../services/ingest/simulator';
import { type Benchmark, type Figure, median } from './harness';

async function until(check: () => Promise<boolean>, timeoutMs: number, intervalMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Time from SIGKILL of a worker until another holds all its leases (failover 3 s, taker 500 ms). */
async function failoverOnce(): Promise<number> {
  const cluster = await Cluster.start({ shards: 4 });
  try {
    cluster.startWorker('a');
    cluster.startWorker('b');
    await until(async () => [...(await cluster.ownership()).values()].join(',') === '2,2', 30_000);
    const victim = (await cluster.leaseList()).filter((l) => l.leaseOwner === 'b').map((l) => l.shardId);
    const killedAt = Date.now();
    cluster.kill('b');
    await until(async () => (await cluster.leaseList()).filter((l) => victim.includes(l.shardId)).every((l) => l.leaseOwner === 'a'), 30_000, 20);
    return Date.now() - killedAt;
  } finally {
    await cluster.close();
  }
}

/** Records/s for `workers` worker processes draining a pre-loaded 4-shard stream. */
async function throughputOnce(workers: number, records: number): Promise<number> {
  const cluster = await Cluster.start({ shards: 4, env: { PUMPWATCH_CHECKPOINT_INTERVAL_MS: '200', PUMPWATCH_WINDOW_SIZE_MS: '10000' } });
  try {
    const sim = new FleetSimulator({ pumps: 200, seed: 1 });
    const seconds = Math.ceil((records * 10) / 200);
    const batches = simulateBatches(sim, Date.now() - seconds * 1000 - 60_000, seconds, 10).slice(0, records);
    const producer = new KinesisProducer(cluster.stack.clients.kinesis, { streamName: cluster.stack.config.names.streamName });
    const { placements } = await producer.putAll(batches.map((b) => ({ partitionKey: b.pumpId, data: encodeJson(b) })));
    const last = new Map<string, bigint>();
    for (const p of placements) {
      const s = BigInt(p.sequenceNumber);
      if (!last.has(p.shardId) || last.get(p.shardId)! < s) last.set(p.shardId, s);
    }
    const started = Date.now();
    for (let i = 0; i < workers; i++) cluster.startWorker(`w${i}`);
    // Done when every shard's checkpoint has reached its last record's neighbourhood: the checkpoint
    // stays before the oldest open window, so count processed records from the audit instead.
    await until(async () => new Set(cluster.audit().map((a) => `${a.s}|${a.q}`)).size >= placements.length, 300_000, 200);
    const seconds2 = (Date.now() - started) / 1000;
    return placements.length / seconds2;
  } finally {
    await cluster.close();
  }
}

/**
 * Consumer scaling on one machine: failover time after SIGKILL (median of several runs) and
 * records/s with 1, 2 and 4 worker processes. Worker start-up (a few hundred ms each) is included.
 */
export const consumerBenchmark: Benchmark = {
  name: 'consumer.leases',
  description: 'failover after SIGKILL; records/s with 1, 2, 4 worker processes',
  async run(): Promise<Figure[]> {
    const runs: number[] = [];
    for (let i = 0; i < 5; i++) runs.push(await failoverOnce());
    const figures: Figure[] = [
      {
        name: 'consumer.failover_ms',
        value: median(runs),
        unit: 'ms',
        note: `median of ${runs.length} runs (${runs.join(', ')}); failover time 3000 ms, taker interval 500 ms`,
      },
    ];
    const records = 4_000;
    const base = await throughputOnce(1, records);
    figures.push({ name: 'consumer.records_per_s.workers_1', value: base, unit: 'records/s', note: `${records} batch records (10 samples, 200 pumps, 10 s windows) on 4 shards; emulators in the bench process` });
    for (const n of [2, 4]) {
      const v = await throughputOnce(n, records);
      figures.push({ name: `consumer.records_per_s.workers_${n}`, value: v, unit: 'records/s', baseline: base, ratio: v / base, note: 'ratio vs 1 worker, same machine' });
    }
    return figures;
  },
};
