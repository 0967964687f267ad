import { z } from 'zod';
import { chiSquareQuantile, empiricalQuantile, fQuantile, normalQuantile } from './distributions';
import { covariance, standardization, standardize, symmetricEigen } from './linalg';
import type { FitResult, ModelFamily, RowScore, TrainingSet } from './types';

/**
 * PCA monitoring with Hotelling's T² and the Q statistic (squared prediction error, SPE).
 *
 * Fit: standardise each feature on the training windows, eigendecompose their correlation
 * matrix, keep the leading components (by cumulative explained variance or a fixed count).
 * T² measures how far a window is inside the model plane (in units of each component's
 * variance), Q how far it is off the plane: a broken correlation between features shows in Q,
 * an unusually large but correlation-preserving deviation in T².
 *
 * Limits at significance `alpha`:
 * - T² (default `f`): the F-based limit for a new observation independent of the n training
 *   rows, T²lim = k(n−1)(n+1) / (n(n−k)) · F₁₋α(k, n−k). It accounts for the mean and covariance
 *   being estimated from only n windows, which matters here (a pump's baseline is a few dozen to
 *   a few hundred windows); `chi2` is its large-n limit χ²₁₋α(k); `empirical` the (1−α)-quantile
 *   of the training T² values, for data far from Gaussian.
 * - Q (default `jackson-mudholkar`): the Jackson–Mudholkar approximation from the residual
 *   eigenvalues θᵢ = Σⱼ>ₖ λⱼⁱ, falling back to Box's g·χ²(h) (g = θ₂/θ₁, h = θ₁²/θ₂) when its
 *   exponent h₀ is not positive; `empirical` the (1−α)-quantile of the training Q values.
 *
 * Score: max(T²/T²lim, Q/Qlim), so the threshold is 1 and a window is anomalous when either
 * statistic is beyond its own limit: the two tests keep their separate meanings (and their
 * limits their separate false-alarm rates), unlike a sum, whose limit would need the joint
 * distribution. The warning threshold is a fraction of the limits (default 0.8).
 *
 * Contributions: for Q the squared residual of each feature; for T² the complete decomposition
 * (Alcala & Qin), ((Λ^-½ P z) projected back)ⱼ², which is non-negative and sums to T². The
 * reported contribution is cT²ⱼ/T²lim + cQⱼ/Qlim, the decomposition of the combined index.
 */
export const PcaParamsSchema = z
  .strictObject({
    means: z.array(z.number()),
    scales: z.array(z.number().positive()),
    /** Retained principal directions (rows, unit length), in standardised feature space. */
    loadings: z.array(z.array(z.number())),
    /** Variance along each retained direction. */
    eigenvalues: z.array(z.number().positive()),
    t2Limit: z.number().positive(),
    qLimit: z.number().positive(),
    warningThreshold: z.number().positive().lte(1),
  })
  .superRefine((p, ctx) => {
    const d = p.means.length;
    if (p.scales.length !== d) ctx.addIssue({ code: 'custom', path: ['scales'], message: `expected ${d} scales` });
    if (p.eigenvalues.length !== p.loadings.length) ctx.addIssue({ code: 'custom', path: ['eigenvalues'], message: 'one eigenvalue per loading' });
    p.loadings.forEach((row, i) => {
      if (row.length !== d) ctx.addIssue({ code: 'custom', path: ['loadings', i], message: `expected ${d} entries` });
    });
  });
export type PcaParams = z.infer<typeof PcaParamsSchema>;

export const PcaOptionsSchema = z.strictObject({
  /** Keep the fewest components whose cumulative explained variance reaches this fraction. */
  varianceExplained: z.number().gt(0).lte(1).default(0.9),
  /** A fixed number of components instead (capped at the data's rank). */
  components: z.number().int().positive().optional(),
  /** Significance level of both limits: each is a (1 − alpha) quantile. */
  alpha: z.number().gt(0).lt(1).default(0.01),
  t2Limit: z.enum(['f', 'chi2', 'empirical']).default('f'),
  qLimit: z.enum(['jackson-mudholkar', 'empirical']).default('jackson-mudholkar'),
  /** Score (fraction of the limits) from which a window indicates WARNING. */
  warningThreshold: z.number().positive().lte(1).default(0.8),
  /** Scale floor relative to |mean|, for constant features (see `standardization`). */
  minRelativeStd: z.number().nonnegative().default(1e-6),
});
export type PcaOptions = z.input<typeof PcaOptionsSchema>;

/** Relative size below which an eigenvalue is numerical noise (never a retained component). */
const RANK_TOLERANCE = 1e-10;
/** Lower bound of the Q limit, so a model that explains everything does not divide by zero. */
const MIN_Q_LIMIT = 1e-9;

/** The T² limit for k components from n training rows at significance alpha. */
export function t2ControlLimit(method: 'f' | 'chi2', k: number, n: number, alpha: number): number {
  if (method === 'f' && n > k) {
    return ((k * (n - 1) * (n + 1)) / (n * (n - k))) * fQuantile(1 - alpha, k, n - k);
  }
  return chiSquareQuantile(1 - alpha, k);
}

