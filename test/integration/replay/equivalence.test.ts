import { ListShardsCommand } from '@aws-sdk/client-kinesis';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashKeyOf } from '../../../services/consumer/kinesis/aggregation';
import { type LocalStack, startLocalStack } from '../../../services/local/stack';
import { simulatedHealthyWindows, DEFAULT_MODEL_FEATURES } from '../../../services/registry/bootstrap';
import { publishModel } from '../../../services/registry/publish';
import { trainModel } from '../../../services/model-server/training/train';
import { DynamoDbModelRegistry, typeModelGroup } from '../../../shared/stores/model-registry';
import { type History, liveHistory, pumpwatch, REPLAY_TEST_ENV, scanTable, windowsOf } from './support';

/**
 * A replay runs the live code path (decode ▸ window ▸ score ▸ condition): replaying from Kinesis
 * (AT_TIMESTAMP) and from the raw archive the archiver wrote gives the same window history —
 * features, scores, models, levels and states — as the live run on the same data; and a replay
 * pinned to an older model version scores with that version.
 */
describe('replay gives the live window history', () => {
  let stack: LocalStack;
  let dir: string;
  let history: History;
  let live: Record<string, unknown>[];

  const replay = (args: string[]) =>
    pumpwatch(['replay', 'start', '--from', new Date(history.fromMs).toISOString(), '--to', new Date(history.toMs).toISOString(), '--no-progress', ...args], stack.env);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pumpwatch-replay-'));
    stack = await startLocalStack({ shardCount: 2, env: REPLAY_TEST_ENV });
    history = await liveHistory(stack, { pumps: 4, seconds: 180, agoMs: 10 * 60_000, seed: 23, dir });
    live = await windowsOf(stack);
    // the fixed input has the effects worth comparing: 18 windows per pump, and an alarm
    expect(live).toHaveLength(4 * 18);
    expect(live.some((w) => w.state === 'ALARM')).toBe(true);
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([['kinesis'], ['archive']])('from %s', async (source) => {
    const run = await replay(['--source', source, '--job-id', `eq-${source}`, '--json']);
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as { status: string; summary: { windows: number; pumps: number; records: number; scored: number } };
    expect(out).toMatchObject({ status: 'completed', summary: { windows: 4 * 18, pumps: 4, scored: 4 * 18, records: history.records } });
    expect(await windowsOf(stack, `eq-${source}`)).toEqual(live);
  }, 30_000);

  it('with a pump filter, replays only those pumps (and reads only the shards they hash to)', async () => {
    const run = await replay(['--source', 'kinesis', '--pump', 'P-0002', '--pump', 'P-0004', '--job-id', 'two-pumps', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'completed', summary: { pumps: 2, windows: 2 * 18 } });
    expect(await windowsOf(stack, 'two-pumps')).toEqual(live.filter((w) => w.pumpId === 'P-0002' || w.pumpId === 'P-0004'));
    const shards = (await stack.clients.kinesis.send(new ListShardsCommand({ StreamName: stack.config.names.streamName }))).Shards!;
    const cursors = (await scanTable(stack, stack.config.names.tables.replay)).filter((i) => i.kind === 'cursor' && i.job === 'two-pumps');
    for (const shard of shards) {
      const [lo, hi] = [BigInt(shard.HashKeyRange!.StartingHashKey!), BigInt(shard.HashKeyRange!.EndingHashKey!)];
      const holds = ['P-0002', 'P-0004'].some((p) => hashKeyOf(p) >= lo && hashKeyOf(p) <= hi);
      expect({ shard: shard.ShardId, status: cursors.find((c) => c.partition === shard.ShardId)?.status }).toEqual({ shard: shard.ShardId, status: holds ? 'done' : 'skipped' });
    }
  }, 30_000);

  it('with a pinned older model version, scores with that version', async () => {
    // prepare: a second default model for the pump type, approved (it serves from now on)
    const registry = new DynamoDbModelRegistry(stack.clients.doc, stack.config.names.tables.models);
    const group = typeModelGroup('centrifugal');
    const v1 = (await registry.approved(group))!;
    const windows = simulatedHealthyWindows('centrifugal', stack.config.window, 5, 20, 99);
    const v2 = await publishModel(
      { registry, s3: stack.clients.s3, bucket: stack.config.names.bucketName },
      { modelGroup: group, modelId: `${group}-pca`, family: 'pca', description: 'v2 for the replay test' },
      (version) =>
        trainModel(windows, {
          modelId: `${group}-pca`,
          version: String(version),
          family: 'pca',
          familyOptions: { varianceExplained: 0.9, alpha: 0.001 },
          features: { channels: [...DEFAULT_MODEL_FEATURES.channels], stats: [...DEFAULT_MODEL_FEATURES.stats] },
          createdAt: Date.now(),
        }).artifact,
      'Approved',
      Date.now(),
    );
    expect(v2.version).toBe(v1.version + 1);
    // act
    const pinned = await replay(['--source', 'archive', '--model', String(v1.version), '--job-id', 'pinned-v1']);
    const approved = await replay(['--source', 'archive', '--job-id', 'approved-now']);
    // assess
    expect([pinned.code, approved.code]).toEqual([0, 0]);
    const byV1 = await windowsOf(stack, 'pinned-v1');
    const byV2 = await windowsOf(stack, 'approved-now');
    expect(byV1).toHaveLength(4 * 18);
    expect(new Set(byV1.map((w) => JSON.stringify(w.model)))).toEqual(new Set([JSON.stringify({ modelId: v1.modelId, version: String(v1.version), target: v1.target })]));
    expect(new Set(byV2.map((w) => (w.model as { version: string }).version))).toEqual(new Set([String(v2.version)]));
    // the pinned version's scores are the live ones (live ran on v1); the new version's are its own
    expect(byV1).toEqual(live);
    expect(byV2.map((w) => w.score)).not.toEqual(live.map((w) => w.score));
    // the same model given as <group>:<version> is the same choice
    const explicit = await replay(['--source', 'kinesis', '--model', `${group}:${v1.version}`, '--job-id', 'pinned-explicit']);
    expect(explicit.code).toBe(0);
    expect(await windowsOf(stack, 'pinned-explicit')).toEqual(live);
  }, 45_000);
});
