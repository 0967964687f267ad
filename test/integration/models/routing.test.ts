import { createWorker, type Worker } from '../../../services/consumer/worker';
import { FleetSimulator } from '../../../services/ingest/simulator';
import { type LocalStack, startLocalStack } from '../../../services/local/stack';
import { PCA_T2Q_PRESET } from '../../../services/model-server/training/presets';
import { approveVersion, rejectVersion } from '../../../services/registry/actions';
import { dynamoDbShadowWriter, ShadowScorer, shadowSummary } from '../../../services/registry/shadow';
import { fitPreset, publishTrained } from '../../../services/registry/trainer';
import { ConditionPolicySchema } from '../../../shared/schemas/condition';
import { DynamoDbModelRegistry, type ModelVersion } from '../../../shared/stores/model-registry';
import { DynamoDbPumpRegistry } from '../../../shared/stores/pump-registry';
import { DynamoDbWindowStore, type WindowItem } from '../../../shared/stores/window-store';
import { waitFor } from '../../support/waiting';
import { healthyWindows, MODEL_TEST_ENV, startLiveTraffic } from './live';

const PUMP_TYPE = 'routing-test';
const REFRESH_MS = Number(MODEL_TEST_ENV.PUMPWATCH_ROUTE_REFRESH_MS);
const WINDOW_MS = Number(MODEL_TEST_ENV.PUMPWATCH_WINDOW_SIZE_MS);
/** Writes after the decision that a window is closed (history, state) take a moment. */
const SLACK_MS = 500;

/**
 * Model changes are safe (DESIGN.md §4.5), against the real emulators with a live pump and one
 * running worker that is never restarted: approving switches its TargetModel within the route
 * refresh, rejecting rolls back, and a model answering ModelError leaves windows UNSCORED and
 * retried — later scored by the right model — never dropped.
 */
