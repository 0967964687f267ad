import { LearningCoordinator, type LearningOptions } from '../../../services/registry/learning';
import { DEFAULT_PRESET } from '../../../services/model-server/training/presets';
import { isHealthyWindow } from '../../../services/registry/trainer';
import { ManualClock } from '../../../shared/clock';
import { getLogger } from '../../../shared/logging';
import type { PumpRecord } from '../../../shared/schemas/pump';
import { InMemoryModelRegistry, pumpModelGroup } from '../../../shared/stores/model-registry';
import type { WindowItem } from '../../../shared/stores/window-store';
import { completeInRegistry, InMemoryWindowStore, storedWindow } from './fakes';

const PUMP: PumpRecord = { pumpId: 'P-1', tenantId: 't', siteId: 's', pumpType: 'centrifugal', sampleRateHz: 1, enrolledAt: 0 };
const GROUP = pumpModelGroup(PUMP.pumpId);
const NOW = 1_800_000_000_000;

function setup(options: LearningOptions = {}) {
  const registry = new InMemoryModelRegistry();
  const windows = new InMemoryWindowStore();
  const clock = new ManualClock(NOW);
  const completion = completeInRegistry(registry);
  const published: string[] = [];
  const coordinator = new LearningCoordinator(
    { registry, windows, complete: completion.complete, clock, log: getLogger('test'), onPublished: (pumpId, v) => published.push(`${pumpId}:v${v.version}`) },
    { preset: DEFAULT_PRESET, ...options },
  );
  const addWindows = async (from: number, count: number, overrides: Partial<WindowItem> = {}) => {
    for (let i = from; i < from + count; i++) await windows.putIfAbsent(storedWindow(PUMP.pumpId, i, overrides));
  };
  return { registry, windows, clock, coordinator, completion, published, addWindows };
}

/** Lets background checks finish. */
async function settle(c: LearningCoordinator): Promise<void> {
  for (let i = 0; i < 200 && c.pending > 0; i++) await new Promise((r) => setImmediate(r));
}

describe('isHealthyWindow', () => {
  const filter = { minQualityRatio: 0.8 };
  it.each<[string, Partial<WindowItem>, boolean]>([
    ['an UNROUTED window judged NORMAL', {}, true],
    ['an UNROUTED window whose outcome was never recorded', { level: undefined, state: undefined }, true],
    ['a SCORED NORMAL window', { status: 'SCORED' }, true],
    ['a SCORED window without an outcome', { status: 'SCORED', level: undefined }, false],
    ['an UNSCORED window (never evaluated)', { status: 'UNSCORED', level: undefined }, false],
    ['a window whose own level was WARNING', { level: 'WARNING' }, false],
    ['a NORMAL window inside an ALARM episode', { state: 'ALARM' }, false],
  ])('%s → %s', (_name, overrides, healthy) => {
    expect(isHealthyWindow(storedWindow('P-1', 0, overrides), filter)).toBe(healthy);
  });

  it('leaves out incomplete windows', () => {
    const w = storedWindow('P-1', 0);
    const partial = { ...w, features: { ...w.features, quality: { ...w.features.quality, receivedSamples: 5 } } };
    expect(isHealthyWindow(partial, filter)).toBe(false);
  });
});

