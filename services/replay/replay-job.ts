import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { AwsClients } from '../../shared/aws/clients';
import { type Clock, sleep, systemClock } from '../../shared/clock';
import type { Config } from '../../shared/config';
import { PumpwatchError, ValidationError } from '../../shared/errors';
import { Faults } from '../../shared/faults';
import { getLogger, type Logger } from '../../shared/logging';
import type { PumpRecord } from '../../shared/schemas/pump';
import { pumpModelGroup } from '../../shared/stores/model-registry';
import { DynamoDbOutboxStore } from '../../shared/stores/outbox-store';
import { DynamoDbPumpRegistry, type PumpRegistry } from '../../shared/stores/pump-registry';
import { DynamoDbQuarantineStore } from '../../shared/stores/quarantine-store';
import {
  DynamoDbReplayStore,
  type ReplayJob,
  type ReplayProgress,
  type ReplayRunner,
  type ReplayStatus,
  type ReplaySummary,
} from '../../shared/stores/replay-store';
import { DynamoDbWindowStore, type WindowItem } from '../../shared/stores/window-store';
import { SPARSE_INDEX_PARTITIONS } from '../../shared/tables';
import { DynamoDbHandoffStore, type HandoffStore } from '../consumer/pipeline/handoff-store';
import { createInferenceClient, InferenceClient } from '../consumer/pipeline/inference-client';
import { createOutboxRelay, type OutboxRelay } from '../consumer/pipeline/outbox-relay';
import { PipelineProcessor } from '../consumer/pipeline/pipeline-processor';
import { PumpDirectory } from '../consumer/pipeline/pump-directory';
import { WindowSink } from '../consumer/pipeline/window-sink';
import type { PumpSnapshot } from '../consumer/core/windowing';
import { ArchiveReplaySource } from './archive-source';
import { KinesisReplaySource } from './kinesis-source';
import { parseModelChoice, ReplayRouter, resolvePinned, snapshotApproved } from './routing';
import type { ReplaySourceReader } from './sources';
import { buildSpec, checkJobId, defaultJobId, describeSpec, type ReplayRequest, sameSpec } from './spec';
import { createModelRegistry } from '../registry/factory';

/**
 * How far around the range a replay reads by arrival time: records arrive up to the allowed clock
 * skew before their event time and some time after it (device buffering; on AWS Firehose buffers
 * up to 900 s before an object is written, and names it by delivery time). It is also how much
 * longer than live a replay waits before closing a silent pump's windows, since archive arrival
 * times are only as fine as the archive's objects.
 */
export const REPLAY_ARRIVAL_MARGIN_MS = 20 * 60_000;

/** Another process is running the job. */
export class ReplayBusyError extends PumpwatchError {
  constructor(message: string) {
    super(message, { code: 'REPLAY_BUSY' });
  }
}

export interface ReplayRunOptions {
  readonly clock?: Clock;
  /** Aborting stops the job gracefully (status `interrupted`; run it again to resume). */
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: ReplayProgress) => void;
  readonly progressIntervalMs?: number;
  /** How often the runner renews its heartbeat (and sees a cancel). */
  readonly heartbeatMs?: number;
  /** A runner whose heartbeat is older than this is considered dead. */
  readonly staleAfterMs?: number;
  /** How long UNSCORED windows are retried at the end before the job fails (run it again to retry). */
  readonly drainTimeoutMs?: number;
  /** Take the job over even if its runner looks alive. */
  readonly force?: boolean;
}

/** What this run did (a resumed or repeated run counts only its own work). */
export interface ReplayRunStats {
  records: number;
  samples: number;
  filtered: number;
  /** Windows handled by this run; `written` of them were new, the rest already stored. */
  windows: number;
  written: number;
  scored: number;
  unscored: number;
  unrouted: number;
  quarantined: number;
  events: number;
  invocations: number;
  durationMs: number;
}

export interface ReplayOutcome {
  /** The job as stored at the end. */
  readonly job: ReplayJob;
  /** The job had already completed: nothing was read or written. */
  readonly noop: boolean;
  /** An earlier run had started the job; this run went on from its cursors. */
  readonly resumed: boolean;
  readonly run: ReplayRunStats;
}