describe('model routing on a running worker', () => {
  let stack: LocalStack;
  let worker: Worker;
  let traffic: { stop: () => Promise<void> };
  let windows: DynamoDbWindowStore;
  let registry: DynamoDbModelRegistry;
  let v1: ModelVersion;
  let v2: ModelVersion;
  const sim = new FleetSimulator({ pumps: 1, seed: 21, types: [PUMP_TYPE], sampleRateHz: 5, idPrefix: 'R-' });
  const pumpId = sim.pumps[0]!.pumpId;

  const history = (): Promise<WindowItem[]> => windows.query(pumpId);
  const scoredBy = (items: WindowItem[], target: string) => items.filter((w) => w.status === 'SCORED' && w.model?.target === target);

  beforeAll(async () => {
    stack = await startLocalStack({ shardCount: 1, env: MODEL_TEST_ENV });
    const { config, clients } = stack;
    windows = new DynamoDbWindowStore(clients.doc, config.names.tables.windows);
    registry = new DynamoDbModelRegistry(clients.doc, config.names.tables.models);
    // A pump type without a default model: the pump is served by its own versions only.
    await new DynamoDbPumpRegistry(clients.doc, config.names.tables.pumps).put({
      ...sim.pumps[0]!,
      policy: ConditionPolicySchema.parse({ k: 2, n: 3 }),
      enrolledAt: Date.now(),
    });
    const deps = { registry, s3: clients.s3, bucket: config.names.bucketName };
    const trained = fitPreset(pumpId, PCA_T2Q_PRESET, healthyWindows(PUMP_TYPE, WINDOW_MS, 3, 5), Date.now());
    v1 = await publishTrained(deps, pumpId, PCA_T2Q_PRESET, trained, 'Approved', Date.now());
    v2 = await publishTrained(deps, pumpId, PCA_T2Q_PRESET, trained, 'PendingManualApproval', Date.now());
    worker = createWorker(config, clients);
    worker.start();
    traffic = startLiveTraffic(stack, sim);
  }, 60_000);

  afterAll(async () => {
    await traffic?.stop();
    await worker?.stop();
    await stack?.stop();
  });

  it('approving a version switches the TargetModel within the route refresh, without a restart', async () => {
    // prepare: windows scored by v1
    await waitFor('windows scored by v1', async () => scoredBy(await history(), v1.target).length >= 2, 20_000);
    // act
    const approvedAt = Date.now();
    await approveVersion(registry, v2.modelGroup, v2.version, approvedAt);
    // assess: the first v2 window, and every window handled after the refresh bound is v2
    const first = await waitFor('a window scored by v2', async () => scoredBy(await history(), v2.target)[0], 20_000);
    const switchMs = first.createdAt - approvedAt;
    process.stderr.write(`approval → first window scored by v2: ${switchMs} ms (route refresh ${REFRESH_MS} ms, windows ${WINDOW_MS} ms)\n`);
    expect(switchMs).toBeLessThanOrEqual(REFRESH_MS + WINDOW_MS + SLACK_MS);
    await new Promise((r) => setTimeout(r, 2 * WINDOW_MS));
    const after = (await history()).filter((w) => w.createdAt > approvedAt + REFRESH_MS + SLACK_MS);
    expect(after.length).toBeGreaterThanOrEqual(2);
    expect(after.every((w) => w.status === 'SCORED' && w.model?.target === v2.target)).toBe(true);
  }, 60_000);

  it('rejecting the approved version rolls back to the previous approved one', async () => {
    // act
    const rejectedAt = Date.now();
    const result = await rejectVersion(registry, v2.modelGroup, v2.version, rejectedAt);
    // assess
    expect(result.wasServing).toBe(true);
    expect(result.serving?.version).toBe(v1.version);
    await waitFor('a window scored by v1 again', async () => scoredBy(await history(), v1.target).find((w) => w.createdAt > rejectedAt), 20_000);
    await new Promise((r) => setTimeout(r, 2 * WINDOW_MS));
    const after = (await history()).filter((w) => w.createdAt > rejectedAt + REFRESH_MS + SLACK_MS);
    expect(after.length).toBeGreaterThanOrEqual(2);
    expect(after.every((w) => w.status === 'SCORED' && w.model?.target === v1.target)).toBe(true);
  }, 60_000);

  it('a model answering ModelError leaves windows UNSCORED and retried, then scored by it, none dropped', async () => {
    // prepare
    const faultFrom = Date.now();
    // act: v1 (serving) fails every call until the fault is cleared
    stack.sageMaker.injectFault(v1.target, { kind: 'ModelError', untilCleared: true, originalStatusCode: 500, message: 'injected' });
    const unscored = await waitFor(
      'three UNSCORED windows',
      async () => {
        const u = (await history()).filter((w) => w.status === 'UNSCORED' && w.createdAt >= faultFrom);
        return u.length >= 3 ? u : undefined;
      },
      20_000,
    );
    stack.sageMaker.clearFaults(v1.target);
    const clearedAt = Date.now();
    // assess: each of those windows is later SCORED by v1 (the serving model), after retries
    await waitFor(
      'the UNSCORED windows scored after the fault cleared',
      async () => {
        const now = await history();
        return unscored.every((u) => now.find((w) => w.sk === u.sk)?.status === 'SCORED');
      },
      30_000,
    );
    await waitFor('no UNSCORED window left', async () => (await history()).every((w) => w.status !== 'UNSCORED' || w.createdAt > clearedAt), 30_000);
    const all = await history();
    const resolved = all.filter((w) => unscored.some((u) => u.sk === w.sk));
    expect(resolved.every((w) => w.model?.target === v1.target && w.state !== undefined)).toBe(true);
    // the oldest was retried (newer ones queued behind it may have been resolved with it)
    expect(resolved.sort((a, b) => a.windowStart - b.windowStart)[0]!.attempts).toBeGreaterThanOrEqual(1);
    expect(stack.sageMaker.stats().endpoints[stack.config.names.modelEndpointName]!.targets[v1.target]!.errors.ModelError).toBeGreaterThanOrEqual(1);
    // never scored by the wrong model: nothing after the rollback went to v2
    expect(all.filter((w) => w.model?.target === v2.target && w.createdAt > faultFrom)).toEqual([]);
    // none dropped: one window per 2 s step, without a gap, from the first window to the last
    const starts = all.map((w) => w.windowStart).sort((a, b) => a - b);
    expect(new Set(starts).size).toBe(starts.length);
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBe(WINDOW_MS);
  }, 60_000);
  it('shadow-scores a pending version beside the live model, changing nothing live', async () => {
    // prepare: a pending v3 while v1 serves; the pump goes quiet so the passes see a fixed history
    await traffic.stop();
    await new Promise((r) => setTimeout(r, 2 * WINDOW_MS + 3_000));
    const { config, clients } = stack;
    const deps = { registry, s3: clients.s3, bucket: config.names.bucketName };
    const trained = fitPreset(pumpId, PCA_T2Q_PRESET, healthyWindows(PUMP_TYPE, WINDOW_MS, 3, 5, 99), Date.now());
    const v3 = await publishTrained(deps, pumpId, PCA_T2Q_PRESET, trained, 'PendingManualApproval', Date.now());
    const scorer = new ShadowScorer({ registry, windows, inference: worker.inference, writeShadow: dynamoDbShadowWriter(clients.doc, config.names.tables.windows) });
    const before = await history();
    // act
    const [pass] = await scorer.runOnce([pumpId]);
    // assess
    expect(pass).toMatchObject({ pumpId, pending: { target: v3.target } });
    expect(pass!.scored).toBeGreaterThan(0);
    const after = await history();
    const shadowed = after.filter((w) => w.shadow?.model.target === v3.target);
    expect(shadowed).toHaveLength(pass!.scored);
    for (const w of shadowed) {
      const was = before.find((b) => b.sk === w.sk)!;
      expect([w.status, w.model, w.score, w.state, w.level]).toEqual([was.status, was.model, was.score, was.state, was.level]);
    }
    expect(shadowSummary(after, v3.target).windows).toBe(shadowed.length);
    expect((await registry.approved(v3.modelGroup))?.version).toBe(v1.version);
    // a second pass has nothing left to do
    expect((await scorer.runOnce([pumpId]))[0]!.scored).toBe(0);
  }, 60_000);
});
