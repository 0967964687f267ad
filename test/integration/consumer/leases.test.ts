import { DynamoDbOutboxStore } from '../../../shared/stores/outbox-store';
import { Cluster, concurrentOwners, expectedWindows } from '../../support/cluster';
import { waitForWindows } from '../../support/effects';
import { waitFor } from '../../support/waiting';

/**
 * KCL-grade leases with workers as separate processes: even spread, rebalancing without two
 * owners on one shard, and failover after SIGKILL with nothing lost and nothing duplicated.
 */
describe('shard leases across worker processes', () => {
  let cluster: Cluster;

  afterEach(async () => {
    await cluster?.close();
  });

  it('spreads 6 shards evenly over 3 workers, and rebalances to a 4th without concurrent owners', async () => {
    // prepare
    cluster = await Cluster.start({ shards: 6 });
    cluster.startTraffic({ pumps: 24, rateHz: 2, intervalMs: 500 });
    // act: three workers
    const started = Date.now();
    for (const id of ['w1', 'w2', 'w3']) cluster.startWorker(id);
    // assess: 2 leases each within a bounded time
    await waitFor(
      '3 workers holding 2 leases each',
      async () => {
        const own = await cluster.ownership();
        return own.size === 3 && [...own.values()].every((n) => n === 2);
      },
      30_000,
    );
    const balancedMs = Date.now() - started;
    expect(balancedMs).toBeLessThan(30_000);
    // act: a fourth worker joins
    cluster.startWorker('w4');
    await waitFor(
      'leases rebalanced to 2,2,1,1',
      async () => {
        const own = await cluster.ownership();
        return own.size === 4 && [...own.values()].sort().join(',') === '1,1,2,2';
      },
      45_000,
    );
    // a little more traffic after the rebalance, then everything must be processed
    await new Promise((r) => setTimeout(r, 3_000));
    await cluster.stopTraffic();
    const problems = await waitForWindows(cluster.stack, expectedWindows(cluster.sent, 2_000), 30_000);
    expect(problems).toEqual([]);
    // assess: from the audit trail, no shard was ever processed by two workers at once
    const audit = cluster.audit();
    expect(audit.length).toBeGreaterThan(0);
    expect(concurrentOwners(audit)).toEqual([]);
    const processed = new Set(audit.map((a) => `${a.s}|${a.q}`));
    const missing = cluster.sent.filter((s) => !processed.has(`${s.placement.shardId}|${s.placement.sequenceNumber}`));
    expect(missing).toEqual([]);
    // the 4th worker really did take over a shard
    expect(new Set(audit.map((a) => a.w))).toEqual(new Set(['w1', 'w2', 'w3', 'w4']));
  }, 150_000);

  it('takes over the shards of a SIGKILLed worker within failover + one taker interval, losing and duplicating nothing', async () => {
    // prepare: 4 shards, 2 workers, traffic flowing
    cluster = await Cluster.start({ shards: 4 });
    cluster.startTraffic({ pumps: 16, rateHz: 2, intervalMs: 500 });
    cluster.startWorker('a');
    cluster.startWorker('b');
    await waitFor('2 leases each', async () => [...(await cluster.ownership()).values()].join(',') === '2,2', 30_000);
    await new Promise((r) => setTimeout(r, 2_000));
    const victimShards = (await cluster.leaseList()).filter((l) => l.leaseOwner === 'b').map((l) => l.shardId);
    // act
    const killedAt = Date.now();
    cluster.kill('b');
    await waitFor(
      'b\'s shards owned by a',
      async () => (await cluster.leaseList()).filter((l) => victimShards.includes(l.shardId)).every((l) => l.leaseOwner === 'a'),
      20_000,
      50,
    );
    const takeoverMs = Date.now() - killedAt;
    await new Promise((r) => setTimeout(r, 2_000));
    await cluster.stopTraffic();
    // assess: bounded takeover (failover 3000 ms + taker interval 500 ms, plus scheduling slack on
    // a loaded 2-core machine; `npm run bench` reports the median: 3.4 s)
    process.stderr.write(`takeover after SIGKILL: ${takeoverMs} ms\n`);
    expect(takeoverMs).toBeLessThan(3_000 + 500 + 1_500);
    // every record was processed, and the effects are exactly what was sent, once
    const problems = await waitForWindows(cluster.stack, expectedWindows(cluster.sent, 2_000), 30_000);
    expect(problems).toEqual([]);
    const audit = cluster.audit();
    const processed = new Set(audit.map((a) => `${a.s}|${a.q}`));
    expect(cluster.sent.filter((s) => !processed.has(`${s.placement.shardId}|${s.placement.sequenceNumber}`))).toEqual([]);
    // one Pump Enrolled event per auto-enrolled pump, however many workers saw it
    const outbox = new DynamoDbOutboxStore(cluster.stack.clients.doc, cluster.stack.config.names.tables.events);
    const enrolled = (await outbox.list({ limit: 10_000 })).filter((e) => e.detailType === 'Pump Enrolled');
    expect(enrolled.map((e) => e.pumpId).sort()).toEqual([...new Set(cluster.sent.map((s) => s.pumpId))].sort());
    // a resumed after b's last checkpoint: it re-read some records b had processed (at least once)
    const reRead = audit.filter((x) => x.w === 'a' && victimShards.includes(x.s));
    expect(reRead.length).toBeGreaterThan(0);
  }, 120_000);

  it('drains, checkpoints and releases its leases on SIGTERM, and logs its metrics', async () => {
    cluster = await Cluster.start({ shards: 2, env: { PUMPWATCH_CHECKPOINT_INTERVAL_MS: '60000' } });
    cluster.startTraffic({ pumps: 8, rateHz: 2, intervalMs: 500 });
    cluster.startWorker('w');
    await waitFor('w holds both leases', async () => (await cluster.ownership()).get('w') === 2, 30_000);
    await new Promise((r) => setTimeout(r, 3_000));
    await cluster.stopTraffic();
    // act: with a 60 s checkpoint interval, only the shutdown itself writes a checkpoint now
    const code = await cluster.stopWorker('w');
    // assess
    expect(code).toBe(0);
    const leases = await cluster.leaseList();
    expect(leases.every((l) => l.leaseOwner === undefined)).toBe(true);
    expect(leases.every((l) => /^\d+$/.test(l.checkpoint))).toBe(true);
    const log = cluster.workerLog('w');
    expect(log).toMatch(/"msg":"lease released"/);
    expect(log).toMatch(/"msg":"worker stopped"/);
    expect(log).toMatch(/"leasesHeld":2,"recordsPerSecond":\d+,"shards":\{"[^"]+":\{"millisBehindLatest":\d+,"checkpointLagMs":\d+/);
  }, 90_000);
});
