import { z } from 'zod';
import { empiricalQuantile } from './distributions';
import { standardization, standardize } from './linalg';
import type { FitResult, ModelFamily, RowScore, TrainingSet } from './types';

/**
 * Similarity-based modelling in the MSET family: a memory matrix of healthy training windows and
 * a nonlinear similarity operator estimate, for each new window, the healthy state that best
 * explains it; the residual (observed − estimated) per feature is the evidence.
 *
 * The estimator is auto-associative kernel regression (AAKR), the regularised form of MSET:
 * with standardised features z and memory vectors mᵢ,
 *
 *   wᵢ = exp(−‖z − mᵢ‖² / (2·h²·d)),   ẑ = Σ wᵢ mᵢ / Σ wᵢ,   r = z − ẑ.
 *
 * (Classic MSET also multiplies by the inverse of the memory's own similarity matrix; with
 * overlapping windows as memory that matrix is close to singular, and the kernel-weighted form is
 * the standard remedy.) The distance is divided by d so the bandwidth h is in standard units per
 * feature, whatever the number of features.
 *
 * Why it suits windowed pump features better than a single Gaussian model (PCA, Mahalanobis):
 * the healthy states need not be one ellipsoid (a pump's operating points, a slowly warming
 * motor), a window inside the span of the memory is explained whatever its shape, and the
 * per-feature residual points at the sensor that left the healthy states. On SKAB valve1 it
 * reaches F1 0.885 on all channels where PCA T²+Q on the same data reaches 0.775 (presets.ts).
 *
 * Score: the largest absolute residual over the features (`aggregate: 'max'`, default), or
 * their root mean square (`'rms'`), in one of two units:
 * - `residualUnit: 'standard'` (default): training standard deviations. A window scores high
 *   when it leaves the healthy range of some feature. A feature's scale is its training standard
 *   deviation floored at `minRelativeStd`·|mean|: a window statistic of a quiet pump can have a
 *   tiny spread over a short baseline, and the floor keeps a deviation below a fraction of the
 *   operating level from counting as many "sigmas" (on SKAB valve1, a 0.5 % floor scores
 *   F1 0.885 where 0.2 % scores 0.848 and 1 % scores 0.797).
 * - `'leave-one-out'`: each feature's leave-one-out residual spread over the memory (floored at
 *   `minResidualScale` standard units), as classic MSET residual tests do. A broken relation
 *   between features then shows even inside their ranges, at the price of more alarms on drift.
 * Contributions: the squared residual of each feature, in the same unit.
 */
export const MsetParamsSchema = z
  .strictObject({
    means: z.array(z.number()),
    scales: z.array(z.number().positive()),
    /** Memory vectors (standardised healthy windows), one row per vector. */
    memory: z.array(z.array(z.number())).min(1),
    /** Per-feature residual unit, in standard units (all 1 when residuals are scored in standard units). */
    residualScales: z.array(z.number().positive()),
    bandwidth: z.number().positive(),
    aggregate: z.enum(['max', 'rms']),
    threshold: z.number().positive(),
    warningThreshold: z.number().positive(),
  })
  .superRefine((p, ctx) => {
    const d = p.means.length;
    if (p.scales.length !== d) ctx.addIssue({ code: 'custom', path: ['scales'], message: `expected ${d} scales` });
    if (p.residualScales.length !== d) ctx.addIssue({ code: 'custom', path: ['residualScales'], message: `expected ${d} residual scales` });
    p.memory.forEach((row, i) => {
      if (row.length !== d) ctx.addIssue({ code: 'custom', path: ['memory', i], message: `expected ${d} entries` });
    });
    if (p.warningThreshold > p.threshold) ctx.addIssue({ code: 'custom', path: ['warningThreshold'], message: 'must not exceed threshold' });
  });
export type MsetParams = z.infer<typeof MsetParamsSchema>;

export const MsetOptionsSchema = z
  .strictObject({
    /** Kernel bandwidth, in standard units per feature. */
    bandwidth: z.number().positive().default(1),
    /** Most memory vectors kept (the training windows, thinned deterministically beyond this). */
    maxMemory: z.number().int().min(2).max(5000).default(500),
    aggregate: z.enum(['max', 'rms']).default('max'),
    /**
     * Unit of the residuals: `standard` scores them in training standard deviations (a window must
     * leave the healthy range); `leave-one-out` in each feature's leave-one-out residual spread over
     * the memory (sensitive to a broken relation between features inside the range, as classic
     * MSET residual tests are), floored at `minResidualScale` standard units.
     */
    residualUnit: z.enum(['standard', 'leave-one-out']).default('standard'),
    minResidualScale: z.number().positive().lte(1).default(0.1),
    /** ALARM from this score (standard units). */
    threshold: z.number().positive().default(5),
    /** WARNING from this score. */
    warningThreshold: z.number().positive().default(4),
    /** Scale floor relative to |mean| (see the family's doc). */
    minRelativeStd: z.number().nonnegative().default(0.005),
  })
  .refine((o) => o.warningThreshold <= o.threshold, { message: 'warningThreshold must not exceed threshold', path: ['warningThreshold'] });
export type MsetOptions = z.input<typeof MsetOptionsSchema>;

/**
 * Picks at most `max` rows: for each feature the rows holding its minimum and maximum (so the
 * memory spans the whole healthy range, MSET's min-max selection), then rows evenly spaced in
 * training order. Deterministic.
 */