/** The pump registry, read-only: a replay never enrols pumps (unknown ones get the defaults in memory). */
class ReadOnlyPumpRegistry implements PumpRegistry {
  constructor(private readonly inner: PumpRegistry) {}
  get(pumpId: string): Promise<PumpRecord | undefined> {
    return this.inner.get(pumpId);
  }
  async put(): Promise<boolean> {
    return false;
  }
  list(): Promise<PumpRecord[]> {
    return this.inner.list();
  }
}

/** Hand-offs between a job's parent and child shards, apart from the live ones and other jobs'. */
class JobHandoffStore implements HandoffStore {
  constructor(
    private readonly inner: HandoffStore,
    private readonly jobId: string,
  ) {}
  save(shardId: string, snapshots: readonly PumpSnapshot[], nowMs: number): Promise<void> {
    return this.inner.save(`r#${this.jobId}#${shardId}`, snapshots, nowMs);
  }
  load(shardId: string): Promise<PumpSnapshot[]> {
    return this.inner.load(`r#${this.jobId}#${shardId}`);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the job's runner still runs: its heartbeat is fresh, and on this host its process exists. */
function runnerAlive(runner: ReplayRunner | undefined, nowMs: number, staleAfterMs: number): boolean {
  if (!runner) return false;
  if (runner.host === hostname() && runner.pid !== process.pid && !pidAlive(runner.pid)) return false;
  return nowMs - runner.heartbeatAt < staleAfterMs;
}

const emptyStats = (): ReplayRunStats => ({
  records: 0,
  samples: 0,
  filtered: 0,
  windows: 0,
  written: 0,
  scored: 0,
  unscored: 0,
  unrouted: 0,
  quarantined: 0,
  events: 0,
  invocations: 0,
  durationMs: 0,
});

/**
 * Runs a replay job to its end (or resumes it): the composition of the replay service.
 *
 * The job re-runs history through the live code path — decode ▸ window ▸ score ▸ condition
 * (PipelineProcessor and WindowSink in replay mode) — from Kinesis or the raw archive, and writes
 * window history tagged with the job (`r#<job>#<start>`, `replayJobId`), its own condition chain
 * per pump (in the replay table, never the live pump state) and, with events `tagged`, events with
 * `detail.replay` that the live subscriptions exclude.
 *
 * Resumable and idempotent: progress is a cursor per input partition in the replay table, kept
 * (as live) before the first record of the oldest open window, and every effect is put-if-absent
 * with a deterministic key; a killed job run again goes on from its cursors, and a completed job
 * run again does nothing. The routing is frozen in the job when it is created.
 */
export async function runReplayJob(config: Config, clients: AwsClients, request: ReplayRequest, options: ReplayRunOptions = {}): Promise<ReplayOutcome> {
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const { tables } = config.names;
  const store = new DynamoDbReplayStore(clients.doc, tables.replay);
  const registry = createModelRegistry(config, clients);
  const spec = buildSpec(request, config.window, started);
  const jobId = request.jobId ? checkJobId(request.jobId) : defaultJobId(spec);
  const log = getLogger('replay').child({ jobId });
  const staleAfterMs = options.staleAfterMs ?? 10_000;
  const runner: ReplayRunner = { runId: randomUUID(), host: hostname(), pid: process.pid, startedAt: started, heartbeatAt: started };

  // Create the job, or take it over from a run that is gone.
  let job = await store.getJob(jobId);
  let resumed = false;
  if (!job) {
    const choice = parseModelChoice(spec.model);
    // With a pump filter only the groups that can serve those pumps are kept (the job item stays small).
    const snapshot = await snapshotApproved(registry);
    const own = spec.pumps ? new Set(spec.pumps.map((p) => pumpModelGroup(p))) : undefined;
    const approved = own ? Object.fromEntries(Object.entries(snapshot).filter(([g]) => !g.startsWith('pump-') || own.has(g))) : snapshot;
    const pinned = choice.kind === 'model' ? await resolvePinned(registry, choice.modelGroup, choice.version) : undefined;
    const created: ReplayJob = {
      jobId,
      kind: 'job',
      status: 'running',
      spec,
      approved,
      ...(pinned ? { pinned } : {}),
      createdAt: started,
      updatedAt: started,
      runs: 1,
      activeMs: 0,
      runner,
    };
    if (await store.createJob(created)) job = created;
    else job = await store.getJob(jobId);
    if (!job) throw new ReplayBusyError(`replay job ${jobId} could not be created`);
    if (job !== created) resumed = true;
  } else {
    resumed = true;
  }
  if (resumed) {
    if (!sameSpec(job.spec, spec)) {
      throw new ValidationError(`replay job ${jobId} exists with other inputs (${describeSpec(job.spec)}); use another --job-id`);
    }
    if (job.status === 'completed') {
      log.info({}, 'replay job already completed; nothing to do');
      return { job, noop: true, resumed: true, run: emptyStats() };
    }
    if (job.runner?.runId !== runner.runId) {
      if (job.status === 'running' && runnerAlive(job.runner, started, staleAfterMs) && !options.force) {
        throw new ReplayBusyError(
          `replay job ${jobId} is running on ${job.runner!.host} (pid ${job.runner!.pid}, heartbeat ${Math.round((started - job.runner!.heartbeatAt) / 1000)} s ago); ` +
            `cancel it, wait ${Math.round(staleAfterMs / 1000)} s after its runner died, or take it over with --force`,
        );
      }
      if (!(await store.claim(jobId, runner, job.runner?.runId))) throw new ReplayBusyError(`replay job ${jobId} was taken over by another run`);
      job = (await store.getJob(jobId))!;
    }
  }
  log.info({ spec: describeSpec(spec), resumed, run: job.runs }, 'replay job running');
  return new ReplayRun(config, clients, store, job, runner, clock, log, options).run(resumed);
}

/** One run of a job: builds the pipeline in replay mode, reads the source, summarizes. */
class ReplayRun {
  private readonly abort = new AbortController();
  private readonly signal: AbortSignal;
  private readonly processors: PipelineProcessor[] = [];
  private readonly sinks: WindowSink[] = [];
  private readonly faults: Faults;
  private readonly windows: DynamoDbWindowStore;
  private readonly quarantine: DynamoDbQuarantineStore;
  private readonly directory: PumpDirectory;
  private readonly inference: InferenceClient;
  private readonly relay: OutboxRelay;
  private readonly router: ReplayRouter;
  private readonly handoff: HandoffStore;
  private readonly source: ReplaySourceReader;
  private readonly startedAt: number;
  private cancelled = false;
  private fenced = false;

  constructor(
    private readonly config: Config,
    private readonly clients: AwsClients,
    private readonly store: DynamoDbReplayStore,
    private readonly job: ReplayJob,
    private readonly runner: ReplayRunner,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly options: ReplayRunOptions,
  ) {
    this.startedAt = clock.now();
    this.signal = options.signal ? AbortSignal.any([options.signal, this.abort.signal]) : this.abort.signal;
    const { tables } = config.names;
    this.faults = new Faults(config.faults);
    this.windows = new DynamoDbWindowStore(clients.doc, tables.windows);
    this.quarantine = new DynamoDbQuarantineStore(clients.doc, tables.quarantine);
    this.directory = new PumpDirectory(new ReadOnlyPumpRegistry(new DynamoDbPumpRegistry(clients.doc, tables.pumps)), clock, 10 * 60_000);
    this.router = new ReplayRouter(parseModelChoice(job.spec.model), job.approved, createModelRegistry(config, clients), job.pinned);
    this.inference = createInferenceClient(config, clients.sageMakerRuntime, clock);
    this.relay = createOutboxRelay(config, new DynamoDbOutboxStore(clients.doc, tables.events), clients.eventBridge, clock, log.child({ part: 'outbox' }));
    this.handoff = new JobHandoffStore(new DynamoDbHandoffStore(clients.doc, tables.windows), job.jobId);
    const spec = job.spec;
    // A cursor write per batch: cheap next to the batch's window writes, and a resume re-reads little.
    const checkpoint = { everyMarks: 1, everyMs: 1_000 };
    const drainTimeoutMs = Math.min(30_000, options.drainTimeoutMs ?? 60_000);
    this.source =
      spec.source === 'kinesis'
        ? new KinesisReplaySource(
            {
              streamName: config.names.streamName,
              jobId: job.jobId,
              startAtMs: spec.fromMs - REPLAY_ARRIVAL_MARGIN_MS,
              endAtMs: spec.toMs + REPLAY_ARRIVAL_MARGIN_MS,
              ...(spec.pumps ? { pumps: spec.pumps } : {}),
              maxRecords: config.replay.batchRecords,
              concurrency: 8,
              checkpoint,
              drainTimeoutMs,
              iteratorTimeoutMs: 3_000,
            },
            { kinesis: clients.kinesis, store, clock, log },
          )
        : new ArchiveReplaySource(
            {
              bucket: config.names.bucketName,
              jobId: job.jobId,
              fromMs: spec.fromMs,
              toMs: spec.toMs,
              marginMs: REPLAY_ARRIVAL_MARGIN_MS,
              batchRecords: config.replay.batchRecords,
              prefetch: 4,
              checkpoint,
              drainTimeoutMs,
            },
            { s3: clients.s3, store, clock, log },
          );
  }

  private newSink(partition: string): WindowSink {
    const sink = new WindowSink(
      {
        directory: this.directory,
        router: this.router,
        inference: this.inference,
        windows: this.windows,
        state: this.store.stateStore(this.job.jobId),
        outbox: new DynamoDbOutboxStore(this.clients.doc, this.config.names.tables.events),
        relay: this.relay,
        clock: this.clock,
        log: this.log.child({ partition }),
        faults: this.faults,
      },
      {
        historyRetentionDays: 90,
        retryBaseMs: 1_000,
        retryMaxMs: 10_000,
        pumpConcurrency: 16,
        maxWindowsPerCall: 50,
        replay: { tag: { jobId: this.job.jobId, startedAt: new Date(this.job.createdAt).toISOString() }, events: this.job.spec.events },
      },
    );
    this.sinks.push(sink);
    return sink;
  }

  private processorFor = (partition: string): PipelineProcessor => {
    const { spec } = this.job;
    const sink = this.newSink(partition);
    const processor = new PipelineProcessor(
      {
        // Arrival times of archive objects are coarse: wait the margin longer than live before a
        // silent pump's windows close (it only ever accepts more than live would have).
        window: { ...this.config.window, idleTimeoutMs: this.config.window.idleTimeoutMs + REPLAY_ARRIVAL_MARGIN_MS },
        maxRecordAttempts: 3,
        atTipLagMs: 1_000,
        silenceSweepMs: 60_000,
        replay: { jobId: this.job.jobId, fromMs: spec.fromMs, toMs: spec.toMs, ...(spec.pumps ? { pumps: new Set(spec.pumps) } : {}) },
      },
      {
        sink,
        directory: this.directory,
        quarantine: this.quarantine,
        windows: this.windows,
        state: this.store.stateStore(this.job.jobId),
        handoff: this.handoff,
        clock: this.clock,
        log: this.log.child({ partition }),
        faults: this.faults,
      },
    );
    this.processors.push(processor);
    return processor;
  };

  /** What this run has done so far. */
  stats(): ReplayRunStats {
    const s = emptyStats();
    for (const p of this.processors) {
      s.records += p.stats.records;
      s.samples += p.stats.samples;
      s.filtered += p.stats.filtered;
      s.quarantined += Object.values(p.stats.quarantined).reduce((a, b) => a + (b ?? 0), 0);
    }
    for (const k of this.sinks) {
      s.windows += k.stats.windows;
      s.scored += k.stats.scored;
      s.unscored += k.stats.unscored;
      s.unrouted += k.stats.unrouted;
      s.events += k.stats.events;
    }
    s.written = s.windows - this.sinks.reduce((n, k) => n + k.stats.duplicates, 0);
    s.invocations = this.inference.invocations;
    s.durationMs = this.clock.now() - this.startedAt;
    return s;
  }

  progress(): ReplayProgress {
    const p = this.source.progress();
    const s = this.stats();
    return { ...p, records: s.records, windows: s.windows, scored: s.scored, quarantined: s.quarantined };
  }

  /** Renews the heartbeat; stops the run when the job is cancelled or another run took it over. */
  private async heartbeat(stop: AbortSignal): Promise<void> {
    const every = this.options.heartbeatMs ?? 2_000;
    while (!stop.aborted) {
      await sleep(every, stop).catch(() => undefined);
      if (stop.aborted) break;
      try {
        const job = await this.store.heartbeat(this.job.jobId, this.runner.runId, this.progress(), this.clock.now());
        if (!job) {
          this.fenced = true;
          this.log.warn({}, 'replay job taken over by another run; stopping');
          this.abort.abort(new Error('taken over'));
        } else if (job.status === 'cancelled') {
          this.cancelled = true;
          this.log.info({}, 'replay job cancelled; stopping');
          this.abort.abort(new Error('cancelled'));
        }
      } catch (err) {
        this.log.warn({ err }, 'replay heartbeat failed');
      }
    }
  }

  /** Retries the job's UNSCORED windows left by partitions that ended (this run's or earlier ones'). */
  private async drainUnscored(): Promise<number> {
    const items: WindowItem[] = [];
    for (let i = 0; i < SPARSE_INDEX_PARTITIONS; i++) {
      for (const item of await this.windows.listUnscored(`u${i}`)) if (item.replayJobId === this.job.jobId) items.push(item);
    }
    if (items.length === 0) return 0;
    const sink = this.newSink('unscored');
    sink.adoptPending(items);
    const deadline = this.clock.now() + (this.options.drainTimeoutMs ?? 60_000);
    await sink.retryPending();
    while (sink.pendingPumps > 0 && this.clock.now() < deadline && !this.signal.aborted) {
      await sleep(500, this.signal).catch(() => undefined);
      await sink.retryPending();
    }
    return sink.pendingPumps;
  }

  /** The job's totals, counted from the tables (so they are exact across kills and re-runs). */
  private async summarize(activeMs: number): Promise<ReplaySummary> {
    const { jobId, spec } = this.job;
    const pumps = new Set((await this.store.listStates(jobId)).map((s) => s.pumpId));
    for (const k of this.sinks) for (const p of k.knownPumps()) pumps.add(p);
    let windows = 0;
    let scored = 0;
    let unscored = 0;
    let unrouted = 0;
    let withWindows = 0;
    for (const pumpId of pumps) {
      const items = await this.windows.query(pumpId, { replayJobId: jobId });
      if (items.length > 0) withWindows += 1;
      windows += items.length;
      for (const w of items) {
        if (w.status === 'SCORED') scored += 1;
        else if (w.status === 'UNSCORED') unscored += 1;
        else unrouted += 1;
      }
    }
    const quarantined = (await this.quarantine.list({ replayJobId: jobId })).length;
    const records = (await this.source.cursors()).reduce((n, c) => n + c.records, 0);
    const seconds = Math.max(activeMs, 1) / 1000;
    return {
      records,
      windows,
      pumps: withWindows,
      scored,
      unscored,
      unrouted,
      quarantined,
      durationMs: activeMs,
      recordsPerSecond: records / seconds,
      realTimeFactor: (spec.toMs - spec.fromMs) / 1000 / seconds,
    };
  }

  async run(resumed: boolean): Promise<ReplayOutcome> {
    const { jobId } = this.job;
    const stopHeartbeat = new AbortController();
    const heartbeat = this.heartbeat(stopHeartbeat.signal);
    const ticker = this.options.onProgress
      ? setInterval(() => this.options.onProgress!(this.progress()), this.options.progressIntervalMs ?? 250)
      : undefined;
    let status: ReplayStatus = 'failed';
    let error: string | undefined;
    let summary: ReplaySummary | undefined;
    try {
      const outcome = await this.source.run(this.processorFor, this.signal);
      let pending = outcome.pendingPumps;
      if (!outcome.stopped) pending = await this.drainUnscored();
      if (outcome.stopped || this.signal.aborted) status = this.cancelled ? 'cancelled' : 'interrupted';
      else if (pending > 0) {
        status = 'failed';
        error = `${pending} pump(s) still have UNSCORED windows (model endpoint failing?); run the job again to retry them`;
      } else status = 'completed';
    } catch (err) {
      status = 'failed';
      error = err instanceof Error ? err.message : String(err);
      this.log.error({ err }, 'replay job failed');
      throw err;
    } finally {
      if (ticker) clearInterval(ticker);
      stopHeartbeat.abort();
      await heartbeat;
      const activeMs = this.job.activeMs + (this.clock.now() - this.startedAt);
      if (status === 'completed') summary = await this.summarize(activeMs);
      if (!this.fenced) {
        const ok = await this.store
          .finish(jobId, this.runner.runId, { status, activeMs, ...(summary ? { summary } : {}), ...(error ? { error } : {}) }, this.clock.now())
          .catch((err) => {
            this.log.error({ err }, 'could not record the end of the replay job');
            return false;
          });
        if (!ok) this.log.warn({}, 'replay job end not recorded (taken over by another run)');
      }
      this.options.onProgress?.(this.progress());
    }
    const job = (await this.store.getJob(jobId)) ?? this.job;
    this.log.info({ status, summary }, 'replay job run ended');
    return { job, noop: false, resumed, run: this.stats() };
  }
}
