import type { Clock } from '../../../shared/clock';
import { type FaultPoint, NO_FAULTS, type Faults } from '../../../shared/faults';
import type { Logger } from '../../../shared/logging';
import type { PumpEvent } from '../../../shared/schemas/events';
import type { WindowScore } from '../../../shared/schemas/inference';
import type { ConditionPolicy } from '../../../shared/schemas/condition';
import type { PumpRecord } from '../../../shared/schemas/pump';
import type { OutboxStore } from '../../../shared/stores/outbox-store';
import type { PumpStateItem, StateStore } from '../../../shared/stores/state-store';
import { type WindowItem, type WindowStore, unscoredPartition, windowSortKey } from '../../../shared/stores/window-store';
import { type ConditionMemory, type Evaluation, evaluateSilence, evaluateWindow, INITIAL_MEMORY, type ScoreInput } from '../core/condition';
import type { ClosedWindow } from '../core/windowing';
import { buildWindowEvents, enrolledEvent, type ReplayTag, silenceEvent } from './events';
import { type InferenceClient, InferenceError } from './inference-client';
import type { Route, RouteResolver } from './model-router';
import type { OutboxRelay } from './outbox-relay';
import type { PumpDirectory } from './pump-directory';

export interface WindowSinkDeps {
  readonly directory: PumpDirectory;
  readonly router: RouteResolver;
  readonly inference: InferenceClient;
  readonly windows: WindowStore;
  readonly state: StateStore;
  readonly outbox: OutboxStore;
  readonly relay: OutboxRelay;
  readonly clock: Clock;
  readonly log: Logger;
  readonly faults?: Faults;
  /** Called after a window of a pump without a model was applied (the learning phase). */
  readonly onUnrouted?: (pump: PumpRecord) => void;
}

export interface WindowSinkOptions {
  /** Window history expiry (the `expiresAt` attribute). */
  readonly historyRetentionDays: number;
  /** First delay before an UNSCORED window is retried; doubles per failure up to the max. */
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** Pumps whose windows are handled at the same time. */
  readonly pumpConcurrency: number;
  /** Windows scored in one call when a pump has several waiting (catch-up). */
  readonly maxWindowsPerCall: number;
  /** Set when the sink serves a replay job instead of the live pipeline. */
  readonly replay?: SinkReplayMode;
}

/**
 * A replay job's mode. Its windows are stored under its own sort keys (`r#<job>#<start>`, with
 * `replayJobId`), its condition chain lives in the state store the job passes in (never the live
 * pump state), no `Pump Enrolled` events are raised, and its window events are either not written
 * at all (`none`) or written and published with `detail.replay` and job-specific ids (`tagged`),
 * which the live subscriptions exclude.
 */
export interface SinkReplayMode {
  readonly tag: ReplayTag;
  readonly events: 'none' | 'tagged';
}

/** The score input of condition evaluation from a stored window (null when it has no model). */
function scoreOf(item: WindowItem): ScoreInput | null {
  return item.score ? { score: item.score.score, threshold: item.score.threshold, warningThreshold: item.score.warningThreshold } : null;
}

interface PendingPump {
  items: WindowItem[];
  failures: number;
  nextAttemptAt: number;
}

/** Counters for metrics and benchmarks. */
export interface SinkStats {
  windows: number;
  scored: number;
  unscored: number;
  unrouted: number;
  duplicates: number;
  events: number;
}

/**
 * Turns closed windows into durable effects, per pump in window order, with single-item
 * conditional writes only:
 *
 *   score (InvokeEndpoint, several windows per call when they queue up)
 *   ▸ window history: put-if-absent — a re-processed window keeps its first result
 *   ▸ condition evaluation against the stored pump state
 *   ▸ outbox: put-if-absent per event (deterministic eventId)
 *   ▸ pump state: conditional on the version read (re-read and re-evaluate on conflict)
 *   ▸ publish (the relay re-publishes anything a crash leaves behind)
 *
 * A window that cannot be scored is stored UNSCORED and retried; while a pump has UNSCORED
 * windows its newer windows queue behind them, so its condition only ever moves in window order.
 * handle() resolves only when every window given is durable (scored and applied, or UNSCORED).
 */
export class WindowSink {
  private readonly pending = new Map<string, PendingPump>();
  private readonly stateCache = new Map<string, PumpStateItem | null>();
  private readonly chains = new Map<string, Promise<void>>();
  private readonly watched = new Set<string>();
  private readonly announced = new Set<string>();
  readonly stats: SinkStats = { windows: 0, scored: 0, unscored: 0, unrouted: 0, duplicates: 0, events: 0 };