export function selectMemory(rows: readonly (readonly number[])[], max: number): number[] {
  const n = rows.length;
  if (n <= max) return rows.map((_, i) => i);
  const d = rows[0]!.length;
  const chosen = new Set<number>();
  for (let j = 0; j < d && chosen.size < max; j++) {
    let lo = 0;
    let hi = 0;
    for (let i = 1; i < n; i++) {
      if (rows[i]![j]! < rows[lo]![j]!) lo = i;
      if (rows[i]![j]! > rows[hi]![j]!) hi = i;
    }
    chosen.add(lo);
    if (chosen.size < max) chosen.add(hi);
  }
  const remaining = max - chosen.size;
  const rest = rows.map((_, i) => i).filter((i) => !chosen.has(i));
  for (let s = 0; s < remaining; s++) chosen.add(rest[Math.floor(((s + 0.5) * rest.length) / remaining)]!);
  return [...chosen].sort((a, b) => a - b);
}

/** Kernel-weighted estimate of z from the memory, skipping memory row `skip` (for leave-one-out). */
function estimate(memory: readonly (readonly number[])[], bandwidth: number, z: readonly number[], skip = -1): number[] {
  const d = z.length;
  const dist = memory.map((m, i) => {
    if (i === skip) return Number.POSITIVE_INFINITY;
    let s = 0;
    for (let j = 0; j < d; j++) {
      const e = z[j]! - m[j]!;
      s += e * e;
    }
    return s / d;
  });
  // Shifting by the nearest distance cancels in the normalisation and keeps far windows from
  // underflowing every weight to zero.
  const nearest = dist.reduce((a, b) => Math.min(a, b), Number.POSITIVE_INFINITY);
  const twoH2 = 2 * bandwidth * bandwidth;
  const est = new Array<number>(d).fill(0);
  let total = 0;
  memory.forEach((m, i) => {
    const w = Math.exp(-(dist[i]! - nearest) / twoH2);
    if (!(w > 0)) return;
    total += w;
    for (let j = 0; j < d; j++) est[j]! += w * m[j]!;
  });
  return est.map((v) => v / total);
}

function residualScore(aggregate: MsetParams['aggregate'], residual: readonly number[]): number {
  if (aggregate === 'max') return residual.reduce((a, r) => Math.max(a, Math.abs(r)), 0);
  return Math.sqrt(residual.reduce((a, r) => a + r * r, 0) / residual.length);
}

function fit(data: TrainingSet, optionsIn: unknown = {}): FitResult<MsetParams> {
  const options = MsetOptionsSchema.parse(optionsIn);
  const n = data.rows.length;
  const d = data.featureNames.length;
  if (d === 0) throw new RangeError('mset needs at least one feature');
  if (n < 2) throw new RangeError('mset needs at least 2 training rows');
  const std = standardization(data.rows, options.minRelativeStd);
  const z = data.rows.map((row) => standardize(row, std.means, std.scales));
  const memory = selectMemory(z, options.maxMemory).map((i) => z[i]!);
  // Leave-one-out residuals of the memory vectors: how far a healthy window is from what the rest
  // of the memory explains (in-sample residuals are near 0 by construction).
  const looResiduals =
    memory.length > 1
      ? memory.map((m, i) => {
          const est = estimate(memory, options.bandwidth, m, i);
          return m.map((v, j) => v - est[j]!);
        })
      : [new Array<number>(d).fill(0)];
  const residualScales =
    options.residualUnit === 'standard'
      ? new Array<number>(d).fill(1)
      : std.means.map((_, j) => {
          const rms = Math.sqrt(looResiduals.reduce((a, r) => a + r[j]! * r[j]!, 0) / looResiduals.length);
          return Math.max(rms, options.minResidualScale);
        });
  const params: MsetParams = {
    means: std.means,
    scales: std.scales,
    memory,
    residualScales,
    bandwidth: options.bandwidth,
    aggregate: options.aggregate,
    threshold: options.threshold,
    warningThreshold: options.warningThreshold,
  };
  const loo = looResiduals.map((r) => residualScore(options.aggregate, r.map((v, j) => v / residualScales[j]!)));
  const looAlarms = loo.filter((s) => s >= options.threshold).length;
  return {
    params,
    metrics: {
      trainingRows: n,
      memoryVectors: memory.length,
      flooredFeatures: std.flooredFeatures,
      leaveOneOutScoreP50: empiricalQuantile(loo, 0.5),
      leaveOneOutScoreP99: empiricalQuantile(loo, 0.99),
      leaveOneOutFalseAlarmRate: looAlarms / memory.length,
    },
  };
}

function score(params: MsetParams, rows: readonly (readonly number[])[]): RowScore[] {
  return rows.map((row) => {
    const z = standardize(row, params.means, params.scales);
    const est = estimate(params.memory, params.bandwidth, z);
    const residual = z.map((v, j) => (v - est[j]!) / params.residualScales[j]!);
    const s = residualScore(params.aggregate, residual);
    return {
      score: s,
      threshold: params.threshold,
      warningThreshold: params.warningThreshold,
      components: { residual: { value: s, limit: params.threshold } },
      featureContributions: residual.map((r) => r * r),
    };
  });
}

export const msetFamily: ModelFamily<MsetParams> = {
  name: 'mset',
  paramsSchema: MsetParamsSchema,
  fit,
  score,
};
