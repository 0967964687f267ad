import { z } from 'zod';
import { FeatureVectorSchema } from './features';
import { PumpIdSchema } from './telemetry';

/** Request body for a model invocation: windows of one pump, oldest first. */
export const InferenceRequestSchema = z.strictObject({
  pumpId: PumpIdSchema,
  windows: z.array(FeatureVectorSchema).min(1).max(500),
});
export type InferenceRequest = z.infer<typeof InferenceRequestSchema>;

/** Scores for one window. `score >= threshold` is anomalous; `warningThreshold` marks the warning band. */
export const WindowScoreSchema = z.strictObject({
  windowStart: z.number().int(),
  score: z.number(),
  threshold: z.number(),
  warningThreshold: z.number(),
  /** Named component statistics (e.g. t2, q) and their limits. */
  components: z.record(z.string(), z.strictObject({ value: z.number(), limit: z.number() })),
  /** Share of the score per channel (sums to about 1 when the score is positive). */
  contributions: z.record(z.string(), z.number()),
  anomalous: z.boolean(),
});
export type WindowScore = z.infer<typeof WindowScoreSchema>;

export const InferenceResponseSchema = z.strictObject({
  modelId: z.string(),
  modelVersion: z.string(),
  family: z.string(),
  results: z.array(WindowScoreSchema),
});
export type InferenceResponse = z.infer<typeof InferenceResponseSchema>;