/** The Jackson–Mudholkar Q limit from the residual eigenvalues (Box's approximation when h₀ ≤ 0). */
export function qControlLimit(residualEigenvalues: readonly number[], alpha: number): number {
  let t1 = 0;
  let t2 = 0;
  let t3 = 0;
  for (const l of residualEigenvalues) {
    t1 += l;
    t2 += l * l;
    t3 += l * l * l;
  }
  if (!(t1 > 0 && t2 > 0)) return MIN_Q_LIMIT;
  const h0 = 1 - (2 * t1 * t3) / (3 * t2 * t2);
  if (h0 > 0) {
    const c = normalQuantile(1 - alpha);
    const base = (c * Math.sqrt(2 * t2 * h0 * h0)) / t1 + 1 + (t2 * h0 * (h0 - 1)) / (t1 * t1);
    if (base > 0) return Math.max(t1 * Math.pow(base, 1 / h0), MIN_Q_LIMIT);
  }
  const g = t2 / t1;
  const h = (t1 * t1) / t2;
  return Math.max(g * chiSquareQuantile(1 - alpha, h), MIN_Q_LIMIT);
}

interface Statistics {
  readonly t2: number;
  readonly q: number;
  readonly t2Parts: number[];
  readonly qParts: number[];
}

function statistics(params: Pick<PcaParams, 'means' | 'scales' | 'loadings' | 'eigenvalues'>, row: readonly number[]): Statistics {
  const z = standardize(row, params.means, params.scales);
  const d = z.length;
  const residual = [...z];
  const back = new Array<number>(d).fill(0);
  let t2 = 0;
  params.loadings.forEach((p, i) => {
    let t = 0;
    for (let j = 0; j < d; j++) t += p[j]! * z[j]!;
    const lambda = params.eigenvalues[i]!;
    t2 += (t * t) / lambda;
    const w = t / Math.sqrt(lambda);
    for (let j = 0; j < d; j++) {
      residual[j]! -= p[j]! * t;
      back[j]! += p[j]! * w;
    }
  });
  const qParts = residual.map((r) => r * r);
  const q = qParts.reduce((a, b) => a + b, 0);
  return { t2, q, t2Parts: back.map((b) => b * b), qParts };
}

function fit(data: TrainingSet, optionsIn: unknown = {}): FitResult<PcaParams> {
  const options = PcaOptionsSchema.parse(optionsIn);
  const n = data.rows.length;
  const d = data.featureNames.length;
  if (d === 0) throw new RangeError('pca needs at least one feature');
  if (n < 3) throw new RangeError('pca needs at least 3 training rows');
  const std = standardization(data.rows, options.minRelativeStd);
  const z = data.rows.map((row) => standardize(row, std.means, std.scales));
  const eig = symmetricEigen(covariance(z));
  const total = eig.values.reduce((a, b) => a + b, 0);
  const rank = eig.values.filter((v) => v > RANK_TOLERANCE * Math.max(eig.values[0]!, 1e-300)).length;
  if (rank === 0) throw new RangeError('pca: the training rows have no variance');
  let k: number;
  if (options.components !== undefined) {
    k = Math.min(options.components, rank);
  } else {
    k = rank;
    let acc = 0;
    for (let i = 0; i < rank; i++) {
      acc += eig.values[i]!;
      if (acc >= options.varianceExplained * total * (1 - 1e-12)) {
        k = i + 1;
        break;
      }
    }
  }
  const base = {
    means: std.means,
    scales: std.scales,
    loadings: eig.vectors.slice(0, k),
    eigenvalues: eig.values.slice(0, k),
  };
  const inSample = data.rows.map((row) => statistics(base, row));
  const t2Limit =
    options.t2Limit === 'empirical'
      ? Math.max(empiricalQuantile(inSample.map((s) => s.t2), 1 - options.alpha), 1e-9)
      : t2ControlLimit(options.t2Limit, k, n, options.alpha);
  const qLimit =
    options.qLimit === 'empirical'
      ? Math.max(empiricalQuantile(inSample.map((s) => s.q), 1 - options.alpha), MIN_Q_LIMIT)
      : qControlLimit(eig.values.slice(k), options.alpha);
  const params: PcaParams = { ...base, t2Limit, qLimit, warningThreshold: options.warningThreshold };
  const explained = eig.values.slice(0, k).reduce((a, b) => a + b, 0) / (total || 1);
  const alarms = inSample.filter((s) => Math.max(s.t2 / t2Limit, s.q / qLimit) >= 1).length;
  return {
    params,
    metrics: {
      trainingRows: n,
      components: k,
      explainedVariance: explained,
      t2Limit,
      qLimit,
      flooredFeatures: std.flooredFeatures,
      trainingFalseAlarmRate: alarms / n,
    },
  };
}

function score(params: PcaParams, rows: readonly (readonly number[])[]): RowScore[] {
  return rows.map((row) => {
    const s = statistics(params, row);
    const t2Ratio = s.t2 / params.t2Limit;
    const qRatio = s.q / params.qLimit;
    return {
      score: Math.max(t2Ratio, qRatio),
      threshold: 1,
      warningThreshold: params.warningThreshold,
      components: { t2: { value: s.t2, limit: params.t2Limit }, q: { value: s.q, limit: params.qLimit } },
      featureContributions: s.t2Parts.map((c, j) => c / params.t2Limit + s.qParts[j]! / params.qLimit),
    };
  });
}

export const pcaFamily: ModelFamily<PcaParams> = {
  name: 'pca',
  paramsSchema: PcaParamsSchema,
  fit,
  score,
};
