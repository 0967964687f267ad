import type { WindowConfig } from '../../../shared/config';
import type { FeatureVector } from '../../../shared/schemas/features';
import type { Sample } from '../../../shared/schemas/telemetry';
import { type AccumulatorState, buildFeatureVector, ChannelAccumulator } from './features';

/**
 * Per-pump event-time windows for one shard (pure: no I/O, time passed in).
 *
 * Each pump has its own watermark: the newest event time seen for it minus the allowed
 * out-of-orderness (a pump's records all land on one shard, and pumps' clocks differ, so a shared
 * watermark would make a slow-clocked pump's data late). A window [start, start+size) closes when
 * the watermark passes its end plus the allowed lateness, or when the pump has been silent for
 * the idle timeout, or when the input ends.
 *
 * Closing is decided record by record, on the records' own times — event times for the watermark,
 * Kinesis arrival times for the idle timeout — never on when a batch happened to be read. So a
 * shard re-read after a crash or a lease move closes the same windows with the same samples, and a
 * sample late the first time is late again. Only at the tip of the shard, where no newer arrival
 * will come, does the wall clock move the idle timeout on (poll with atTip).
 *
 * A sample is accepted only while every window containing it is open; otherwise it is late and
 * goes to quarantine whole, so a closed window never misses a sample silently. Exact duplicates
 * (same seq, or same ts) are counted once.
 *
 * Positions: every sample comes with the caller's record position (a number increasing along the
 * shard). A window remembers the first position that contributed to it, so the caller can keep
 * its checkpoint at or before the first record of the oldest open window.
 */
export interface WindowerOptions {
  readonly window: Pick<WindowConfig, 'sizeMs' | 'hopMs' | 'outOfOrdernessMs' | 'allowedLatenessMs' | 'idleTimeoutMs'>;
  /** Nominal sample rate of a pump, for expected-sample counts. */
  readonly sampleRateHz: (pumpId: string) => number;
}

export type AddOutcome = 'accepted' | 'duplicate' | 'late';

/** A window that has closed, with its feature vector. */
export interface ClosedWindow {
  readonly pumpId: string;
  readonly windowStart: number;
  readonly windowEnd: number;
  readonly vector: FeatureVector;
  /** First record position that contributed (undefined when all samples came from a hand-off). */
  readonly firstPosition: number | undefined;
  readonly closedBy: 'watermark' | 'idle' | 'flush';
}

interface OpenWindow {
  readonly start: number;
  readonly channels: Map<string, ChannelAccumulator>;
  /** Sorted event times in the window: duplicate detection and gap measurement. */
  readonly times: number[];
  duplicates: number;
  late: number;
  firstPosition: number | undefined;
}

interface PumpWindows {
  maxTs: number;
  /** Windows ending at or before this are closed (advanced by watermark and idle closes). */
  horizon: number;
  lastArrival: number;
  readonly open: Map<number, OpenWindow>;
  /** seq → ts of recent samples, for duplicate detection by seq. */
  readonly seqs: Map<number, number>;
}

/** Serialized open state of one pump, for handing windows to a child shard's consumer. */
export interface PumpSnapshot {
  readonly pumpId: string;
  readonly maxTs: number;
  readonly horizon: number;
  readonly seqs: [number, number][];
  readonly windows: {
    readonly start: number;
    readonly channels: [string, AccumulatorState][];
    readonly times: number[];
    readonly duplicates: number;
    readonly late: number;
  }[];
}

function insertSorted(arr: number[], v: number): boolean {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  if (arr[lo] === v) return false;
  arr.splice(lo, 0, v);
  return true;
}

function floorTo(v: number, step: number): number {
  return Math.floor(v / step) * step;
}

export class Windower {
  private readonly size: number;
  private readonly hop: number;
  private readonly pumps = new Map<string, PumpWindows>();
  private openCount = 0;
  /** Windows closed since the last poll, in closing order. */
  private ready: ClosedWindow[] = [];
  /** The newest arrival time seen (the idle timeout's clock). */
  private clock = Number.NEGATIVE_INFINITY;
  /** No pump can be idle before the clock reaches this (a lower bound, tightened by scans). */
  private nextIdleCheck = Number.POSITIVE_INFINITY;

  constructor(private readonly options: WindowerOptions) {
    this.size = options.window.sizeMs;
    this.hop = options.window.hopMs;
    if (this.size % this.hop !== 0) throw new RangeError('hopMs must divide sizeMs');
  }

  /** Number of open windows across all pumps. */
  get openWindows(): number {
    return this.openCount;
  }

  get pumpCount(): number {
    return this.pumps.size;
  }

