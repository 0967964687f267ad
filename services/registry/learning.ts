import type { AwsClients } from '../../shared/aws/clients';
import { type Clock, sleep, systemClock } from '../../shared/clock';
import type { Config } from '../../shared/config';
import { getLogger, type Logger } from '../../shared/logging';
import type { PumpRecord } from '../../shared/schemas/pump';
import { type ModelRegistry, type ModelStatus, type ModelVersion, pumpModelGroup } from '../../shared/stores/model-registry';
import { DynamoDbWindowStore, type WindowStore } from '../../shared/stores/window-store';
import type { ModelArtifact } from '../model-server/core/artifact';
import { DEFAULT_PRESET, type DetectionPreset } from '../model-server/training/presets';
import { completeModel } from './publish';
import { fitPreset, loadTrainingWindows, registrationOf, withVersion } from './trainer';
import { createModelRegistry } from './factory';

/**
 * The learning phase of a pump: a pump without an approved model (its own or its type's) is
 * LEARNING and its windows are stored UNROUTED. The coordinator hears about each such window
 * (`onUnrouted`, called by the window sink), and once the pump's stored history holds enough
 * healthy UNROUTED windows it fits the pump's baseline from them, publishes it as a new version
 * of `pump-<pumpId>` and approves it (or leaves it PendingManualApproval for a person).
 *
 * Off the hot path: `onUnrouted` only queues the pump; checks and training run in the
 * background, a few at a time, and their errors are logged, never thrown into the sink.
 *
 * Safe with several workers (a pump's windows may be handled by another worker after a lease
 * move, and two workers may look at one pump at once):
 * - no training while the group holds an Approved, PendingManualApproval or recent Registering
 *   version (someone is training, or has);
 * - after reserving its version (an atomic, conditional write in the registry), a trainer
 *   re-reads the group and backs off — marking its reservation Rejected — when another version
 *   is Approved/Pending or is a recent Registering one with a lower number. Of two concurrent
 *   trainers the lower reservation wins, so a pump gets one baseline.
 * A Registering version older than `staleRegisteringMs` is a crashed trainer's: it is rejected
 * and no longer blocks. After a person rejects a baseline the pump learns again, from windows
 * after the rejected model's training period.
 */

/** Who approves a baseline: the coordinator at once, or a person (`pumpwatch models approve`). */
export type ApprovalPolicy = 'auto' | 'manual';

/** Publishes a reserved version: writes its artifact and sets its status. */
export type CompleteVersion = (
  reserved: ModelVersion,
  build: (version: number) => ModelArtifact,
  status: Exclude<ModelStatus, 'Registering'>,
  nowMs: number,
) => Promise<ModelVersion>;

export interface LearningOptions {
  /** Windowing, features, family and training limits (default DEFAULT_PRESET); per pump when a function. */
  readonly preset?: DetectionPreset | ((pump: PumpRecord) => DetectionPreset);
  /** Healthy UNROUTED windows needed (default: the preset's `training.minWindows`, which this replaces). */
  readonly minWindows?: number;
  /** And the span they must cover, first start to last end (default 0: the count alone decides). */
  readonly minDurationMs?: number;
  /** Default `auto` (baselines are approved as they are trained). */
  readonly approval?: ApprovalPolicy | ((pump: PumpRecord) => ApprovalPolicy);
  /** Pumps checked or trained at the same time (default 2). */
  readonly concurrency?: number;
  /** After a check, the pump is not looked at again for this long (default 10 s). */
  readonly recheckMs?: number;
  /** After a failed check (default 60 s). */
  readonly failureBackoffMs?: number;
  /** A Registering version older than this is abandoned (default 10 min). */
  readonly staleRegisteringMs?: number;
  /** Train on at most the newest this many windows (default 5000). */
  readonly maxTrainingWindows?: number;
}

export interface LearningDeps {
  readonly registry: ModelRegistry;
  readonly windows: WindowStore;
  readonly complete: CompleteVersion;
  readonly clock?: Clock;
  readonly log?: Logger;
  /** Called after a baseline was published (e.g. to drop the pump's cached route at once). */
  readonly onPublished?: (pumpId: string, version: ModelVersion) => void;
}

/** What one check of a pump did. */
export type LearningOutcome =
  | { readonly kind: 'trained'; readonly version: ModelVersion; readonly windows: number }
  | { readonly kind: 'waiting'; readonly windows: number; readonly neededWindows: number; readonly spanMs: number; readonly neededSpanMs: number }
  | { readonly kind: 'exists'; readonly version: ModelVersion }
  | { readonly kind: 'lost-race'; readonly winner: ModelVersion }
  | { readonly kind: 'failed'; readonly error: string }
  | { readonly kind: 'stopped' };

