import { packArtifact, type ModelArtifact } from '../../../services/model-server/core/artifact';
import { zscoreFamily } from '../../../services/model-server/families/zscore';
import type { FeatureVector } from '../../../shared/schemas/features';
import type { InferenceRequest } from '../../../shared/schemas/inference';

/** Features the test models are trained on. */
export const TEST_FEATURES = ['vibration.rms', 'pressure.mean'] as const;

/**
 * A real zscore model fitted on synthetic healthy windows centred on `vibration` / `pressure`,
 * packed as `model.tar.gz` bytes.
 */
export async function zscoreModelTarGz(modelId: string, version: string, centre: { vibration: number; pressure: number }): Promise<Buffer> {
  const rows: number[][] = [];
  for (let i = 0; i < 40; i++) {
    // Deterministic spread around the centre (±10% / ±5%).
    const u = ((i * 37) % 41) / 40 - 0.5;
    const v = ((i * 53) % 43) / 42 - 0.5;
    rows.push([centre.vibration * (1 + 0.2 * u), centre.pressure * (1 + 0.1 * v)]);
  }
  const fit = zscoreFamily.fit({ featureNames: TEST_FEATURES, rows });
  const artifact: ModelArtifact = {
    document: { format: 'pumpwatch-model/1', modelId, version, family: zscoreFamily.name, createdAt: 1_700_000_000_000, params: fit.params },
    featureSpec: { features: [...TEST_FEATURES], trainingPeriod: { from: 0, to: 400_000 }, trainingWindows: rows.length, trainingMetrics: { ...fit.metrics } },
  };
  return packArtifact(artifact);
}

function channel(value: number) {
  return { count: 10, mean: value, std: 0.1, min: value, max: value, rms: value, last: value, slope: 0, kurtosis: 0, crest: 1 };
}

/** One feature window of pump `pumpId` with the given channel levels. */
export function featureWindow(pumpId: string, windowStart: number, levels: { vibration?: number; pressure?: number }): FeatureVector {
  const channels: FeatureVector['channels'] = {};
  if (levels.vibration !== undefined) channels.vibration = channel(levels.vibration);
  if (levels.pressure !== undefined) channels.pressure = channel(levels.pressure);
  return {
    pumpId,
    windowStart,
    windowEnd: windowStart + 10_000,
    sampleCount: 10,
    channels,
    quality: { expectedSamples: 10, receivedSamples: 10, duplicateSamples: 0, lateSamples: 0, maxGapMs: 1_000 },
  };
}

/** An inference request for pump `pumpId`, one window per entry of `levels`. */
export function inferenceRequest(pumpId: string, levels: { vibration?: number; pressure?: number }[]): InferenceRequest {
  return { pumpId, windows: levels.map((l, i) => featureWindow(pumpId, i * 10_000, l)) };
}
