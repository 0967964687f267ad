import type { FeatureVector } from '../../shared/schemas/features';
import type { WindowStatus } from '../../shared/schemas/condition';
import { type ModelStatus, type ModelVersion, pumpModelGroup } from '../../shared/stores/model-registry';
import type { WindowItem, WindowStore } from '../../shared/stores/window-store';
import type { ModelArtifact } from '../model-server/core/artifact';
import type { DetectionPreset } from '../model-server/training/presets';
import { type TrainedModel, trainModel, usableForTraining } from '../model-server/training/train';
import { completeModel, type PublishDeps } from './publish';

/**
 * Fitting a pump's own model from its stored window history — the one code path the learning
 * coordinator, `pumpwatch models train` and `pumpwatch eval skab` share: pick the healthy
 * windows, fit the preset's family with trainModel, write a new versioned artifact and register
 * it in the pump's group (`pump-<pumpId>`).
 */

/** Which stored windows count as healthy training data. */
export interface TrainingWindowFilter {
  /** Windows starting at or after this (epoch ms). */
  readonly from?: number;
  /** Windows ending at or before this (epoch ms). */
  readonly to?: number;
  /** Statuses to take (default SCORED and UNROUTED; UNSCORED windows were never evaluated). */
  readonly statuses?: readonly WindowStatus[];
  /** Windows below this received/expected ratio are left out. */
  readonly minQualityRatio: number;
  /** Take only the newest this many healthy windows. */
  readonly maxWindows?: number;
}

const DEFAULT_STATUSES: readonly WindowStatus[] = ['SCORED', 'UNROUTED'];

/**
 * A window fit to learn "normal" from: of a wanted status, complete enough, and neither the
 * window's own level nor the condition after it WARNING or ALARM (a vibration zone or the
 * model flagged it). A window whose outcome was never recorded counts as healthy only when it
 * was UNROUTED (nothing judged it, so nothing flagged it).
 */
export function isHealthyWindow(item: WindowItem, filter: Pick<TrainingWindowFilter, 'statuses' | 'minQualityRatio'>): boolean {
  if (!(filter.statuses ?? DEFAULT_STATUSES).includes(item.status)) return false;
  if (item.level === undefined && item.status !== 'UNROUTED') return false;
  if (item.level !== undefined && item.level !== 'NORMAL') return false;
  if (item.state === 'WARNING' || item.state === 'ALARM') return false;
  return usableForTraining(item.features, filter.minQualityRatio);
}

/**
 * The healthy windows of a pump's live history, oldest first. With `maxWindows`, the newest
 * ones: the query reads newest first and stops after 4 × maxWindows items, so one old, long
 * history is not read whole.
 */
export async function loadTrainingWindows(windows: WindowStore, pumpId: string, filter: TrainingWindowFilter): Promise<FeatureVector[]> {
  const items = await windows.query(pumpId, {
    ...(filter.from !== undefined ? { from: filter.from } : {}),
    ...(filter.to !== undefined ? { to: filter.to } : {}),
    ...(filter.maxWindows !== undefined ? { newestFirst: true, limit: 4 * filter.maxWindows } : {}),
  });
  const healthy = items
    .filter((i) => (filter.to === undefined || i.windowEnd <= filter.to) && isHealthyWindow(i, filter))
    .sort((a, b) => a.windowStart - b.windowStart)
    .map((i) => i.features);
  return filter.maxWindows !== undefined && healthy.length > filter.maxWindows ? healthy.slice(healthy.length - filter.maxWindows) : healthy;
}

/**
 * Fits a preset on windows (pure); the artifact's version is filled in once one is reserved.
 * `minWindows` overrides the preset's `training.minWindows`.
 */
export function fitPreset(pumpId: string, preset: DetectionPreset, vectors: readonly FeatureVector[], nowMs: number, minWindows?: number): TrainedModel {
  return trainModel(vectors, {
    modelId: `${pumpModelGroup(pumpId)}-${preset.family}`,
    version: 'unreserved',
    family: preset.family,
    familyOptions: preset.familyOptions,
    features: preset.features,
    createdAt: nowMs,
    minQualityRatio: preset.training.minQualityRatio,
    minWindows: minWindows ?? preset.training.minWindows,
  });
}

/** The artifact of a fitted model, stamped with its registry version. */
export function withVersion(artifact: ModelArtifact, version: number): ModelArtifact {
  return { ...artifact, document: { ...artifact.document, version: String(version) } };
}

/** What a trained model is registered with. */
export function registrationOf(
  pumpId: string,
  preset: DetectionPreset,
  trained: TrainedModel,
  origin: string,
): Pick<ModelVersion, 'modelGroup' | 'modelId' | 'family' | 'description' | 'metrics' | 'trainingPeriod'> {
  const spec = trained.artifact.featureSpec;
  const metrics: Record<string, number> = { trainingWindows: trained.windows, skippedWindows: trained.skippedWindows };
  for (const [k, v] of Object.entries(spec.trainingMetrics)) if (Number.isFinite(v)) metrics[k] = v;
  return {
    modelGroup: pumpModelGroup(pumpId),
    modelId: trained.artifact.document.modelId,
    family: trained.artifact.document.family,
    description: `${origin}: preset ${preset.name}, ${trained.windows} windows, ${spec.features.length} features`.slice(0, 1024),
    metrics,
    ...(spec.trainingPeriod ? { trainingPeriod: spec.trainingPeriod } : {}),
  };
}

/** Publishes a fitted model as a new version of the pump's group (reserve ▸ artifact ▸ status). */
export async function publishTrained(
  deps: PublishDeps,
  pumpId: string,
  preset: DetectionPreset,
  trained: TrainedModel,
  status: Exclude<ModelStatus, 'Registering'>,
  nowMs: number,
  origin = 'trained',
): Promise<ModelVersion> {
  const reserved = await deps.registry.reserve(registrationOf(pumpId, preset, trained, origin), nowMs);
  return completeModel(deps, reserved, (v) => withVersion(trained.artifact, v), status, nowMs);
}
