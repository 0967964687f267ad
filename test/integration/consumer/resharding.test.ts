import { ListShardsCommand, MergeShardsCommand, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { DynamoDbStateStore } from '../../../shared/stores/state-store';
import { Cluster, expectedWindows } from '../../support/cluster';
import { allWindows, waitForWindows } from '../../support/effects';
import { waitFor } from '../../support/waiting';

/**
 * Resharding while data flows: every record processed, per-pump order kept (a pump's parent-shard
 * records before its child-shard records), windows split across parent and child computed once
 * and whole (open windows are handed from the parent's consumer to the child's).
 */
describe('resharding', () => {
  let cluster: Cluster;

  afterEach(async () => {
    await cluster?.close();
  });

  it('keeps every record and per-pump order through SplitShard and MergeShards', async () => {
    // prepare
    cluster = await Cluster.start({ shards: 2 });
    const kinesis = cluster.stack.clients.kinesis;
    const StreamName = cluster.stack.config.names.streamName;
    cluster.startTraffic({ pumps: 20, rateHz: 2, intervalMs: 400 });
    cluster.startWorker('a');
    cluster.startWorker('b');
    await waitFor('both workers hold a lease', async () => (await cluster.ownership()).size === 2, 30_000);
    await new Promise((r) => setTimeout(r, 2_500));
    // act: split shard 0 in the middle of its hash range
    const shards = (await kinesis.send(new ListShardsCommand({ StreamName }))).Shards!;
    const parent = shards[0]!;
    const start = BigInt(parent.HashKeyRange!.StartingHashKey!);
    const end = BigInt(parent.HashKeyRange!.EndingHashKey!);
    await kinesis.send(new SplitShardCommand({ StreamName, ShardToSplit: parent.ShardId!, NewStartingHashKey: String((start + end) / 2n) }));
    await waitFor('split done', async () => ((await kinesis.send(new ListShardsCommand({ StreamName }))).Shards ?? []).length === 4, 10_000);
    await new Promise((r) => setTimeout(r, 4_000));
    // act: merge the two children back
    const afterSplit = (await kinesis.send(new ListShardsCommand({ StreamName }))).Shards!;
    const children = afterSplit.filter((s) => s.ParentShardId === parent.ShardId).sort((x, y) => (BigInt(x.HashKeyRange!.StartingHashKey!) < BigInt(y.HashKeyRange!.StartingHashKey!) ? -1 : 1));
    expect(children).toHaveLength(2);
    await kinesis.send(new MergeShardsCommand({ StreamName, ShardToMerge: children[0]!.ShardId!, AdjacentShardToMerge: children[1]!.ShardId! }));
    await waitFor('merge done', async () => ((await kinesis.send(new ListShardsCommand({ StreamName }))).Shards ?? []).length === 5, 10_000);
    await new Promise((r) => setTimeout(r, 4_000));
    await cluster.stopTraffic();
    // assess: the history holds every window, once, with all its samples
    const expected = expectedWindows(cluster.sent, 2_000);
    expect(await waitForWindows(cluster.stack, expected, 40_000)).toEqual([]);
    // every record was processed
    const audit = cluster.audit();
    const processed = new Set(audit.map((a) => `${a.s}|${a.q}`));
    expect(cluster.sent.filter((s) => !processed.has(`${s.placement.shardId}|${s.placement.sequenceNumber}`))).toEqual([]);
    // data really went through every generation of shards
    const finalShards = (await kinesis.send(new ListShardsCommand({ StreamName }))).Shards!;
    const merged = finalShards.find((s) => s.ParentShardId && s.AdjacentParentShardId)!;
    for (const id of [parent.ShardId!, children[0]!.ShardId!, children[1]!.ShardId!, merged.ShardId!]) {
      expect(cluster.sent.some((s) => s.placement.shardId === id)).toBe(true);
    }
    // parents before children, per pump: every parent record of a pump is processed before any child record of it
    const parentsOf = new Map<string, string[]>();
    for (const s of finalShards) parentsOf.set(s.ShardId!, [s.ParentShardId, s.AdjacentParentShardId].filter((p): p is string => !!p));
    const times = new Map<string, { min: number; max: number }>();
    for (const a of audit) {
      const key = `${a.s}|${a.k}`;
      const cur = times.get(key) ?? { min: Infinity, max: -Infinity };
      times.set(key, { min: Math.min(cur.min, a.t), max: Math.max(cur.max, a.e) });
    }
    const violations: string[] = [];
    for (const [key, child] of times) {
      const [shard, pump] = key.split('|') as [string, string];
      for (const p of parentsOf.get(shard) ?? []) {
        const par = times.get(`${p}|${pump}`);
        if (par && par.max > child.min) violations.push(`${pump}: parent ${p} until ${par.max}, child ${shard} from ${child.min}`);
      }
    }
    expect(violations).toEqual([]);
    // per-pump sample order within the processing of each record stream: sample seqs increase
    // along each pump's records in processing order (re-reads after a lease move aside)
    const firstSeen = new Map<string, number>();
    for (const a of audit) if (!firstSeen.has(`${a.s}|${a.q}`)) firstSeen.set(`${a.s}|${a.q}`, a.t);
    const byPump = new Map<string, { t: number; f: number }[]>();
    for (const a of audit) {
      if (a.f === undefined || firstSeen.get(`${a.s}|${a.q}`) !== a.t) continue;
      byPump.set(a.k, [...(byPump.get(a.k) ?? []), { t: a.t, f: a.f }]);
    }
    for (const [pump, list] of byPump) {
      const seqs = list.sort((x, y) => x.t - y.t || x.f - y.f).map((x) => x.f);
      expect({ pump, ordered: seqs.every((v, i) => i === 0 || v >= seqs[i - 1]!) }).toEqual({ pump, ordered: true });
    }
    // each pump's state reflects its newest window
    const states = new DynamoDbStateStore(cluster.stack.clients.doc, cluster.stack.config.names.tables.state);
    const windows = await allWindows(cluster.stack, new Set(cluster.sent.map((s) => s.pumpId)));
    for (const pump of new Set(cluster.sent.map((s) => s.pumpId))) {
      const newest = Math.max(...windows.filter((w) => w.pumpId === pump).map((w) => w.windowStart));
      expect({ pump, last: (await states.get(pump))?.memory.lastWindowStart }).toEqual({ pump, last: newest });
    }
  }, 150_000);
});