  /** Start of the oldest window containing `ts`. */
  private oldestStartFor(ts: number): number {
    return floorTo(ts, this.hop) - this.size + this.hop;
  }

  private pump(pumpId: string): PumpWindows {
    let p = this.pumps.get(pumpId);
    if (!p) {
      p = { maxTs: Number.NEGATIVE_INFINITY, horizon: Number.NEGATIVE_INFINITY, lastArrival: 0, open: new Map(), seqs: new Map() };
      this.pumps.set(pumpId, p);
    }
    return p;
  }

  /**
   * Adds one sample. `position` is the record's position on the shard; `arrivalMs` the record's
   * arrival time on the stream (it moves the idle clock first, so windows of pumps silent since
   * before this record close before it is added).
   */
  add(pumpId: string, sample: Sample, position: number, arrivalMs: number): AddOutcome {
    this.advanceClock(arrivalMs);
    const p = this.pump(pumpId);
    p.lastArrival = Math.max(p.lastArrival, arrivalMs);
    const outcome = this.addSample(p, sample, position);
    if (p.open.size > 0) this.nextIdleCheck = Math.min(this.nextIdleCheck, p.lastArrival + this.options.window.idleTimeoutMs);
    const horizon = p.maxTs - this.options.window.outOfOrdernessMs - this.options.window.allowedLatenessMs;
    if (horizon > p.horizon) this.advance(pumpId, p, horizon, 'watermark', this.ready);
    return outcome;
  }

  private addSample(p: PumpWindows, sample: Sample, position: number): AddOutcome {
    const ts = sample.ts;
    const oldestStart = this.oldestStartFor(ts);
    if (sample.seq !== undefined && p.seqs.has(sample.seq)) {
      this.countDuplicate(p, oldestStart);
      return 'duplicate';
    }
    if (oldestStart + this.size <= p.horizon) {
      return 'late';
    }
    const watermark = p.maxTs - this.options.window.outOfOrdernessMs;
    const behindWatermark = ts < watermark;
    let accepted = false;
    for (let start = oldestStart; start <= ts; start += this.hop) {
      let w = p.open.get(start);
      if (!w) {
        w = { start, channels: new Map(), times: [], duplicates: 0, late: 0, firstPosition: position };
        p.open.set(start, w);
        this.openCount += 1;
      }
      if (!insertSorted(w.times, ts)) {
        // Same ts already in this window: an exact duplicate (checked on the first window only).
        w.duplicates += 1;
        return 'duplicate';
      }
      accepted = true;
      if (w.firstPosition === undefined || position < w.firstPosition) w.firstPosition = position;
      const t = (ts - start) / 1000;
      for (const [name, value] of Object.entries(sample.metrics)) {
        let acc = w.channels.get(name);
        if (!acc) {
          acc = new ChannelAccumulator();
          w.channels.set(name, acc);
        }
        acc.add(t, value, ts);
      }
      if (behindWatermark) w.late += 1;
    }
    if (sample.seq !== undefined) p.seqs.set(sample.seq, ts);
    if (ts > p.maxTs) p.maxTs = ts;
    return accepted ? 'accepted' : 'late';
  }

  private countDuplicate(p: PumpWindows, oldestStart: number): void {
    const w = p.open.get(oldestStart);
    if (w) w.duplicates += 1;
  }

  /** Moves the idle clock to `t` (if later) and closes the windows of pumps silent for the idle timeout. */
  private advanceClock(t: number): void {
    if (t <= this.clock) return;
    this.clock = t;
    if (this.clock < this.nextIdleCheck) return;
    const { idleTimeoutMs } = this.options.window;
    let next = Number.POSITIVE_INFINITY;
    for (const [pumpId, p] of this.pumps) {
      if (p.open.size === 0) continue;
      if (this.clock - p.lastArrival >= idleTimeoutMs) this.advance(pumpId, p, this.maxOpenEnd(p), 'idle', this.ready);
      else next = Math.min(next, p.lastArrival + idleTimeoutMs);
    }
    this.nextIdleCheck = next;
  }

  /**
   * Returns the windows closed since the last poll. At the tip of the shard (`atTip`), where no
   * newer arrival will move the idle clock, `nowMs` does: a silent pump's last window still closes.
   */
  poll(nowMs: number, atTip: boolean): ClosedWindow[] {
    if (atTip) this.advanceClock(nowMs);
    for (const p of this.pumps.values()) this.prune(p);
    const out = this.ready;
    this.ready = [];
    return out;
  }