describe('LearningCoordinator.check', () => {
  it('waits until the pump has enough healthy UNROUTED windows', async () => {
    // prepare: 9 healthy, and unhealthy ones that must not count
    const { coordinator, registry, addWindows } = setup();
    await addWindows(0, 9);
    await addWindows(9, 3, { level: 'ALARM', state: 'ALARM' });
    await addWindows(12, 3, { status: 'SCORED' });
    // act
    const outcome = await coordinator.check(PUMP);
    // assess
    expect(outcome).toMatchObject({ kind: 'waiting', windows: 9, neededWindows: DEFAULT_PRESET.training.minWindows });
    expect(await registry.list(GROUP)).toEqual([]);
  });

  it('trains, publishes and approves the baseline once there are enough (auto-approval by default)', async () => {
    // prepare
    const { coordinator, registry, completion, published, addWindows } = setup();
    await addWindows(0, 12);
    // act
    const outcome = await coordinator.check(PUMP);
    // assess
    expect(outcome).toMatchObject({ kind: 'trained', windows: 12, version: { modelGroup: GROUP, version: 1, status: 'Approved', target: 'pumps/P-1/v1/model.tar.gz' } });
    expect(completion.built).toEqual([{ version: 1, modelId: 'pump-P-1-mset' }]);
    expect(published).toEqual(['P-1:v1']);
    const v = (await registry.approved(GROUP))!;
    expect(v.trainingPeriod).toEqual({ from: storedWindow('P-1', 0).windowStart, to: storedWindow('P-1', 11).windowEnd });
    expect(v.metrics?.trainingWindows).toBe(12);
  });

  it.each<[string, LearningOptions, number]>([
    ['a window count', { minWindows: 15 }, 15],
    ['a duration (first start to last end)', { minWindows: 10, minDurationMs: 200_000 }, 20],
  ])('the threshold can be %s', async (_name, options, enough) => {
    const { coordinator, addWindows } = setup(options);
    await addWindows(0, enough - 1);
    expect((await coordinator.check(PUMP)).kind).toBe('waiting');
    await addWindows(enough - 1, 1);
    expect((await coordinator.check(PUMP)).kind).toBe('trained');
  });

  it('leaves the baseline PendingManualApproval under a manual policy, and trains no second one', async () => {
    const { coordinator, registry, addWindows } = setup({ approval: 'manual' });
    await addWindows(0, 12);
    expect(await coordinator.check(PUMP)).toMatchObject({ kind: 'trained', version: { status: 'PendingManualApproval' } });
    await addWindows(12, 12);
    expect(await coordinator.check(PUMP)).toMatchObject({ kind: 'exists', version: { version: 1 } });
    expect((await registry.list(GROUP)).map((v) => v.status)).toEqual(['PendingManualApproval']);
  });

  it('of two trainers racing on one pump, one publishes and the other backs off', async () => {
    // prepare: two coordinators (two workers) on one registry
    const a = setup();
    await a.addWindows(0, 12);
    const b = new LearningCoordinator({ registry: a.registry, windows: a.windows, complete: a.completion.complete, clock: a.clock }, { preset: DEFAULT_PRESET });
    // act
    const outcomes = await Promise.all([a.coordinator.check(PUMP), b.check(PUMP)]);
    // assess
    expect(outcomes.map((o) => o.kind).sort()).toEqual(['lost-race', 'trained']);
    expect((await a.registry.list(GROUP)).map((v) => `v${v.version} ${v.status}`)).toEqual(['v2 Rejected', 'v1 Approved']);
  });

  it('treats an old Registering version as a crashed trainer\'s: rejects it and trains', async () => {
    const { coordinator, registry, clock, addWindows } = setup({ staleRegisteringMs: 60_000 });
    await addWindows(0, 12);
    await registry.reserve({ modelGroup: GROUP, modelId: 'm', family: 'mset' }, NOW);
    expect((await coordinator.check(PUMP)).kind).toBe('exists');
    clock.advance(61_000);
    expect(await coordinator.check(PUMP)).toMatchObject({ kind: 'trained', version: { version: 2 } });
    expect((await registry.get(GROUP, 1))?.status).toBe('Rejected');
  });

  it('after a rejected baseline, learns again from the windows that came after it', async () => {
    const { coordinator, registry, addWindows } = setup();
    await addWindows(0, 12);
    const first = await coordinator.check(PUMP);
    if (first.kind !== 'trained') throw new Error(first.kind);
    await registry.setStatus(GROUP, 1, 'Rejected', NOW);
    expect(await coordinator.check(PUMP)).toMatchObject({ kind: 'waiting', windows: 0 });
    await addWindows(12, 10);
    const second = await coordinator.check(PUMP);
    expect(second).toMatchObject({ kind: 'trained', version: { version: 2 } });
    if (second.kind === 'trained') expect(second.version.trainingPeriod!.from).toBeGreaterThanOrEqual(first.version.trainingPeriod!.to);
  });

  it('reports a failure as an outcome and releases its reservation', async () => {
    const { registry, windows, clock, addWindows } = setup();
    await addWindows(0, 12);
    const failing = new LearningCoordinator(
      { registry, windows, clock, complete: async () => Promise.reject(new Error('S3 down')) },
      { preset: DEFAULT_PRESET },
    );
    expect(await failing.check(PUMP)).toMatchObject({ kind: 'failed', error: 'Error: S3 down' });
    expect((await registry.list(GROUP)).map((v) => v.status)).toEqual(['Rejected']);
    expect(failing.stats).toMatchObject({ failures: 1, lastFailure: 'P-1: Error: S3 down' });
  });
});

describe('LearningCoordinator.onUnrouted', () => {
  it('checks in the background, at most once per recheck period, and never throws into the sink', async () => {
    // prepare
    const { coordinator, clock, windows, addWindows } = setup({ recheckMs: 10_000 });
    await addWindows(0, 5);
    // act: a burst of notifications
    for (let i = 0; i < 5; i++) coordinator.onUnrouted(PUMP);
    await settle(coordinator);
    // assess
    expect(coordinator.stats).toMatchObject({ notifications: 5, checks: 1 });
    clock.advance(10_000);
    windows.failQueries = true;
    expect(() => coordinator.onUnrouted(PUMP)).not.toThrow();
    await settle(coordinator);
    expect(coordinator.stats).toMatchObject({ checks: 2, failures: 1 });
  });

  it('trains once enough windows arrived, then only looks again after the recheck period', async () => {
    const { coordinator, clock, addWindows, registry } = setup({ recheckMs: 1_000 });
    for (let i = 0; i < 12; i++) {
      await addWindows(i, 1);
      coordinator.onUnrouted(PUMP);
      await settle(coordinator);
      clock.advance(1_000);
    }
    expect(coordinator.stats.trained).toBe(1);
    expect((await registry.list(GROUP)).map((v) => v.status)).toEqual(['Approved']);
  });

  it('stop() is idempotent and ends the notifications', async () => {
    const { coordinator } = setup();
    await coordinator.stop();
    await coordinator.stop();
    coordinator.onUnrouted(PUMP);
    expect(coordinator.stats.notifications).toBe(0);
    expect(await coordinator.check(PUMP)).toEqual({ kind: 'stopped' });
  });
});
