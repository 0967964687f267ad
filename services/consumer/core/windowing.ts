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
 * the idle timeout while the reader is at the tip of the shard, or when the input ends.
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
   * Adds one sample. `position` is the record's position on the shard; `arrivalMs` the processing
   * time it was read at (for the idle timeout).
   */
  add(pumpId: string, sample: Sample, position: number, arrivalMs: number): AddOutcome {
    const p = this.pump(pumpId);
    p.lastArrival = Math.max(p.lastArrival, arrivalMs);
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

  /**
   * Closes what is due: windows past their pump's watermark plus lateness, and, when `atTip`
   * (the reader has caught up with the shard), windows of pumps silent for the idle timeout.
   */
  poll(nowMs: number, atTip: boolean): ClosedWindow[] {
    const out: ClosedWindow[] = [];
    const { outOfOrdernessMs, allowedLatenessMs, idleTimeoutMs } = this.options.window;
    for (const [pumpId, p] of this.pumps) {
      const watermarkHorizon = p.maxTs - outOfOrdernessMs - allowedLatenessMs;
      if (watermarkHorizon > p.horizon) this.advance(pumpId, p, watermarkHorizon, 'watermark', out);
      if (atTip && p.open.size > 0 && nowMs - p.lastArrival >= idleTimeoutMs) {
        this.advance(pumpId, p, this.maxOpenEnd(p), 'idle', out);
      }
      this.prune(p);
    }
    return out;
  }

  /** Closes every open window (end of input, or a requested shutdown of a replay). */
  flush(): ClosedWindow[] {
    const out: ClosedWindow[] = [];
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
