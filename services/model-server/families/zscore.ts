import { z } from 'zod';
import { standardization, standardize } from './linalg';
import type { FitResult, ModelFamily, RowScore, TrainingSet } from './types';

/**
 * Per-feature baseline z-score: the score is the largest absolute z over the features, against
 * means and standard deviations learned from healthy windows. Simple, explainable, and the
 * default for pump types without a better model.
 */
export const ZScoreParamsSchema = z.strictObject({
  means: z.array(z.number()),
  stds: z.array(z.number().positive()),
  threshold: z.number().positive(),
  warningThreshold: z.number().positive(),
});
export type ZScoreParams = z.infer<typeof ZScoreParamsSchema>;

export const ZScoreOptionsSchema = z.strictObject({
  threshold: z.number().positive().default(6),
  warningThreshold: z.number().positive().default(4),
  /** Floor for a feature's std, relative to |mean| (guards constant features). */
  minRelativeStd: z.number().positive().default(0.01),
});
export type ZScoreOptions = z.input<typeof ZScoreOptionsSchema>;

function fit(data: TrainingSet, optionsIn: unknown = {}): FitResult<ZScoreParams> {
  const options = ZScoreOptionsSchema.parse(optionsIn);
  if (data.rows.length < 2) throw new RangeError('zscore needs at least 2 training rows');
  const { means, scales: stds } = standardization(data.rows, options.minRelativeStd);
  const params = { means, stds, threshold: options.threshold, warningThreshold: options.warningThreshold };
  const scores = score(params, data.rows).map((s) => s.score);
  const falseAlarms = scores.filter((s) => s >= options.threshold).length;
  return { params, metrics: { trainingRows: data.rows.length, trainingFalseAlarmRate: falseAlarms / scores.length } };
}

function score(params: ZScoreParams, rows: readonly (readonly number[])[]): RowScore[] {
  return rows.map((row) => {
    const z = standardize(row, params.means, params.stds).map(Math.abs);
    const max = z.reduce((a, b) => Math.max(a, b), 0);
    return {
      score: max,
      threshold: params.threshold,
      warningThreshold: params.warningThreshold,
      components: { zmax: { value: max, limit: params.threshold } },
      featureContributions: z.map((v) => v * v),
    };
  });
}

export const zscoreFamily: ModelFamily<ZScoreParams> = {
  name: 'zscore',
  paramsSchema: ZScoreParamsSchema,
  fit,
  score,
};
