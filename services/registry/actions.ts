import { NotFoundError, ValidationError } from '../../shared/errors';
import type { PumpRecord } from '../../shared/schemas/pump';
import { type ModelRegistry, type ModelVersion, pumpModelGroup, typeModelGroup } from '../../shared/stores/model-registry';
import type { WindowStore } from '../../shared/stores/window-store';
import type { ModelArtifact } from '../model-server/core/artifact';
import { type DriftReport, featureDrift } from '../model-server/training/drift';

/**
 * What data scientists do to model versions, on the registry port (so the same code works on
 * the local table and on the SageMaker Model Registry). Routing follows by itself: the newest
 * Approved version of a group serves, and consumers re-read it within their route refresh.
 */

/** The version a pump is served by: its own newest Approved, else its type's, else none (LEARNING). */
export async function servingVersion(registry: ModelRegistry, pump: Pick<PumpRecord, 'pumpId' | 'pumpType'>): Promise<ModelVersion | undefined> {
  return (await registry.approved(pumpModelGroup(pump.pumpId))) ?? (await registry.approved(typeModelGroup(pump.pumpType)));
}

async function existing(registry: ModelRegistry, modelGroup: string, version: number): Promise<ModelVersion> {
  const v = await registry.get(modelGroup, version);
  if (!v) throw new NotFoundError(`model ${modelGroup} v${version} does not exist`);
  return v;
}

/** Approves a version: it serves its group's pumps from their next route refresh (when it is the newest Approved). */
export async function approveVersion(registry: ModelRegistry, modelGroup: string, version: number, nowMs: number): Promise<ModelVersion> {
  const v = await existing(registry, modelGroup, version);
  if (v.status === 'Registering') throw new ValidationError(`model ${modelGroup} v${version} is still being registered (its artifact may not exist yet)`);
  if (v.status === 'Approved') return v;
  return registry.setStatus(modelGroup, version, 'Approved', nowMs);
}

/** The result of a rejection: the version rejected and the one that serves the group now. */
export interface RejectResult {
  readonly rejected: ModelVersion;
  /** Whether the rejected version was the one serving (a rollback). */
  readonly wasServing: boolean;
  /** The group's newest Approved version after the rejection, if any. */
  readonly serving: ModelVersion | undefined;
}

/** Rejects a version. Rejecting the serving version rolls the group back to its previous Approved one. */
export async function rejectVersion(registry: ModelRegistry, modelGroup: string, version: number, nowMs: number): Promise<RejectResult> {
  await existing(registry, modelGroup, version);
  const before = await registry.approved(modelGroup);
  const rejected = await registry.setStatus(modelGroup, version, 'Rejected', nowMs);
  return { rejected, wasServing: before?.version === version, serving: await registry.approved(modelGroup) };
}

/** Rejects the group's serving (newest Approved) version, so the previous Approved one serves. */
export async function rollbackGroup(registry: ModelRegistry, modelGroup: string, nowMs: number): Promise<RejectResult> {
  const current = await registry.approved(modelGroup);
  if (!current) throw new NotFoundError(`model group ${modelGroup} has no approved version to roll back`);
  return rejectVersion(registry, modelGroup, current.version, nowMs);
}

/** PSI per feature of a pump's recent windows against a model version's training distribution. */
export interface DriftResult {
  readonly model: ModelVersion;
  readonly report: DriftReport;
  /** Window starts of the recent windows compared (oldest, newest). */
  readonly period: { readonly from: number; readonly to: number } | null;
}

/**
 * Drift of a pump's recent `windows` windows (live history, any status) against `model`'s
 * training distribution, read from its artifact.
 */
export async function pumpDrift(
  deps: { readonly windows: WindowStore; readonly readArtifact: (target: string) => Promise<ModelArtifact> },
  pumpId: string,
  model: ModelVersion,
  windows: number,
): Promise<DriftResult> {
  if (!(Number.isInteger(windows) && windows > 0)) throw new ValidationError(`windows must be a positive integer, got ${windows}`);
  const artifact = await deps.readArtifact(model.target);
  const recent = (await deps.windows.query(pumpId, { newestFirst: true, limit: windows })).reverse();
  const report = featureDrift(artifact.featureSpec, recent.map((w) => w.features));
  return { model, report, period: recent.length > 0 ? { from: recent[0]!.windowStart, to: recent[recent.length - 1]!.windowStart } : null };
}
