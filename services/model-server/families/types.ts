import type { z } from 'zod';

/** Training data for a model: rows of feature values in `featureNames` order, healthy windows only. */
export interface TrainingSet {
  readonly featureNames: readonly string[];
  readonly rows: readonly (readonly number[])[];
}

/** What a family returns for one row. Contributions are per feature, same order as the feature spec. */
export interface RowScore {
  /** Scalar anomaly score; anomalous when `score >= threshold`. */
  readonly score: number;
  readonly threshold: number;
  /** Scores at or above this (and below `threshold`) indicate WARNING. */
  readonly warningThreshold: number;
  /** Component statistics and their control limits (e.g. t2 and q for PCA). */
  readonly components: Readonly<Record<string, { value: number; limit: number }>>;
  /** Non-negative contribution per feature; the scorer normalises and groups them by channel. */
  readonly featureContributions: readonly number[];
}

export interface FitResult<P> {
  readonly params: P;
  /** Training diagnostics stored in the feature spec (e.g. explained variance, false-alarm rate). */
  readonly metrics: Readonly<Record<string, number>>;
}

/**
 * A model family: a pure fit and score pair. Parameters are plain JSON (they go into
 * `model.tar.gz`), validated with `paramsSchema` when a model is loaded.
 */
export interface ModelFamily<P> {
  readonly name: string;
  readonly paramsSchema: z.ZodType<P>;
  /** Fits on healthy rows; `options` is family-specific and validated by the family. */
  fit(data: TrainingSet, options?: unknown): FitResult<P>;
  /** Scores rows (feature values in the model's feature order). Rows are scored independently unless the family is sequential. */
  score(params: P, rows: readonly (readonly number[])[]): RowScore[];
}
