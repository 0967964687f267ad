import { z } from 'zod';
import { PumpIdSchema } from './telemetry';

/** Per-channel statistics over one window. Feature names for models are `${channel}.${stat}`. */
export const ChannelFeaturesSchema = z.strictObject({
  count: z.number().int().nonnegative(),
  mean: z.number(),
  std: z.number().nonnegative(),
  min: z.number(),
  max: z.number(),
  rms: z.number().nonnegative(),
  last: z.number(),
  /** Least-squares slope in units per second. */
  slope: z.number(),
  /** Excess kurtosis (0 for a normal distribution, 0 when undefined). */
  kurtosis: z.number(),
  /** Peak over RMS (0 when RMS is 0). */
  crest: z.number().nonnegative(),
});
export type ChannelFeatures = z.infer<typeof ChannelFeaturesSchema>;

export const CHANNEL_STATS = ['mean', 'std', 'min', 'max', 'rms', 'last', 'slope', 'kurtosis', 'crest'] as const;
export type ChannelStat = (typeof CHANNEL_STATS)[number];

export const DataQualitySchema = z.strictObject({
  expectedSamples: z.number().int().nonnegative(),
  receivedSamples: z.number().int().nonnegative(),
  duplicateSamples: z.number().int().nonnegative(),
  /** Samples that arrived after the watermark but within the allowed lateness. */
  lateSamples: z.number().int().nonnegative(),
  /** Longest gap between consecutive samples in the window, ms. */
  maxGapMs: z.number().nonnegative(),
});
export type DataQuality = z.infer<typeof DataQualitySchema>;

export const FeatureVectorSchema = z.strictObject({
  pumpId: PumpIdSchema,
  windowStart: z.number().int(),
  windowEnd: z.number().int(),
  sampleCount: z.number().int().nonnegative(),
  channels: z.record(z.string(), ChannelFeaturesSchema),
  quality: DataQualitySchema,
});
export type FeatureVector = z.infer<typeof FeatureVectorSchema>;

/** The value of feature `channel.stat` in a vector, or undefined when the channel is absent. */
export function featureValue(vector: FeatureVector, name: string): number | undefined {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const ch = vector.channels[name.slice(0, dot)];
  if (!ch) return undefined;
  const stat = name.slice(dot + 1) as keyof ChannelFeatures;
  return stat in ch ? ch[stat] : undefined;
}