/** Bounds of an explicit check (the SKAB evaluation trains on exactly its training part). */
export interface CheckOptions {
  /** Only windows starting at or after this. */
  readonly from?: number;
  /** Only windows ending at or before this. */
  readonly to?: number;
  /** Train on whatever healthy windows there are (the trainer still needs the preset's minimum). */
  readonly force?: boolean;
}

/** Counters for logs and tests. */
export interface LearningStats {
  notifications: number;
  checks: number;
  trained: number;
  lostRaces: number;
  failures: number;
  /** The newest failure, `pumpId: error`. */
  lastFailure?: string;
}

interface PumpSchedule {
  nextCheckAt: number;
  queued: boolean;
}

export class LearningCoordinator {
  readonly stats: LearningStats = { notifications: 0, checks: 0, trained: 0, lostRaces: 0, failures: 0 };
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly schedule = new Map<string, PumpSchedule>();
  private readonly queue: PumpRecord[] = [];
  private readonly running = new Set<Promise<unknown>>();
  private readonly perPump = new Map<string, Promise<LearningOutcome>>();
  private active = 0;
  private stopped = false;

  constructor(
    private readonly deps: LearningDeps,
    private readonly options: LearningOptions = {},
  ) {
    this.clock = deps.clock ?? systemClock;
    this.log = deps.log ?? getLogger('learning');
  }

  /**
   * The window sink's hook: the pump's window was applied without a model. Returns at once;
   * the check runs in the background unless the pump was looked at recently.
   */
  readonly onUnrouted = (pump: PumpRecord): void => {
    if (this.stopped) return;
    this.stats.notifications += 1;
    const s = this.schedule.get(pump.pumpId);
    if (s?.queued || (s && this.clock.now() < s.nextCheckAt)) return;
    this.schedule.set(pump.pumpId, { nextCheckAt: s?.nextCheckAt ?? 0, queued: true });
    this.queue.push(pump);
    this.drain();
  };

  /** Checks and trainings in progress or queued. */
  get pending(): number {
    return this.queue.length + this.active;
  }

  private drain(): void {
    const limit = Math.max(1, this.options.concurrency ?? 2);
    while (!this.stopped && this.active < limit && this.queue.length > 0) {
      const pump = this.queue.shift()!;
      this.active += 1;
      const run = this.check(pump).then((outcome) => {
        const failed = outcome.kind === 'failed';
        const delay = failed ? (this.options.failureBackoffMs ?? 60_000) : (this.options.recheckMs ?? 10_000);
        this.schedule.set(pump.pumpId, { nextCheckAt: this.clock.now() + delay, queued: false });
      });
      this.running.add(run);
      void run.finally(() => {
        this.running.delete(run);
        this.active -= 1;
        this.drain();
      });
    }
  }

  private presetOf(pump: PumpRecord): DetectionPreset {
    const p = this.options.preset ?? DEFAULT_PRESET;
    return typeof p === 'function' ? p(pump) : p;
  }

  private approvalOf(pump: PumpRecord): ApprovalPolicy {
    const a = this.options.approval ?? 'auto';
    return typeof a === 'function' ? a(pump) : a;
  }

  /** True for a version that means "this pump has, or is getting, a baseline". */
  private holds(v: ModelVersion, now: number): boolean {
    if (v.status === 'Approved' || v.status === 'PendingManualApproval') return true;
    return v.status === 'Registering' && now - v.createdAt < (this.options.staleRegisteringMs ?? 600_000);
  }

  /**
   * Looks at one pump now: trains and publishes its baseline when it has enough healthy
   * UNROUTED windows and no baseline yet. Never throws (a failure is an outcome). Checks of
   * one pump run one after another.
   */
  check(pump: PumpRecord, bounds: CheckOptions = {}): Promise<LearningOutcome> {
    const prev = this.perPump.get(pump.pumpId) ?? Promise.resolve<LearningOutcome>({ kind: 'stopped' });
    const next = prev.then(() => this.checkNow(pump, bounds));
    this.perPump.set(pump.pumpId, next);
    void next.finally(() => {
      if (this.perPump.get(pump.pumpId) === next) this.perPump.delete(pump.pumpId);
    });
    return next;
  }

