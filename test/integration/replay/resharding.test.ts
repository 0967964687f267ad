import { ListShardsCommand, MergeShardsCommand, type Shard, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createArchiver } from '../../../services/archiver/archiver';
import { createWorker } from '../../../services/consumer/worker';
import { encodeJson, KinesisProducer } from '../../../services/ingest/producer';
import { FleetSimulator, simulateBatches } from '../../../services/ingest/simulator';
import { prepareFleet } from '../../../services/local/fleet';
import { type LocalStack, startLocalStack } from '../../../services/local/stack';
import { ENV } from '../../../shared/env';
import { waitFor } from '../../support/waiting';
import { archivedLines, POLICY, pumpwatch, REPLAY_TEST_ENV, scanTable, WINDOW_MS, windowsOf } from './support';

/**
 * Replays across resharding: the stream is split and merged while the history is written, so
 * windows straddle parent and child shards. A replay from Kinesis reads every shard, closed ones
 * included, parents before children (open windows handed over), and a replay from the archive reads
 * the objects of every generation in order: both give the live history.
 */
describe('replay across resharding', () => {
  let stack: LocalStack;
  let dir: string;
  let fromMs: number;
  let toMs: number;
  let shards: Shard[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pumpwatch-replay-reshard-'));
    // The live run is the reference: its idle timeout must not close a window between the parent's
    // end and the child's start (on a busy machine that can take seconds), or its samples would be
    // late live (quarantined) while the replay, which only closes on the data, keeps them.
    stack = await startLocalStack({ shardCount: 2, env: { ...REPLAY_TEST_ENV, [ENV.idleTimeoutMs]: '20000' } });
    const { config, clients } = stack;
    const StreamName = config.names.streamName;
    const kinesis = clients.kinesis;
    fromMs = Math.floor((Date.now() - 15 * 60_000) / WINDOW_MS) * WINDOW_MS;
    const sim = new FleetSimulator({ pumps: 8, seed: 53 }, fromMs);
    await prepareFleet(config, clients, sim.pumps.map((p) => ({ ...p, policy: POLICY })), { dir }, fromMs);
    const producer = new KinesisProducer(kinesis, { streamName: StreamName });
    let sent = 0;
    let elapsed = 0;
    const send = async (seconds: number): Promise<void> => {
      const batches = simulateBatches(sim, fromMs + elapsed * 1000, seconds, 5, elapsed);
      await producer.putAll(batches.map((b) => ({ partitionKey: b.pumpId, data: encodeJson(b) })));
      sent += batches.length;
      elapsed += seconds;
    };
    const list = async () => (await kinesis.send(new ListShardsCommand({ StreamName }))).Shards ?? [];
    // phase boundaries in the middle of windows, so windows straddle parent and child shards
    await send(125);
    const parent = (await list())[0]!;
    const start = BigInt(parent.HashKeyRange!.StartingHashKey!);
    const end = BigInt(parent.HashKeyRange!.EndingHashKey!);
    await kinesis.send(new SplitShardCommand({ StreamName, ShardToSplit: parent.ShardId!, NewStartingHashKey: String((start + end) / 2n) }));
    await waitFor('split done', async () => (await list()).length === 4, 10_000);
    await send(95);
    const children = (await list()).filter((s) => s.ParentShardId === parent.ShardId).sort((x, y) => (BigInt(x.HashKeyRange!.StartingHashKey!) < BigInt(y.HashKeyRange!.StartingHashKey!) ? -1 : 1));
    await kinesis.send(new MergeShardsCommand({ StreamName, ShardToMerge: children[0]!.ShardId!, AdjacentShardToMerge: children[1]!.ShardId! }));
    await waitFor('merge done', async () => (await list()).length === 5, 10_000);
    await send(60);
    toMs = fromMs + elapsed * 1000;
    shards = await list();
    // the live run, and the archive
    const worker = createWorker(config, clients);
    const archiver = createArchiver(config, clients);
    worker.start();
    archiver.start();
    const expected = sim.pumps.length * ((toMs - fromMs) / WINDOW_MS);
    try {
      await waitFor(
        'every live window applied and every record archived',
        async () => {
          const live = (await scanTable(stack, config.names.tables.windows)).filter((w) => String(w.sk).startsWith('w#'));
          return live.length >= expected && live.every((w) => w.state !== undefined) && (await archivedLines(stack)).length >= sent;
        },
        50_000,
        300,
      );
      // the reference is whole: no sample was late live
      expect((await scanTable(stack, config.names.tables.quarantine)).filter((q) => q.reason === 'late')).toEqual([]);
    } finally {
      await worker.stop();
      await archiver.stop();
    }
  }, 80_000);

  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([['kinesis'], ['archive']])('from %s', async (source) => {
    const live = await windowsOf(stack);
    expect(live).toHaveLength(8 * 28);
    expect(shards).toHaveLength(5);
    const run = await pumpwatch(
      ['replay', 'start', '--from', new Date(fromMs).toISOString(), '--to', new Date(toMs).toISOString(), '--source', source, '--job-id', `reshard-${source}`, '--no-progress'],
      stack.env,
    );
    expect(run.code).toBe(0);
    expect(await windowsOf(stack, `reshard-${source}`)).toEqual(live);
    if (source === 'kinesis') {
      // every shard was read to its end: the closed ones ended (handed over), the open ones are done
      const cursors = (await scanTable(stack, stack.config.names.tables.replay)).filter((i) => i.kind === 'cursor' && i.job === 'reshard-kinesis');
      const status = Object.fromEntries(cursors.map((c) => [c.partition, c.status]));
      for (const s of shards) expect(status[s.ShardId!]).toBe(s.SequenceNumberRange?.EndingSequenceNumber ? 'ended' : 'done');
    }
  }, 30_000);
});
