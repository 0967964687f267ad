import type { FeatureSpec } from '../core/artifact';
import { featureValue, type FeatureVector } from '../../../shared/schemas/features';
import { ValidationError } from '../../../shared/errors';

/**
 * Training distributions and the population stability index (PSI), pure.
 *
 * A feature's training distribution is a histogram on quantile bins: edges e₁ < … < eₘ (the
 * distinct training quantiles at 1/B, …, (B−1)/B) define the bins (−∞, e₁], (e₁, e₂], …,
 * (eₘ, ∞), and the fractions are the training windows' shares of each bin. Storing the fractions
 * (not only the edges) keeps PSI exact for features with ties, e.g. a quantised sensor whose
 * minimum is the same value in most windows.
 *
 * In the artifact's feature spec (`distribution[j]`, one number array per feature) a
 * distribution is encoded as `[e₁, …, eₘ, f₀, …, fₘ]` (length 2m + 1).
 *
 * PSI = Σᵢ (aᵢ − eᵢ)·ln(aᵢ/eᵢ) over the bins, with recent shares a and training shares e, both
 * floored at `epsilon` so an empty bin does not make it infinite. The usual reading:
 * below 0.1 stable, 0.1–0.25 moderate shift, above 0.25 significant shift.
 */
export interface FeatureDistribution {
  readonly edges: readonly number[];
  /** Training share of each bin, edges.length + 1 of them, summing to 1. */
  readonly fractions: readonly number[];
}

/** A stored distribution that cannot be read. */
export class DistributionError extends ValidationError {}

/** The p-quantile as a data value (inverse empirical CDF), so edges of a quantised sensor are its levels. */
function quantileSorted(sorted: readonly number[], p: number): number {
  return sorted[Math.min(Math.max(Math.ceil(p * sorted.length) - 1, 0), sorted.length - 1)]!;
}

/** The index of the bin (−∞, e₁], (e₁, e₂], …, (eₘ, ∞) that holds `v`. */
export function binIndex(edges: readonly number[], v: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (v <= edges[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Shares of `values` in each bin defined by `edges`. */
export function binShares(edges: readonly number[], values: readonly number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const v of values) counts[binIndex(edges, v)]! += 1;
  return counts.map((c) => (values.length > 0 ? c / values.length : 0));
}

/** The training distribution of one feature on `bins` quantile bins (fewer when values tie). */
export function featureDistribution(values: readonly number[], bins = 10): FeatureDistribution {
  if (values.length === 0) throw new RangeError('featureDistribution needs at least one value');
  if (!(Number.isInteger(bins) && bins >= 2)) throw new RangeError(`bins must be an integer ≥ 2, got ${bins}`);
  const sorted = [...values].sort((a, b) => a - b);
  const edges: number[] = [];
  for (let i = 1; i < bins; i++) {
    const q = quantileSorted(sorted, i / bins);
    if (edges.length === 0 || q > edges[edges.length - 1]!) edges.push(q);
  }
  return { edges, fractions: binShares(edges, values) };
}

/** `[e₁, …, eₘ, f₀, …, fₘ]`, the form stored in the feature spec. */
export function encodeDistribution(d: FeatureDistribution): number[] {
  return [...d.edges, ...d.fractions];
}

/** Reads an encoded distribution back, checking its shape. */
export function decodeDistribution(encoded: readonly number[], feature = 'feature'): FeatureDistribution {
  if (encoded.length % 2 !== 1) throw new DistributionError(`${feature}: distribution has even length ${encoded.length}`);
  const m = (encoded.length - 1) / 2;
  const edges = encoded.slice(0, m);
  const fractions = encoded.slice(m);
  for (let i = 1; i < m; i++) {
    if (!(edges[i]! > edges[i - 1]!)) throw new DistributionError(`${feature}: distribution edges are not increasing`);
  }
  const sum = fractions.reduce((a, b) => a + b, 0);
  if (fractions.some((f) => !(f >= 0)) || Math.abs(sum - 1) > 1e-6) throw new DistributionError(`${feature}: distribution fractions do not sum to 1`);
  return { edges, fractions };
}

/** PSI of `values` against a training distribution. */
export function populationStabilityIndex(expected: FeatureDistribution, values: readonly number[], epsilon = 1e-4): number {
  if (values.length === 0) return 0;
  const actual = binShares(expected.edges, values);
  let psi = 0;
  actual.forEach((a, i) => {
    const e = expected.fractions[i]!;
    if (a === 0 && e === 0) return;
    const af = Math.max(a, epsilon);
    const ef = Math.max(e, epsilon);
    psi += (af - ef) * Math.log(af / ef);
  });
  return psi;
}

export type DriftLevel = 'stable' | 'moderate' | 'significant';

/** The usual reading of a PSI value. */
export function driftLevel(psi: number): DriftLevel {
  if (psi > 0.25) return 'significant';
  if (psi >= 0.1) return 'moderate';
  return 'stable';
}

export interface FeatureDrift {
  readonly feature: string;
  readonly psi: number;
  readonly level: DriftLevel;
  /** Windows in which the feature was present and finite. */
  readonly windows: number;
}

export interface DriftReport {
  readonly windows: number;
  /** Per feature, in the feature spec's order. */
  readonly features: readonly FeatureDrift[];
  readonly maxPsi: number;
  readonly level: DriftLevel;
}

/**
 * PSI per feature of recent windows against a model's training distribution. Throws
 * DistributionError when the feature spec carries no distribution.
 */
export function featureDrift(spec: FeatureSpec, recent: readonly FeatureVector[], epsilon = 1e-4): DriftReport {
  const dists = spec.distribution;
  if (!dists || dists.length !== spec.features.length) throw new DistributionError('the feature spec has no training distribution for every feature');
  const features = spec.features.map((name, j) => {
    const dist = decodeDistribution(dists[j]!, name);
    const values = recent.map((w) => featureValue(w, name)).filter((v): v is number => v !== undefined && Number.isFinite(v));
    const psi = populationStabilityIndex(dist, values, epsilon);
    return { feature: name, psi, level: driftLevel(psi), windows: values.length };
  });
  const maxPsi = features.reduce((m, f) => Math.max(m, f.psi), 0);
  return { windows: recent.length, features, maxPsi, level: driftLevel(maxPsi) };
}
