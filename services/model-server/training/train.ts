import { z } from 'zod';
import { ValidationError } from '../../../shared/errors';
import { CHANNEL_STATS, featureValue, type FeatureVector } from '../../../shared/schemas/features';
import type { ModelArtifact } from '../core/artifact';
import { getFamily } from '../families/index';
import { encodeDistribution, featureDistribution } from './drift';

/**
 * Fitting a model family on a pump's healthy windows, pure: feature vectors in, a complete
 * `ModelArtifact` out (document with the family's parameters, and a feature spec with the ordered
 * feature names, training period, training metrics and per-feature training distribution).
 * The caller injects `createdAt` and the ids; nothing here reads a clock.
 */

/** Which features a model uses: explicit names, or the product of channels × stats. */
export const FeatureSelectionSchema = z.union([
  z.strictObject({
    /** Feature names `${channel}.${stat}`, in model order. */
    names: z.array(z.string().min(3)).min(1),
  }),
  z.strictObject({
    /** Channels to use; default: every channel present in all training windows. */
    channels: z.array(z.string().min(1)).min(1).optional(),
    /** Channels to leave out of the default set. */
    excludeChannels: z.array(z.string().min(1)).optional(),
    stats: z.array(z.enum(CHANNEL_STATS)).min(1),
  }),
]);
export type FeatureSelection = z.infer<typeof FeatureSelectionSchema>;

export const TrainOptionsSchema = z.strictObject({
  modelId: z.string().min(1),
  version: z.string().min(1),
  family: z.string().min(1),
  /** Family-specific options, validated by the family. */
  familyOptions: z.unknown().optional(),
  features: FeatureSelectionSchema,
  /** Epoch ms stamped on the artifact (injected: the same inputs give the same artifact). */
  createdAt: z.number().int(),
  /** Windows with fewer received than this share of expected samples are left out (partial windows). */
  minQualityRatio: z.number().min(0).max(1).default(0.8),
  /** Fewest usable windows to fit on. */
  minWindows: z.number().int().positive().default(10),
  /** Quantile bins of the per-feature training distribution (for drift). */
  distributionBins: z.number().int().min(2).max(100).default(10),
});
export type TrainOptions = z.input<typeof TrainOptionsSchema>;

/** Training could not run on the given windows (too few, a missing feature, unknown family). */
export class TrainingError extends ValidationError {}

export interface TrainedModel {
  readonly artifact: ModelArtifact;
  /** Windows fitted on, in window order. */
  readonly windows: number;
  /** Windows left out for data quality. */
  readonly skippedWindows: number;
}

/** The feature names a selection resolves to on these windows, in model order. */
export function resolveFeatures(selection: FeatureSelection, windows: readonly FeatureVector[]): string[] {
  if ('names' in selection) return [...selection.names];
  let channels: string[];
  if (selection.channels) {
    channels = [...selection.channels];
  } else {
    const common = windows.reduce<Set<string> | null>((acc, w) => {
      const names = new Set(Object.keys(w.channels).filter((c) => w.channels[c]!.count > 0));
      return acc === null ? names : new Set([...acc].filter((c) => names.has(c)));
    }, null);
    channels = [...(common ?? [])].sort();
  }
  const excluded = new Set(selection.excludeChannels ?? []);
  channels = channels.filter((c) => !excluded.has(c));
  return channels.flatMap((c) => selection.stats.map((s) => `${c}.${s}`));
}

/** Whether a window is complete enough to train on. */
export function usableForTraining(w: FeatureVector, minQualityRatio: number): boolean {
  const { expectedSamples, receivedSamples } = w.quality;
  return expectedSamples === 0 ? receivedSamples > 0 : receivedSamples / expectedSamples >= minQualityRatio;
}

/** Fits `options.family` on healthy windows and builds the artifact. */
export function trainModel(windows: readonly FeatureVector[], optionsIn: TrainOptions): TrainedModel {
  const parsed = TrainOptionsSchema.safeParse(optionsIn);
  if (!parsed.success) throw new TrainingError(`invalid training options: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const options = parsed.data;
  const family = getFamily(options.family);
  if (!family) throw new TrainingError(`unknown model family ${JSON.stringify(options.family)}`);
  const sorted = [...windows].sort((a, b) => a.windowStart - b.windowStart);
  const usable = sorted.filter((w) => usableForTraining(w, options.minQualityRatio));
  if (usable.length < options.minWindows) {
    throw new TrainingError(`need at least ${options.minWindows} usable windows, got ${usable.length} (of ${windows.length})`);
  }
  const features = resolveFeatures(options.features, usable);
  if (features.length === 0) throw new TrainingError('the feature selection resolves to no features');
  const rows = usable.map((w) =>
    features.map((name) => {
      const v = featureValue(w, name);
      if (v === undefined || !Number.isFinite(v)) throw new TrainingError(`window ${w.windowStart} lacks feature ${name}`);
      return v;
    }),
  );
  let fitted;
  try {
    fitted = family.fit({ featureNames: features, rows }, options.familyOptions ?? {});
  } catch (err) {
    if (err instanceof z.ZodError) throw new TrainingError(`invalid ${family.name} options: ${err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, err);
    if (err instanceof RangeError) throw new TrainingError(err.message, err);
    throw err;
  }
  const distribution = features.map((_, j) => encodeDistribution(featureDistribution(rows.map((r) => r[j]!), options.distributionBins)));
  const artifact: ModelArtifact = {
    document: {
      format: 'pumpwatch-model/1',
      modelId: options.modelId,
      version: options.version,
      family: family.name,
      createdAt: options.createdAt,
      params: fitted.params,
    },
    featureSpec: {
      features,
      trainingPeriod: { from: usable[0]!.windowStart, to: usable[usable.length - 1]!.windowEnd },
      trainingWindows: usable.length,
      trainingMetrics: { ...fitted.metrics, skippedWindows: windows.length - usable.length },
      distribution,
    },
  };
  return { artifact, windows: usable.length, skippedWindows: windows.length - usable.length };
}