  constructor(
    private readonly deps: WindowSinkDeps,
    private readonly options: WindowSinkOptions,
  ) {}

  private reach(point: FaultPoint): void {
    (this.deps.faults ?? NO_FAULTS).reach(point);
  }

  /** Pumps with UNSCORED windows waiting. */
  get pendingPumps(): number {
    return this.pending.size;
  }

  /** Handles closed windows; resolves when all their effects are durable. */
  async handle(closed: readonly ClosedWindow[]): Promise<void> {
    if (closed.length === 0) return;
    const byPump = new Map<string, ClosedWindow[]>();
    for (const w of closed) byPump.set(w.pumpId, [...(byPump.get(w.pumpId) ?? []), w]);
    await this.forEachPump([...byPump.keys()], (pumpId) => this.handlePump(pumpId, byPump.get(pumpId)!.sort((a, b) => a.windowStart - b.windowStart)));
  }

  private async forEachPump(pumpIds: string[], fn: (pumpId: string) => Promise<void>): Promise<void> {
    let next = 0;
    let failure: { error: unknown } | undefined;
    const worker = async (): Promise<void> => {
      // After a failure no new pump is started, and the others finish before the error is
      // rethrown: nothing of this sink keeps writing once the caller has moved on.
      while (next < pumpIds.length && !failure) {
        const pumpId = pumpIds[next++]!;
        try {
          await this.serialized(pumpId, () => fn(pumpId));
        } catch (error) {
          failure ??= { error };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.options.pumpConcurrency, pumpIds.length) }, worker));
    if (failure) throw failure.error;
  }

  /** Runs work for one pump after any earlier work for it (per-pump order). */
  private serialized(pumpId: string, fn: () => Promise<void>): Promise<void> {
    const prev = this.chains.get(pumpId) ?? Promise.resolve();
    const run = prev.then(fn);
    const tail = run.catch(() => undefined);
    this.chains.set(pumpId, tail);
    void tail.then(() => {
      if (this.chains.get(pumpId) === tail) this.chains.delete(pumpId);
    });
    return run;
  }

  private async handlePump(pumpId: string, windows: ClosedWindow[]): Promise<void> {
    const { pump } = await this.deps.directory.get(pumpId);
    if (!this.options.replay && !this.announced.has(pumpId)) {
      // `Pump Enrolled` has a fixed id per pump: whoever sees the pump first writes it, once, even
      // if the worker that registered the pump crashed before announcing it.
      await this.emit([enrolledEvent(pump)]);
      this.announced.add(pumpId);
    }
    this.stats.windows += windows.length;
    const queued = this.pending.get(pumpId);
    if (queued) {
      // Older windows of this pump are still UNSCORED: queue behind them to keep window order.
      for (const w of windows) queued.items.push((await this.store(this.baseItem(w, 'UNSCORED', 'queued behind an unscored window'))).item);
      this.stats.unscored += windows.length;
      return;
    }
    const route = await this.deps.router.route(pump);
    let scores: { route: Route; results: WindowScore[] } | { error: string } | undefined;
    if (route) scores = await this.score(pump, route, windows.map((w) => w.vector));
    const stored: WindowItem[] = [];
    windows.forEach((w, i) => {
      if (!route) stored.push(this.baseItem(w, 'UNROUTED'));
      else if (scores && 'results' in scores) {
        stored.push({ ...this.baseItem(w, 'SCORED'), score: scores.results[i]!, model: { modelId: route.modelId, version: route.version, target: route.target } });
      } else {
        stored.push(this.baseItem(w, 'UNSCORED', scores && 'error' in scores ? scores.error : 'not scored'));
      }
    });
    await this.storeAndApply(pump, stored);
  }

  /**
   * Stores windows of one pump in order and applies them to its condition with one state write
   * for the lot (catch-up and replays close many windows of a pump at once). Each history item is
   * written with the outcome it leads to; a window found already stored keeps its first result.
   * A crash before the state write replays to the same outcome: the evaluation is a pure function
   * of the stored state and the stored scores, and events are put-if-absent by id.
   */
  private async storeAndApply(pump: PumpRecord, items: readonly WindowItem[]): Promise<void> {
    const policy = this.deps.directory.policyOf(pump);
    const current = await this.loadState(pump.pumpId);
    let memory: ConditionMemory = current?.memory ?? INITIAL_MEMORY;
    const events: PumpEvent[] = [];
    const applied: WindowItem[] = [];
    for (const item of items) {
      if (this.pending.has(pump.pumpId) || item.status === 'UNSCORED') {
        // Behind an UNSCORED window (or one itself): stored as it is, applied when the queue drains.
        // It goes into the pending index whatever its status, so a restart finds it again.
        const { item: durable } = await this.store({ ...item, unscoredPartition: unscoredPartition(pump.pumpId) });
        this.queue(pump.pumpId, durable);
        continue;
      }
      let ev = evaluateWindow(memory, { vector: item.features, score: scoreOf(item) }, policy);
      const { created, item: durable } = await this.store(ev.applied ? { ...item, level: ev.windowLevel, state: ev.memory.state } : item);
      if (!created) {
        if (durable.status === 'UNSCORED') {
          this.queue(pump.pumpId, durable);
          continue;
        }
        ev = evaluateWindow(memory, { vector: durable.features, score: scoreOf(durable) }, policy);
      }
      if (!ev.applied) continue; // an older window: the state never goes back
      memory = ev.memory;
      events.push(...this.windowEvents(pump, durable, ev, policy.zones));
      applied.push(durable);
    }
    if (applied.length === 0) return;
    const created = await this.addEvents(events);
    if (events.length > 0) this.reach('after-outbox-write');
    const next = this.nextState(pump.pumpId, current, memory, applied[applied.length - 1]!);
    if (!(await this.deps.state.put(next, current?.version ?? 0))) {
      // Someone else moved the state: the events of this chain may not hold. Withdraw the ones this
      // call wrote (unpublished), then apply one window at a time, re-reading as we go.
      await this.withdraw(created);
      this.stateCache.delete(pump.pumpId);
      for (const item of applied) await this.apply(pump, item);
      return;
    }
    this.stateCache.set(pump.pumpId, next);
    this.reach('after-state-write');
    // A window stored behind an UNSCORED one before a restart, applied now: out of the pending index.
    for (const i of applied) if (i.unscoredPartition) await this.deps.windows.setOutcome(i.pumpId, i.sk, { level: i.level ?? 'NORMAL', state: next.memory.state });
    if (applied.some((i) => i.status === 'UNROUTED')) this.deps.onUnrouted?.(pump);
    await this.publish(events);
    if (events.length > 0) this.reach('after-put-events');
  }

  /** Writes events to the outbox; returns the ones this call created. */
  private async addEvents(events: readonly PumpEvent[]): Promise<PumpEvent[]> {
    const created: PumpEvent[] = [];
    for (const e of events) if (await this.deps.outbox.add(e, this.deps.clock.now())) created.push(e);
    this.stats.events += created.length;
    return created;
  }

  private async withdraw(events: readonly PumpEvent[]): Promise<void> {
    for (const e of events) await this.deps.outbox.discardUnpublished(e.eventId);
  }

  /**
   * Publishes now, best effort: the events are in the outbox, and the relay's sweep publishes
   * whatever this misses, so a slow or failing bus never holds up a pump's windows.
   */
  private async publish(events: readonly PumpEvent[]): Promise<void> {
    try {
      await this.deps.relay.publish(events);
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message, events: events.length }, 'publish failed; the outbox sweep will retry');
    }
  }

  private nextState(pumpId: string, current: PumpStateItem | null, memory: ConditionMemory, item: WindowItem): PumpStateItem {
    const now = this.deps.clock.now();
    return {
      pumpId,
      version: (current?.version ?? 0) + 1,
      memory,
      lastScore: item.score?.score ?? current?.lastScore ?? null,
      lastThreshold: item.score?.threshold ?? current?.lastThreshold ?? null,
      lastModel: item.model ?? current?.lastModel ?? null,
      topChannels: Object.entries(item.score?.contributions ?? {})
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3)
        .map(([c]) => c),
      updatedAt: now,
      lastSeenAt: now,
    };
  }

  /** The events a window's evaluation raises: live ones, a replay's tagged ones, or none. */
  private windowEvents(pump: PumpRecord, item: WindowItem, ev: Evaluation, zones: ConditionPolicy['zones']): PumpEvent[] {
    const replay = this.options.replay;
    if (!replay) return buildWindowEvents(pump, item, ev, zones);
    return replay.events === 'tagged' ? buildWindowEvents(pump, item, ev, zones, replay.tag) : [];
  }

  /** History expires after the retention from the window's end; a replay's, from the job's start at the earliest (a backfill of old data must not expire at once). */
  private expiryBase(w: ClosedWindow): number {
    const replay = this.options.replay;
    return replay ? Math.max(w.windowEnd, Date.parse(replay.tag.startedAt)) : w.windowEnd;
  }

  private baseItem(w: ClosedWindow, status: WindowItem['status'], lastError?: string): WindowItem {
    const replayJobId = this.options.replay?.tag.jobId;
    const sk = windowSortKey(w.windowStart, replayJobId);
    return {
      pumpId: w.pumpId,
      sk,
      ...(replayJobId ? { replayJobId } : {}),
      windowStart: w.windowStart,
      windowEnd: w.windowEnd,
      status,
      features: w.vector,
      attempts: 0,
      ...(lastError ? { lastError } : {}),
      ...(status === 'UNSCORED' ? { unscoredPartition: unscoredPartition(w.pumpId) } : {}),
      createdAt: this.deps.clock.now(),
      expiresAt: Math.floor(this.expiryBase(w) / 1000) + this.options.historyRetentionDays * 86_400,
    };
  }

  /** Writes the window unless it exists; returns what is stored (the first result wins). */
  private async store(item: WindowItem): Promise<{ created: boolean; item: WindowItem }> {
    const result = await this.deps.windows.putIfAbsent(item);
    const durable = result.item;
    if (!result.created) this.stats.duplicates += 1;
    else if (durable.status === 'SCORED') this.stats.scored += 1;
    else if (durable.status === 'UNSCORED') this.stats.unscored += 1;
    else this.stats.unrouted += 1;
    this.reach('after-history-write');
    return result;
  }

  private queue(pumpId: string, item: WindowItem): void {
    const p = this.pending.get(pumpId);
    if (p) p.items.push(item);
    else this.pending.set(pumpId, { items: [item], failures: 1, nextAttemptAt: this.deps.clock.now() + this.options.retryBaseMs });
  }

  private async score(pump: PumpRecord, route: Route, vectors: ClosedWindow['vector'][]): Promise<{ route: Route; results: WindowScore[] } | { error: string }> {
    const results: WindowScore[] = [];
    try {
      for (let i = 0; i < vectors.length; i += this.options.maxWindowsPerCall) {
        const batch = vectors.slice(i, i + this.options.maxWindowsPerCall);
        const r = await this.deps.inference.score(route.target, { pumpId: pump.pumpId, windows: batch });
        results.push(...r.results);
      }
      return { route, results };
    } catch (err) {
      const e = err instanceof InferenceError ? err : undefined;
      this.deps.log.warn({ pumpId: pump.pumpId, model: route.target, failure: e?.failure ?? 'unknown', err: (err as Error).message }, 'window not scored');
      return { error: `${e?.failure ?? 'error'}: ${(err as Error).message}` };
    }
  }

  private async loadState(pumpId: string, fresh = false): Promise<PumpStateItem | null> {
    if (!fresh && this.stateCache.has(pumpId)) return this.stateCache.get(pumpId)!;
    const s = (await this.deps.state.get(pumpId)) ?? null;
    this.stateCache.set(pumpId, s);
    return s;
  }

  /** Applies a durable (SCORED or UNROUTED) window to the pump's condition. */
  private async apply(pump: PumpRecord, item: WindowItem): Promise<void> {
    const policy = this.deps.directory.policyOf(pump);
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.loadState(pump.pumpId, attempt > 0);
      const memory: ConditionMemory = current?.memory ?? INITIAL_MEMORY;
      const ev = evaluateWindow(memory, { vector: item.features, score: scoreOf(item) }, policy);
      if (!ev.applied) return; // an older window: the state never goes back
      const events = this.windowEvents(pump, item, ev, policy.zones);
      const created = await this.addEvents(events);
      if (events.length > 0) this.reach('after-outbox-write');
      const next = this.nextState(pump.pumpId, current, ev.memory, item);
      if (await this.deps.state.put(next, current?.version ?? 0)) {
        this.stateCache.set(pump.pumpId, next);
        this.reach('after-state-write');
        await this.deps.windows.setOutcome(item.pumpId, item.sk, { level: ev.windowLevel, state: ev.memory.state });
        if (item.status === 'UNROUTED') this.deps.onUnrouted?.(pump);
        await this.publish(events);
        if (events.length > 0) this.reach('after-put-events');
        return;
      }
      // Someone else moved the state: withdraw what this evaluation wrote, re-read, re-evaluate.
      await this.withdraw(created);
    }
    throw new Error(`pump ${pump.pumpId}: state kept changing under window ${item.windowStart}`);
  }

  /** Writes events to the outbox and publishes the ones this call created. */
  private async emit(events: PumpEvent[]): Promise<void> {
    await this.publish(await this.addEvents(events));
  }

  /** Re-queues UNSCORED windows found in the history (after a restart or a lease move). */
  adoptPending(items: readonly WindowItem[]): void {
    const sorted = [...items].sort((a, b) => a.windowStart - b.windowStart);
    for (const item of sorted) {
      const p = this.pending.get(item.pumpId);
      if (p?.items.some((i) => i.sk === item.sk)) continue;
      this.queue(item.pumpId, item);
      this.pending.get(item.pumpId)!.nextAttemptAt = this.deps.clock.now();
    }
  }

  /** Retries pumps whose UNSCORED windows are due, oldest first, several windows per call. */
  async retryPending(): Promise<void> {
    const now = this.deps.clock.now();
    const due = [...this.pending.entries()].filter(([, p]) => p.nextAttemptAt <= now).map(([id]) => id);
    await this.forEachPump(due, (pumpId) => this.retryPump(pumpId));
  }

  private async retryPump(pumpId: string): Promise<void> {
    const p = this.pending.get(pumpId);
    if (!p) return;
    const { pump } = await this.deps.directory.get(pumpId);
    const route = await this.deps.router.route(pump);
    const unscored = p.items.filter((i) => i.status === 'UNSCORED');
    let results: WindowScore[] | undefined;
    let error = 'no approved model';
    if (route && unscored.length > 0) {
      const r = await this.score(pump, route, unscored.map((i) => i.features));
      if ('results' in r) results = r.results;
      else error = r.error;
    }
    if (route && unscored.length > 0 && !results) {
      for (const i of unscored) await this.deps.windows.recordAttempt(i.pumpId, i.sk, error);
      p.failures += 1;
      p.nextAttemptAt = this.deps.clock.now() + Math.min(this.options.retryMaxMs, this.options.retryBaseMs * 2 ** (p.failures - 1));
      return;
    }
    let k = 0;
    for (const item of p.items) {
      let resolved = item;
      if (item.status === 'UNSCORED') {
        resolved = route && results
          ? { ...item, status: 'SCORED', score: results[k++]!, model: { modelId: route.modelId, version: route.version, target: route.target } }
          : { ...item, status: 'UNROUTED' };
        const ok = await this.deps.windows.resolveUnscored(item.pumpId, item.sk, { status: resolved.status, score: resolved.score, model: resolved.model });
        if (!ok) resolved = (await this.deps.windows.get(item.pumpId, item.sk)) ?? resolved;
        if (resolved.status === 'SCORED') this.stats.scored += 1;
      }
      await this.apply(pump, resolved);
    }
    this.pending.delete(pumpId);
  }

  /** Moves silent pumps to NO_DATA (pumps this sink has state for). */
  async sweepSilence(pumpIds: Iterable<string>): Promise<void> {
    const now = this.deps.clock.now();
    for (const pumpId of pumpIds) {
      await this.serialized(pumpId, async () => {
        const current = await this.loadState(pumpId);
        if (!current) return;
        const { pump } = await this.deps.directory.get(pumpId);
        const ev = evaluateSilence(current.memory, now, this.deps.directory.policyOf(pump));
        if (!ev?.changed) return;
        const event = silenceEvent(pump, current.memory.lastWindowStart ?? 0, current.memory.lastWindowEnd ?? 0, ev.changed.from);
        if (await this.deps.outbox.add(event, now)) this.stats.events += 1;
        const next: PumpStateItem = { ...current, version: current.version + 1, memory: ev.memory, updatedAt: now };
        if (await this.deps.state.put(next, current.version)) {
          this.stateCache.set(pumpId, next);
          await this.publish([event]);
        } else {
          this.stateCache.delete(pumpId);
        }
      });
    }
  }

  /** Adds pumps to watch for silence (e.g. the shard's pumps from the state table, at start). */
  watch(pumpIds: Iterable<string>): void {
    for (const id of pumpIds) this.watched.add(id);
  }

  /** Pumps this sink has seen or watches (for the silence sweep). */
  knownPumps(): string[] {
    return [...new Set([...this.stateCache.keys(), ...this.watched])];
  }
}
