import type { S3Client } from '@aws-sdk/client-s3';
import type { WindowConfig } from '../../shared/config';
import { type ModelRegistry, typeModelGroup } from '../../shared/stores/model-registry';
import type { FeatureVector } from '../../shared/schemas/features';
import { Windower } from '../consumer/core/windowing';
import { FleetSimulator } from '../ingest/simulator';
import { trainModel } from '../model-server/training/train';
import { publishModel } from './publish';

/** Channels and statistics the pump-type default models look at. */
export const DEFAULT_MODEL_FEATURES = {
  channels: ['vibration_rms', 'temperature_motor', 'temperature_bearing', 'pressure', 'pressure_suction', 'flow', 'current'],
  stats: ['mean', 'std'],
} as const;

/** Healthy windows of simulated pumps of one type (the type's reference behaviour). */
export function simulatedHealthyWindows(pumpType: string, window: WindowConfig, minutes: number, pumps: number, seed = 7): FeatureVector[] {
  const sim = new FleetSimulator({ pumps, seed, types: [pumpType], idPrefix: `ref-${pumpType}-` });
  const windower = new Windower({ window, sampleRateHz: () => sim.sampleRateHz });
  const out: FeatureVector[] = [];
  const t0 = Date.UTC(2026, 0, 1);
  const stepMs = 1000 / sim.sampleRateHz;
  for (let i = 0; i < minutes * 60 * sim.sampleRateHz; i++) {
    const t = t0 + i * stepMs;
    for (const { pumpId, sample } of sim.sampleAll(t, i / sim.sampleRateHz)) windower.add(pumpId, sample, i, 0);
    if (i % 10 === 0) out.push(...windower.poll(0, false).map((c) => c.vector));
  }
  out.push(...windower.flush().map((c) => c.vector));
  return out.filter((v) => v.quality.receivedSamples === v.quality.expectedSamples);
}

/**
 * Makes sure each pump type has an approved default model (PCA T²+Q fitted on simulated healthy
 * pumps of that type), so a new pump is scored from its first window. Idempotent. Measured on 30
 * unseen healthy pumps over 10 minutes (5 s windows): no window above the limit, 0.3 % in the
 * warning band (60 reference pumps, alpha 1e-4; with 8 reference pumps 22 % were above it).
 */
export async function ensureTypeDefaultModels(
  deps: { registry: ModelRegistry; s3: S3Client; bucket: string },
  pumpTypes: readonly string[],
  window: WindowConfig,
  nowMs: number,
): Promise<string[]> {
  const published: string[] = [];
  for (const pumpType of pumpTypes) {
    const group = typeModelGroup(pumpType);
    if (await deps.registry.approved(group)) continue;
    // Many reference pumps, so the spread between individual pumps is part of "normal".
    const windows = simulatedHealthyWindows(pumpType, window, 10, 60);
    const modelId = `${group}-pca`;
    const v = await publishModel(
      deps,
      { modelGroup: group, modelId, family: 'pca', description: `default for ${pumpType} pumps (simulated reference fleet)` },
      (version) =>
        trainModel(windows, {
          modelId,
          version: String(version),
          family: 'pca',
          familyOptions: { varianceExplained: 0.95, alpha: 0.0001 },
          features: { channels: [...DEFAULT_MODEL_FEATURES.channels], stats: [...DEFAULT_MODEL_FEATURES.stats] },
          createdAt: nowMs,
        }).artifact,
      'Approved',
      nowMs,
    );
    published.push(v.target);
  }
  return published;
}
