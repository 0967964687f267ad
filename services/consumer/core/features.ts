import type { ChannelFeatures, DataQuality, FeatureVector } from '../../../shared/schemas/features';

/**
 * Streaming statistics of one channel in one window: constant memory, numerically stable
 * (Welford/Pébay updates of the central moments, and a co-moment for the time slope).
 */
export class ChannelAccumulator {
  private n = 0;
  private mean = 0;
  private m2 = 0;
  private m3 = 0;
  private m4 = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;
  private lastTs = Number.NEGATIVE_INFINITY;
  private last = 0;
  // Time is taken relative to the window start, in seconds, so the slope is in units per second.
  private meanT = 0;
  private mTT = 0;
  private cTV = 0;

  add(tSeconds: number, value: number, tsMs: number): void {
    const n1 = this.n;
    this.n += 1;
    const n = this.n;
    const delta = value - this.mean;
    const deltaN = delta / n;
    const deltaN2 = deltaN * deltaN;
    const term1 = delta * deltaN * n1;
    this.mean += deltaN;
    this.m4 += term1 * deltaN2 * (n * n - 3 * n + 3) + 6 * deltaN2 * this.m2 - 4 * deltaN * this.m3;
    this.m3 += term1 * deltaN * (n - 2) - 3 * deltaN * this.m2;
    this.m2 += term1;
    const dT = tSeconds - this.meanT;
    this.meanT += dT / n;
    this.mTT += dT * (tSeconds - this.meanT);
    // Co-moment update uses the old time delta and the new value mean.
    this.cTV += dT * (value - this.mean);
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    if (tsMs >= this.lastTs) {
      this.lastTs = tsMs;
      this.last = value;
    }
  }

  get count(): number {
    return this.n;
  }

  result(): ChannelFeatures {
    const n = this.n;
    if (n === 0) {
      return { count: 0, mean: 0, std: 0, min: 0, max: 0, rms: 0, last: 0, slope: 0, kurtosis: 0, crest: 0 };
    }
    const variance = this.m2 / n;
    const std = Math.sqrt(Math.max(variance, 0));
    const rms = Math.sqrt(this.mean * this.mean + Math.max(variance, 0));
    const kurtosis = this.m2 > 0 ? (n * this.m4) / (this.m2 * this.m2) - 3 : 0;
    const peak = Math.max(Math.abs(this.min), Math.abs(this.max));
    return {
      count: n,
      mean: this.mean,
      std,
      min: this.min,
      max: this.max,
      rms,
      last: this.last,
      slope: this.mTT > 0 ? this.cTV / this.mTT : 0,
      kurtosis: Number.isFinite(kurtosis) ? kurtosis : 0,
      crest: rms > 0 ? peak / rms : 0,
    };
  }

  /** Plain-data form, for handing an open window to another consumer. */
  toJSON(): AccumulatorState {
    return [this.n, this.mean, this.m2, this.m3, this.m4, this.min, this.max, this.lastTs, this.last, this.meanT, this.mTT, this.cTV];
  }

  static fromJSON(state: AccumulatorState): ChannelAccumulator {
    const a = new ChannelAccumulator();
    [a.n, a.mean, a.m2, a.m3, a.m4, a.min, a.max, a.lastTs, a.last, a.meanT, a.mTT, a.cTV] = state;
    return a;
  }
}

/** Serialized accumulator: the moments, in a fixed order. */
export type AccumulatorState = [number, number, number, number, number, number, number, number, number, number, number, number];

/** Builds a feature vector from per-channel accumulators and quality counters. */
export function buildFeatureVector(
  pumpId: string,
  windowStart: number,
  windowEnd: number,
  channels: ReadonlyMap<string, ChannelAccumulator>,
  quality: DataQuality,
): FeatureVector {
  const out: Record<string, ChannelFeatures> = {};
  // Sorted channel order keeps the vector (and its JSON) deterministic whatever the arrival order.
  for (const name of [...channels.keys()].sort()) out[name] = channels.get(name)!.result();
  return { pumpId, windowStart, windowEnd, sampleCount: quality.receivedSamples, channels: out, quality };
}