  /** Closes every open window (end of input, or a requested shutdown of a replay). */
  flush(): ClosedWindow[] {
    const out = this.ready;
    this.ready = [];
    for (const [pumpId, p] of this.pumps) {
      if (p.open.size > 0) this.advance(pumpId, p, this.maxOpenEnd(p), 'flush', out);
    }
    return out;
  }

  private maxOpenEnd(p: PumpWindows): number {
    let end = Number.NEGATIVE_INFINITY;
    for (const start of p.open.keys()) end = Math.max(end, start + this.size);
    return end;
  }

  private advance(pumpId: string, p: PumpWindows, horizon: number, closedBy: ClosedWindow['closedBy'], out: ClosedWindow[]): void {
    p.horizon = Math.max(p.horizon, horizon);
    const due = [...p.open.keys()].filter((start) => start + this.size <= p.horizon).sort((a, b) => a - b);
    for (const start of due) {
      const w = p.open.get(start)!;
      p.open.delete(start);
      this.openCount -= 1;
      out.push(this.close(pumpId, w, closedBy));
    }
  }

  private prune(p: PumpWindows): void {
    // Remember seqs a little beyond the horizon so a re-sent sample is still seen as a duplicate.
    const keepFrom = p.horizon - 2 * this.size;
    for (const [seq, ts] of p.seqs) if (ts < keepFrom) p.seqs.delete(seq);
    // The pump entry itself stays (a few numbers): its horizon keeps closed windows closed.
  }

  private close(pumpId: string, w: OpenWindow, closedBy: ClosedWindow['closedBy']): ClosedWindow {
    let maxGap = 0;
    const times = w.times;
    if (times.length > 0) {
      maxGap = Math.max(times[0]! - w.start, w.start + this.size - times[times.length - 1]!);
      for (let i = 1; i < times.length; i++) maxGap = Math.max(maxGap, times[i]! - times[i - 1]!);
    } else {
      maxGap = this.size;
    }
    const expected = Math.round((this.size / 1000) * this.options.sampleRateHz(pumpId));
    const vector = buildFeatureVector(pumpId, w.start, w.start + this.size, w.channels, {
      expectedSamples: expected,
      receivedSamples: times.length,
      duplicateSamples: w.duplicates,
      lateSamples: w.late,
      maxGapMs: maxGap,
    });
    return { pumpId, windowStart: w.start, windowEnd: w.start + this.size, vector, firstPosition: w.firstPosition, closedBy };
  }

  /** The smallest first-position over open windows: the checkpoint must stay before it. */
  oldestOpenPosition(): number | undefined {
    let min: number | undefined;
    for (const p of this.pumps.values()) {
      for (const w of p.open.values()) {
        if (w.firstPosition !== undefined && (min === undefined || w.firstPosition < min)) min = w.firstPosition;
      }
    }
    return min;
  }

  /** Exports (and removes) the open state of the pumps `select` picks, for a hand-off. */
  exportPumps(select: (pumpId: string) => boolean = () => true): PumpSnapshot[] {
    const out: PumpSnapshot[] = [];
    for (const [pumpId, p] of this.pumps) {
      if (!select(pumpId)) continue;
      out.push({
        pumpId,
        maxTs: p.maxTs,
        horizon: p.horizon,
        seqs: [...p.seqs],
        windows: [...p.open.values()]
          .sort((a, b) => a.start - b.start)
          .map((w) => ({
            start: w.start,
            channels: [...w.channels].map(([k, a]) => [k, a.toJSON()] as [string, AccumulatorState]),
            times: [...w.times],
            duplicates: w.duplicates,
            late: w.late,
          })),
      });
      this.openCount -= p.open.size;
      this.pumps.delete(pumpId);
    }
    return out;
  }

  /** Imports a hand-off snapshot; windows from it carry no position on this shard. */
  importPump(snapshot: PumpSnapshot, arrivalMs: number): void {
    const p = this.pump(snapshot.pumpId);
    p.maxTs = Math.max(p.maxTs, snapshot.maxTs);
    p.horizon = Math.max(p.horizon, snapshot.horizon);
    p.lastArrival = Math.max(p.lastArrival, arrivalMs);
    this.nextIdleCheck = Math.min(this.nextIdleCheck, p.lastArrival + this.options.window.idleTimeoutMs);
    for (const [seq, ts] of snapshot.seqs) p.seqs.set(seq, ts);
    for (const s of snapshot.windows) {
      if (p.open.has(s.start)) continue;
      p.open.set(s.start, {
        start: s.start,
        channels: new Map(s.channels.map(([k, st]) => [k, ChannelAccumulator.fromJSON(st)])),
        times: [...s.times],
        duplicates: s.duplicates,
        late: s.late,
        firstPosition: undefined,
      });
      this.openCount += 1;
    }
  }
}
