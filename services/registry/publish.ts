import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { PumpwatchError } from '../../shared/errors';
import { S3_PREFIXES } from '../../shared/names';
import type { ModelRegistry, ModelStatus, ModelVersion } from '../../shared/stores/model-registry';
import { S3ArtifactSource } from '../model-server/adapters/s3-artifact-source';
import { type ModelArtifact, packArtifact, unpackArtifact } from '../model-server/core/artifact';

/** An artifact key already holds an object: artifacts are never overwritten. */
export class ArtifactExistsError extends PumpwatchError {
  constructor(key: string) {
    super(`s3 object ${key} already exists; a new version needs a new key`, { code: 'ARTIFACT_EXISTS' });
  }
}

export interface PublishDeps {
  readonly registry: ModelRegistry;
  readonly s3: S3Client;
  readonly bucket: string;
}

/**
 * Registers a model version: reserves the next version number of the group, writes the
 * artifact to its own new key under the endpoint's model prefix (refusing to overwrite), then
 * sets the version's status (PendingManualApproval, or Approved when the policy auto-approves).
 * `build` receives the reserved version so the artifact records it.
 */
export async function publishModel(
  deps: PublishDeps,
  input: Pick<ModelVersion, 'modelGroup' | 'modelId' | 'family' | 'description' | 'metrics' | 'trainingPeriod'>,
  build: (version: number) => ModelArtifact | Promise<ModelArtifact>,
  status: Exclude<ModelStatus, 'Registering'>,
  nowMs: number,
): Promise<ModelVersion> {
  const reserved = await deps.registry.reserve(input, nowMs);
  return completeModel(deps, reserved, build, status, nowMs);
}

/**
 * The second half of {@link publishModel}, for callers that reserve first and decide afterwards
 * whether to go on (the learning coordinator): writes the artifact of a reserved (Registering)
 * version to its own new key, refusing to overwrite, then sets the version's status.
 */
export async function completeModel(
  deps: PublishDeps,
  reserved: ModelVersion,
  build: (version: number) => ModelArtifact | Promise<ModelArtifact>,
  status: Exclude<ModelStatus, 'Registering'>,
  nowMs: number,
): Promise<ModelVersion> {
  const key = `${S3_PREFIXES.models}${reserved.target}`;
  const exists = await deps.s3
    .send(new HeadObjectCommand({ Bucket: deps.bucket, Key: key }))
    .then(() => true)
    .catch((err: Error & { $metadata?: { httpStatusCode?: number } }) => {
      if (err.name === 'NotFound' || err.$metadata?.httpStatusCode === 404) return false;
      throw err;
    });
  if (exists) throw new ArtifactExistsError(key);
  const body = await packArtifact(await build(reserved.version));
  await deps.s3.send(new PutObjectCommand({ Bucket: deps.bucket, Key: key, Body: body, ContentType: 'application/gzip' }));
  return deps.registry.setStatus(reserved.modelGroup, reserved.version, status, nowMs);
}

/** Reads a published version's artifact back (feature spec and training distribution included). */
export async function readModelArtifact(deps: Pick<PublishDeps, 's3' | 'bucket'>, target: string): Promise<ModelArtifact> {
  const source = new S3ArtifactSource({ client: deps.s3, bucket: deps.bucket, prefix: S3_PREFIXES.models });
  return unpackArtifact(await source.get(target));
}
