import { ValidationError } from '../../../shared/errors';
import { featureValue, type FeatureVector } from '../../../shared/schemas/features';
import type { InferenceRequest, InferenceResponse, WindowScore } from '../../../shared/schemas/inference';
import { getFamily } from '../families/index';
import type { ModelFamily } from '../families/types';
import type { ModelArtifact } from './artifact';
import { InvalidArtifactError } from './artifact';

/** The request could not be scored by this model (SageMaker answers ModelError, HTTP 424). */
export class ModelInputError extends ValidationError {}

/** A model ready to score: family resolved, parameters validated once at load. */
export interface LoadedModel {
  readonly modelId: string;
  readonly version: string;
  readonly familyName: string;
  readonly features: readonly string[];
  score(request: InferenceRequest): InferenceResponse;
}

/** The channel a feature belongs to: `pressure.mean` → `pressure`. */
export function channelOf(feature: string): string {
  const dot = feature.lastIndexOf('.');
  return dot > 0 ? feature.slice(0, dot) : feature;
}

/** Rows of feature values in `features` order; a missing feature is a ModelInputError naming it. */
export function featureRows(windows: readonly FeatureVector[], features: readonly string[]): number[][] {
  return windows.map((w, i) =>
    features.map((name) => {
      const v = featureValue(w, name);
      if (v === undefined || !Number.isFinite(v)) {
        throw new ModelInputError(`windows[${i}] (windowStart ${w.windowStart}) lacks feature ${name}`);
      }
      return v;
    }),
  );
}

/** Validates an artifact's parameters against its family and returns a scorer. */
export function loadModel(artifact: ModelArtifact): LoadedModel {
  const { document, featureSpec } = artifact;
  const family = getFamily(document.family) as ModelFamily<unknown> | undefined;
  if (!family) throw new InvalidArtifactError(`unknown model family ${JSON.stringify(document.family)}`);
  const parsed = family.paramsSchema.safeParse(document.params);
  if (!parsed.success) throw new InvalidArtifactError(`params do not fit family ${document.family}: ${parsed.error.message}`);
  const params = parsed.data;
  const features = featureSpec.features;
  return {
    modelId: document.modelId,
    version: document.version,
    familyName: document.family,
    features,
    score(request: InferenceRequest): InferenceResponse {
      const rows = featureRows(request.windows, features);
      const scored = family.score(params, rows);
      const results: WindowScore[] = scored.map((s, i) => {
        const byChannel: Record<string, number> = {};
        let total = 0;
        s.featureContributions.forEach((c, j) => {
          const v = Number.isFinite(c) && c > 0 ? c : 0;
          const ch = channelOf(features[j]!);
          byChannel[ch] = (byChannel[ch] ?? 0) + v;
          total += v;
        });
        if (total > 0) for (const ch of Object.keys(byChannel)) byChannel[ch] = byChannel[ch]! / total;
        return {
          windowStart: request.windows[i]!.windowStart,
          score: s.score,
          threshold: s.threshold,
          warningThreshold: s.warningThreshold,
          components: { ...s.components },
          contributions: byChannel,
          anomalous: s.score >= s.threshold,
        };
      });
      return { modelId: document.modelId, modelVersion: document.version, family: document.family, results };
    },
  };
}
