import { createWorker, type Worker } from '../../../services/consumer/worker';
import { FleetSimulator } from '../../../services/ingest/simulator';
import { type LocalStack, startLocalStack } from '../../../services/local/stack';
import { DEFAULT_PRESET } from '../../../services/model-server/training/presets';
import { createLearningCoordinator, type LearningCoordinator } from '../../../services/registry/learning';
import { ConditionPolicySchema } from '../../../shared/schemas/condition';
import { DynamoDbModelRegistry, pumpModelGroup } from '../../../shared/stores/model-registry';
import { DynamoDbPumpRegistry } from '../../../shared/stores/pump-registry';
import { DynamoDbStateStore } from '../../../shared/stores/state-store';
import { DynamoDbWindowStore, windowSortKey } from '../../../shared/stores/window-store';
import { waitFor } from '../../support/waiting';
import { healthyWindows, MODEL_TEST_ENV, startLiveTraffic } from './live';

/**
 * The learning phase against the real emulators: pumps of a type without a default model start
 * LEARNING (windows stored UNROUTED); the learning coordinator wired into the worker as its
 * `onUnrouted` hook trains each pump's own baseline from its stored windows, publishes it to
 * S3 and approves it in the registry, and the pump's later windows are scored by it through
 * the local SageMaker endpoint — no restart. Two coordinators (two workers) racing on one pump
 * publish one baseline.
 */
describe('learning phase', () => {
  let stack: LocalStack;
  let worker: Worker;
  let coordinator: LearningCoordinator;
  let traffic: { stop: () => Promise<void> };
  const sim = new FleetSimulator({ pumps: 2, seed: 8, types: ['learning-test'], sampleRateHz: 5, idPrefix: 'L-' });

  beforeAll(async () => {
    stack = await startLocalStack({ shardCount: 1, env: MODEL_TEST_ENV });
    const pumps = new DynamoDbPumpRegistry(stack.clients.doc, stack.config.names.tables.pumps);
    for (const p of sim.pumps) await pumps.put({ ...p, policy: ConditionPolicySchema.parse({ k: 2, n: 3 }), enrolledAt: Date.now() });
  }, 30_000);

  afterAll(async () => {
    await traffic?.stop();
    await coordinator?.stop();
    await worker?.stop();
    await stack?.stop();
  });

  it('a pump without a model is LEARNING, then gets its own baseline and is scored by it', async () => {
    // prepare: the coordinator wired into the worker as its onUnrouted hook
    const { config, clients } = stack;
    coordinator = createLearningCoordinator(config, clients, {
      preset: DEFAULT_PRESET,
      minWindows: 8,
      recheckMs: 1_000,
      onPublished: (pumpId) => worker.router.invalidate(pumpId),
    });
    worker = createWorker(config, clients, { onUnrouted: coordinator.onUnrouted });
    const windows = new DynamoDbWindowStore(clients.doc, config.names.tables.windows);
    const states = new DynamoDbStateStore(clients.doc, config.names.tables.state);
    const registry = new DynamoDbModelRegistry(clients.doc, config.names.tables.models);
    const pumpId = sim.pumps[0]!.pumpId;
    // act
    worker.start();
    traffic = startLiveTraffic(stack, sim);
    // assess: LEARNING first, windows UNROUTED
    await waitFor('the pump LEARNING', async () => (await states.get(pumpId))?.memory.state === 'LEARNING', 20_000);
    expect((await windows.query(pumpId)).every((w) => w.status === 'UNROUTED')).toBe(true);
    // its own baseline, approved by the policy
    const baseline = await waitFor('an approved baseline', () => registry.approved(pumpModelGroup(pumpId)), 30_000);
    expect(baseline.version).toBe(1);
    expect(baseline.target).toBe(`pumps/${pumpId}/v1/model.tar.gz`);
    expect(baseline.family).toBe(DEFAULT_PRESET.family);
    expect(baseline.metrics?.trainingWindows).toBeGreaterThanOrEqual(8);
    // later windows scored by it, the pump out of LEARNING
    await waitFor(
      'windows scored by the baseline',
      async () => (await windows.query(pumpId)).filter((w) => w.status === 'SCORED' && w.model?.target === baseline.target).length >= 2,
      20_000,
    );
    expect((await states.get(pumpId))?.memory.state).not.toBe('LEARNING');
    const history = await windows.query(pumpId);
    const firstScored = history.findIndex((w) => w.status === 'SCORED');
    expect(history.slice(0, firstScored).every((w) => w.status === 'UNROUTED')).toBe(true);
    // one baseline per pump, however many notifications came
    expect((await registry.list(pumpModelGroup(pumpId))).map((v) => v.status)).toEqual(['Approved']);
    expect(coordinator.stats.failures).toBe(0);
  }, 60_000);

  it('two workers training the same pump at once publish one baseline', async () => {
    // prepare: a pump's UNROUTED learning windows in the history, and two coordinators (two workers)
    const { config, clients } = stack;
    const registry = new DynamoDbModelRegistry(clients.doc, config.names.tables.models);
    const windows = new DynamoDbWindowStore(clients.doc, config.names.tables.windows);
    const pump = { pumpId: 'L-RACE', tenantId: 't', siteId: 's', pumpType: 'learning-test', sampleRateHz: 5, enrolledAt: Date.now() };
    for (const features of healthyWindows('learning-test', 2_000, 1, 5).filter((w) => w.pumpId === 'ref-0001')) {
      await windows.putIfAbsent({
        pumpId: pump.pumpId,
        sk: windowSortKey(features.windowStart),
        windowStart: features.windowStart,
        windowEnd: features.windowEnd,
        status: 'UNROUTED',
        features: { ...features, pumpId: pump.pumpId },
        level: 'NORMAL',
        state: 'LEARNING',
        attempts: 0,
        createdAt: Date.now(),
      });
    }
    const a = createLearningCoordinator(config, clients, { preset: DEFAULT_PRESET });
    const b = createLearningCoordinator(config, clients, { preset: DEFAULT_PRESET });
    // act
    const outcomes = await Promise.all([a.check(pump), b.check(pump)]);
    // assess: one trained; the other backed off (or saw the baseline already there)
    expect(outcomes.filter((o) => o.kind === 'trained')).toHaveLength(1);
    expect(outcomes.map((o) => o.kind).sort()[0]).toMatch(/^(exists|lost-race)$/);
    const versions = await registry.list(pumpModelGroup(pump.pumpId));
    expect(versions.filter((v) => v.status === 'Approved')).toHaveLength(1);
    expect(versions.filter((v) => v.status === 'Registering')).toHaveLength(0);
    // and a later check trains nothing more
    expect((await a.check(pump)).kind).toBe('exists');
    await a.stop();
    await b.stop();
  }, 60_000);
});