  private async checkNow(pump: PumpRecord, bounds: CheckOptions): Promise<LearningOutcome> {
    if (this.stopped) return { kind: 'stopped' };
    this.stats.checks += 1;
    const pumpId = pump.pumpId;
    const group = pumpModelGroup(pumpId);
    let reserved: ModelVersion | undefined;
    try {
      const now = this.clock.now();
      const versions = await this.deps.registry.list(group);
      const existing = versions.find((v) => this.holds(v, now));
      if (existing) return { kind: 'exists', version: existing };
      for (const v of versions) {
        if (v.status === 'Registering') {
          this.log.warn({ pumpId, model: v.target }, 'abandoned model reservation rejected');
          await this.deps.registry.setStatus(group, v.version, 'Rejected', now);
        }
      }
      const preset = this.presetOf(pump);
      // After a rejected baseline, learn again from what came after its training data.
      const rejectedUntil = versions.reduce<number | undefined>((m, v) => (v.status === 'Rejected' && v.trainingPeriod ? Math.max(m ?? 0, v.trainingPeriod.to) : m), undefined);
      const from = bounds.from ?? rejectedUntil;
      const vectors = await loadTrainingWindows(this.deps.windows, pumpId, {
        ...(from !== undefined ? { from } : {}),
        ...(bounds.to !== undefined ? { to: bounds.to } : {}),
        statuses: ['UNROUTED'],
        minQualityRatio: preset.training.minQualityRatio,
        maxWindows: this.options.maxTrainingWindows ?? 5_000,
      });
      const neededWindows = this.options.minWindows ?? preset.training.minWindows;
      const neededSpanMs = this.options.minDurationMs ?? 0;
      const spanMs = vectors.length > 0 ? vectors[vectors.length - 1]!.windowEnd - vectors[0]!.windowStart : 0;
      if (!bounds.force && (vectors.length < neededWindows || spanMs < neededSpanMs)) {
        return { kind: 'waiting', windows: vectors.length, neededWindows, spanMs, neededSpanMs };
      }
      const trained = fitPreset(pumpId, preset, vectors, now, bounds.force ? undefined : neededWindows);
      reserved = await this.deps.registry.reserve(registrationOf(pumpId, preset, trained, 'baseline'), now);
      const after = await this.deps.registry.list(group);
      const winner = after.find(
        (v) => v.version !== reserved!.version && this.holds(v, this.clock.now()) && (v.status !== 'Registering' || v.version < reserved!.version),
      );
      if (winner) {
        await this.deps.registry.setStatus(group, reserved.version, 'Rejected', this.clock.now());
        this.stats.lostRaces += 1;
        this.log.info({ pumpId, model: reserved.target, winner: winner.target }, 'another trainer is publishing this pump\'s baseline; backing off');
        return { kind: 'lost-race', winner };
      }
      const status = this.approvalOf(pump) === 'auto' ? 'Approved' : 'PendingManualApproval';
      const version = await this.deps.complete(reserved, (v) => withVersion(trained.artifact, v), status, this.clock.now());
      reserved = undefined;
      this.stats.trained += 1;
      this.log.info({ pumpId, model: version.target, status, windows: trained.windows, preset: preset.name }, 'pump baseline published');
      this.deps.onPublished?.(pumpId, version);
      return { kind: 'trained', version, windows: trained.windows };
    } catch (err) {
      this.stats.failures += 1;
      const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      this.stats.lastFailure = `${pumpId}: ${error}`;
      this.log.warn({ pumpId, err: error }, 'pump baseline not trained');
      if (reserved) {
        // Release the reservation so a later check can try again.
        await this.deps.registry.setStatus(group, reserved.version, 'Rejected', this.clock.now()).catch(() => undefined);
      }
      return { kind: 'failed', error };
    }
  }

  /** Stops taking notifications and waits (up to `timeoutMs`) for checks in progress. Idempotent. */
  async stop(timeoutMs = 30_000): Promise<void> {
    this.stopped = true;
    this.queue.length = 0;
    const inFlight = [...this.running, ...this.perPump.values()];
    if (inFlight.length === 0) return;
    const timeout = new AbortController();
    await Promise.race([Promise.allSettled(inFlight), sleep(timeoutMs, timeout.signal).catch(() => undefined)]);
    timeout.abort();
  }
}

/**
 * A coordinator on the stage's registry table, window table and artifact bucket — what a
 * worker passes as `onUnrouted` (`coordinator.onUnrouted`). `registry` overrides the local
 * table (e.g. the SageMaker Model Registry adapter on AWS).
 */
export function createLearningCoordinator(
  config: Config,
  clients: Pick<AwsClients, 'doc' | 's3'>,
  options: LearningOptions & { readonly registry?: ModelRegistry; readonly clock?: Clock; readonly onPublished?: LearningDeps['onPublished'] } = {},
): LearningCoordinator {
  const registry = options.registry ?? createModelRegistry(config, clients);
  const publish = { registry, s3: clients.s3, bucket: config.names.bucketName };
  return new LearningCoordinator(
    {
      registry,
      windows: new DynamoDbWindowStore(clients.doc, config.names.tables.windows),
      complete: (reserved, build, status, nowMs) => completeModel(publish, reserved, build, status, nowMs),
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.onPublished ? { onPublished: options.onPublished } : {}),
    },
    options,
  );
}
