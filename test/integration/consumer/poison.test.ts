import { DynamoDbQuarantineStore } from '../../../shared/stores/quarantine-store';
import { Cluster, expectedWindows } from '../../support/cluster';
import { waitForWindows } from '../../support/effects';
import { waitFor } from '../../support/waiting';

/** A record whose processing keeps failing is retried a bounded number of times, quarantined, and passed. */
describe('poison records', () => {
  let cluster: Cluster;

  afterEach(async () => {
    await cluster?.close();
  });

  it('does not stall its shard: bounded retries, quarantine with the reason, checkpoint moves on', async () => {
    // prepare: one shard, so the poisoned pump shares it with everyone else
    cluster = await Cluster.start({ shards: 1 });
    cluster.startWorker('w', { PUMPWATCH_FAULTS: 'poison@T-0003' });
    cluster.startTraffic({ pumps: 6, rateHz: 2, intervalMs: 500 });
    await new Promise((r) => setTimeout(r, 6_000));
    await cluster.stopTraffic();
    // assess: every other pump's windows are complete
    const healthy = cluster.sent.filter((s) => s.pumpId !== 'T-0003');
    expect(await waitForWindows(cluster.stack, expectedWindows(healthy, 2_000), 30_000)).toEqual([]);
    // every poisoned record is in quarantine with its reason and its data
    const quarantine = new DynamoDbQuarantineStore(cluster.stack.clients.doc, cluster.stack.config.names.tables.quarantine);
    const poisoned = cluster.sent.filter((s) => s.pumpId === 'T-0003');
    const items = await waitFor('poisoned records quarantined', async () => {
      const list = await quarantine.list({ reason: 'processing_failed' });
      return list.length >= poisoned.length ? list : undefined;
    });
    expect(items.map((i) => i.sequenceNumber).sort()).toEqual(poisoned.map((p) => p.placement.sequenceNumber).sort());
    expect(items.every((i) => i.pumpId === 'T-0003' && /injected poison/.test(i.detail) && /after 3 attempts/.test(i.detail))).toBe(true);
    expect(JSON.parse(Buffer.from(items[0]!.data, 'base64').toString())).toMatchObject({ pumpId: 'T-0003' });
    // the checkpoint has moved past the last poisoned record
    const lastPoison = poisoned.map((p) => BigInt(p.placement.sequenceNumber)).reduce((a, b) => (a > b ? a : b));
    await waitFor('checkpoint past the poison', async () => {
      const [lease] = await cluster.leaseList();
      return !!lease && /^\d+$/.test(lease.checkpoint) && BigInt(lease.checkpoint) > lastPoison;
    }, 15_000);
  }, 90_000);
});
