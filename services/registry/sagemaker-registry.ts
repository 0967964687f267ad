import { createHash } from 'node:crypto';
import {
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  DescribeModelPackageCommand,
  type DescribeModelPackageCommandOutput,
  DescribeModelPackageGroupCommand,
  ListModelPackageGroupsCommand,
  ListModelPackagesCommand,
  type ModelPackageSummary,
  type SageMakerClient,
  UpdateModelPackageCommand,
  type UpdateModelPackageCommandInput,
} from '@aws-sdk/client-sagemaker';
import { modelPackageGroupName, pumpModelPackageGroupPrefix } from '../../shared/names';
import { ConditionFailedError, isRetryableAwsError, NotFoundError, PumpwatchError, TransientError, ValidationError } from '../../shared/errors';
import { S3_PREFIXES } from '../../shared/names';
import {
  type ModelRegistry,
  type ModelStatus,
  type ModelVersion,
  ModelVersionSchema,
  modelTarget,
  parseModelGroup,
  typeModelGroup,
} from '../../shared/stores/model-registry';

/**
 * The model registry port on the SageMaker Model Registry (the source of truth on AWS).
 *
 * Mapping:
 * - a pumpwatch model group is a SageMaker model package group: `type-<pumpType>` →
 *   `pumpwatch-<stage>-<pumpType>` (the groups the CDK app creates, infra/config.ts
 *   `modelPackageGroupName`); `pump-<pumpId>` → `pumpwatch-<stage>-pump-<slug>-<hash8>` (pump ids
 *   allow characters and lengths package group names do not; the hash keeps the name unique),
 *   created on the pump's first version;
 * - a version is a model package version (`ModelPackageVersion`, assigned by SageMaker on
 *   CreateModelPackage, so `reserve` needs no conditional write: two trainers get two versions);
 * - status is `ModelApprovalStatus` (Approved, Rejected, PendingManualApproval). `Registering`
 *   does not exist in SageMaker: a reserved version is created PendingManualApproval, without an
 *   InferenceSpecification (optional for versioned packages), and carries the metadata property
 *   `pumpwatch:status=Registering`; setStatus adds the InferenceSpecification (the container
 *   image and `ModelDataUrl = s3://<bucket>/models/<target>`) and removes the marker;
 * - the TargetModel is the `ModelDataUrl` relative to the endpoint's prefix (`models/`), so it
 *   is `pumps/<pumpId>/v<version>/model.tar.gz` like the local adapter's; a package whose model
 *   data lies outside that prefix cannot be served by the multi-model endpoint and is left out;
 * - modelId, family, training period and metrics live in `CustomerMetadataProperties`
 *   (`pumpwatch:*`, values ≤ 256 characters, at most 40 metrics); the description in
 *   `ModelPackageDescription`;
 * - newest Approved wins: ListModelPackages(Approved, by CreationTime descending).
 * createdAt/updatedAt are SageMaker's CreationTime/LastModifiedTime, not the caller's clock.
 *
 * Not available locally (no SageMaker control-plane emulator): the calls are tested by their
 * request mapping and error mapping only; the local stack uses DynamoDbModelRegistry, and the
 * CDK app grants the consumer Create/Update on the pump groups (`pumpwatch-<stage>-pump-*`) and
 * its state-change rule covers them, so pump baselines route on AWS too.
 */

/** Metadata keys the adapter writes on every model package. */
export const METADATA = {
  modelGroup: 'pumpwatch:modelGroup',
  modelId: 'pumpwatch:modelId',
  family: 'pumpwatch:family',
  status: 'pumpwatch:status',
  trainingFrom: 'pumpwatch:trainingFrom',
  trainingTo: 'pumpwatch:trainingTo',
  metricPrefix: 'pumpwatch:metric:',
} as const;

const GROUP_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
const MAX_METRICS = 40;

/** The SageMaker model package group of a pumpwatch model group. */
export function sageMakerGroupName(stage: string, modelGroup: string): string {
  const ref = parseModelGroup(modelGroup);
  if (ref?.kind === 'type') {
    const name = modelPackageGroupName(stage, ref.pumpType);
    if (GROUP_NAME.test(name)) return name;
  }
  const base = ref?.kind === 'pump' ? pumpModelPackageGroupPrefix(stage).slice(0, -1) : `pumpwatch-${stage}-group`;
  const id = ref?.kind === 'pump' ? ref.pumpId : modelGroup;
  const hash = createHash('sha256').update(id).digest('hex').slice(0, 8);
  const room = 63 - base.length - hash.length - 2;
  const slug = id
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, Math.max(0, room))
    .replace(/^-+|-+$/g, '');
  return slug ? `${base}-${slug}-${hash}` : `${base}-${hash}`;
}

/** The version number at the end of a model package ARN (`…:model-package/<group>/<version>`). */
export function versionFromArn(arn: string): number {
  const m = /:model-package\/[^/]+\/(\d+)$/.exec(arn);
  if (!m) throw new ValidationError(`not a versioned model package ARN: ${arn}`);
  return Number(m[1]);
}

/**
 * Maps a SageMaker error to the project's family, keeping it as `cause`. SageMaker reports a
 * missing model package or group as ValidationException ("… does not exist"), so that one case
 * is recognised by its message, here at the SDK boundary only.
 */
export function mapSageMakerError(err: unknown, operation: string): PumpwatchError {
  if (err instanceof PumpwatchError) return err;
  const name = err instanceof Error ? err.name : 'Unknown';
  const message = err instanceof Error ? err.message : String(err);
  if (name === 'ResourceNotFound' || name === 'ResourceNotFoundException') return new NotFoundError(`${operation}: ${message}`, err);
  if (name === 'ValidationException' && /does not exist|not found|cannot be found/i.test(message)) return new NotFoundError(`${operation}: ${message}`, err);
  if (name === 'ConflictException' || name === 'ResourceInUse') return new ConditionFailedError(`${operation}: ${message}`, err);
  if (name === 'ResourceLimitExceeded') return new PumpwatchError(`${operation}: ${message}`, { code: 'LIMIT_EXCEEDED', cause: err });
  if (isRetryableAwsError(err)) return new TransientError(`${operation}: ${name}`, err);
  if (name === 'ValidationException') return new ValidationError(`${operation}: ${message}`, err);
  if (name === 'AccessDeniedException') return new PumpwatchError(`${operation}: ${message}`, { code: 'ACCESS_DENIED', cause: err });
  return new PumpwatchError(`${operation}: ${message}`, { code: 'SAGEMAKER', cause: err });
}

async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw mapSageMakerError(err, operation);
  }
}

export interface SageMakerModelRegistryOptions {
  readonly stage: string;
  /** The bucket the artifacts are written to. */
  readonly bucket: string;
  /** The multi-model endpoint's model prefix in the bucket (default `models/`). */
  readonly modelPrefix?: string;
  /** The model container image (the project's model server) recorded in each InferenceSpecification. */
  readonly image: string;
  /** Overrides the group naming (default {@link sageMakerGroupName}). */
  readonly groupName?: (modelGroup: string) => string;
}

/** The registry port on SageMaker model package groups (see the module comment for the mapping). */
export class SageMakerModelRegistry implements ModelRegistry {
  private readonly groupArns = new Map<string, string>();
  private readonly prefix: string;

  constructor(
    private readonly client: Pick<SageMakerClient, 'send'>,
    private readonly options: SageMakerModelRegistryOptions,
  ) {
    this.prefix = options.modelPrefix ?? S3_PREFIXES.models;
  }

  /** The package group name of a pumpwatch model group. */
  groupName(modelGroup: string): string {
    return this.options.groupName ? this.options.groupName(modelGroup) : sageMakerGroupName(this.options.stage, modelGroup);
  }

  private modelDataUrl(target: string): string {
    return `s3://${this.options.bucket}/${this.prefix}${target}`;
  }

  private targetOf(url: string | undefined): string | undefined {
    const base = `s3://${this.options.bucket}/${this.prefix}`;
    return url?.startsWith(base) && url.length > base.length ? url.slice(base.length) : undefined;
  }

  /** The group's ARN, creating the group on first use. */
  private async ensureGroup(modelGroup: string): Promise<string> {
    const name = this.groupName(modelGroup);
    const known = this.groupArns.get(name);
    if (known) return known;
    let arn: string | undefined;
    try {
      arn = (await call('models.describeGroup', () => this.client.send(new DescribeModelPackageGroupCommand({ ModelPackageGroupName: name })))).ModelPackageGroupArn;
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      try {
        arn = (
          await call('models.createGroup', () =>
            this.client.send(
              new CreateModelPackageGroupCommand({ ModelPackageGroupName: name, ModelPackageGroupDescription: `pumpwatch model group ${modelGroup}; newest Approved version serves` }),
            ),
          )
        ).ModelPackageGroupArn;
      } catch (createErr) {
        // Created by someone else meanwhile.
        if (!(createErr instanceof ConditionFailedError)) throw createErr;
        arn = (await call('models.describeGroup', () => this.client.send(new DescribeModelPackageGroupCommand({ ModelPackageGroupName: name })))).ModelPackageGroupArn;
      }
    }
    if (!arn) throw new PumpwatchError(`models.group: no ARN for model package group ${name}`, { code: 'SAGEMAKER' });
    this.groupArns.set(name, arn);
    return arn;
  }

  private async packageArn(modelGroup: string, version: number): Promise<string> {
    const groupArn = await this.ensureGroup(modelGroup);
    return `${groupArn.replace(':model-package-group/', ':model-package/')}/${version}`;
  }

  async reserve(
    input: Pick<ModelVersion, 'modelGroup' | 'modelId' | 'family' | 'description' | 'metrics' | 'trainingPeriod'>,
    nowMs: number,
  ): Promise<ModelVersion> {
    await this.ensureGroup(input.modelGroup);
    const metadata: Record<string, string> = {
      [METADATA.modelGroup]: input.modelGroup,
      [METADATA.modelId]: input.modelId.slice(0, 256),
      [METADATA.family]: input.family.slice(0, 256),
      [METADATA.status]: 'Registering',
    };
    if (input.trainingPeriod) {
      metadata[METADATA.trainingFrom] = String(input.trainingPeriod.from);
      metadata[METADATA.trainingTo] = String(input.trainingPeriod.to);
    }
    for (const [k, v] of Object.entries(input.metrics ?? {}).slice(0, MAX_METRICS)) metadata[`${METADATA.metricPrefix}${k}`.slice(0, 128)] = String(v);
    const out = await call('models.reserve', () =>
      this.client.send(
        new CreateModelPackageCommand({
          ModelPackageGroupName: this.groupName(input.modelGroup),
          ...(input.description ? { ModelPackageDescription: input.description } : {}),
          ModelApprovalStatus: 'PendingManualApproval',
          CustomerMetadataProperties: metadata,
        }),
      ),
    );
    if (!out.ModelPackageArn) throw new PumpwatchError('models.reserve: CreateModelPackage answered without an ARN', { code: 'SAGEMAKER' });
    const version = versionFromArn(out.ModelPackageArn);
    return ModelVersionSchema.parse({ ...input, version, status: 'Registering', target: modelTarget(input.modelGroup, version), createdAt: nowMs, updatedAt: nowMs });
  }

  async setStatus(modelGroup: string, version: number, status: ModelStatus, _nowMs: number): Promise<ModelVersion> {
    if (status === 'Registering') throw new ValidationError('a version cannot go back to Registering');
    const arn = await this.packageArn(modelGroup, version);
    const current = await call('models.describe', () => this.client.send(new DescribeModelPackageCommand({ ModelPackageName: arn })));
    if (current.CustomerMetadataProperties?.[METADATA.status] === 'Registering') {
      // First completion: the artifact exists now, so the package gets its inference specification.
      const complete: UpdateModelPackageCommandInput = {
        ModelPackageArn: arn,
        CustomerMetadataPropertiesToRemove: [METADATA.status],
        ...(status === 'Rejected'
          ? {}
          : {
              InferenceSpecification: {
                Containers: [{ Image: this.options.image, ModelDataUrl: this.modelDataUrl(modelTarget(modelGroup, version)) }],
                SupportedContentTypes: ['application/json'],
                SupportedResponseMIMETypes: ['application/json'],
              },
            }),
      };
      await call('models.complete', () => this.client.send(new UpdateModelPackageCommand(complete)));
    }
    if (current.ModelApprovalStatus !== status) {
      await call('models.status', () => this.client.send(new UpdateModelPackageCommand({ ModelPackageArn: arn, ModelApprovalStatus: status })));
    }
    const updated = await this.get(modelGroup, version);
    if (!updated) throw new NotFoundError(`model ${modelGroup} v${version} does not exist`);
    return updated;
  }

  async get(modelGroup: string, version: number): Promise<ModelVersion | undefined> {
    let d: DescribeModelPackageCommandOutput;
    try {
      const arn = await this.packageArn(modelGroup, version);
      d = await call('models.get', () => this.client.send(new DescribeModelPackageCommand({ ModelPackageName: arn })));
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
    return this.toVersion(d, modelGroup);
  }

  /** A described package as a pumpwatch version; undefined when its model data cannot be served. */
  toVersion(d: DescribeModelPackageCommandOutput, modelGroup?: string): ModelVersion | undefined {
    const meta = d.CustomerMetadataProperties ?? {};
    const group = modelGroup ?? meta[METADATA.modelGroup] ?? this.groupFromName(d.ModelPackageGroupName);
    const version = d.ModelPackageVersion ?? (d.ModelPackageArn ? versionFromArn(d.ModelPackageArn) : undefined);
    if (!group || version === undefined) return undefined;
    const registering = meta[METADATA.status] === 'Registering';
    const target = registering ? modelTarget(group, version) : this.targetOf(d.InferenceSpecification?.Containers?.[0]?.ModelDataUrl);
    if (!target) return undefined;
    const metrics: Record<string, number> = {};
    for (const [k, v] of Object.entries(meta)) {
      if (k.startsWith(METADATA.metricPrefix) && Number.isFinite(Number(v))) metrics[k.slice(METADATA.metricPrefix.length)] = Number(v);
    }
    const from = Number(meta[METADATA.trainingFrom]);
    const to = Number(meta[METADATA.trainingTo]);
    const createdAt = d.CreationTime?.getTime() ?? 0;
    const parsed = ModelVersionSchema.safeParse({
      modelGroup: group,
      version,
      status: registering ? 'Registering' : (d.ModelApprovalStatus ?? 'PendingManualApproval'),
      target,
      modelId: meta[METADATA.modelId] ?? d.ModelPackageGroupName ?? group,
      family: meta[METADATA.family] ?? 'unknown',
      createdAt,
      updatedAt: d.LastModifiedTime?.getTime() ?? createdAt,
      ...(d.ModelPackageDescription ? { description: d.ModelPackageDescription.slice(0, 1024) } : {}),
      ...(Object.keys(metrics).length > 0 ? { metrics } : {}),
      ...(Number.isInteger(from) && Number.isInteger(to) && meta[METADATA.trainingFrom] !== undefined ? { trainingPeriod: { from, to } } : {}),
    });
    return parsed.success ? parsed.data : undefined;
  }

  /** A package group made outside pumpwatch: `pumpwatch-<stage>-<type>` is the type's group. */
  private groupFromName(name: string | undefined): string | undefined {
    const prefix = `pumpwatch-${this.options.stage}-`;
    return name?.startsWith(prefix) ? typeModelGroup(name.slice(prefix.length)) : undefined;
  }

  private async summaries(groupName: string, filter: { approvedOnly?: boolean; max?: number } = {}): Promise<ModelPackageSummary[]> {
    const out: ModelPackageSummary[] = [];
    let token: string | undefined;
    do {
      const page = await call('models.list', () =>
        this.client.send(
          new ListModelPackagesCommand({
            ModelPackageGroupName: groupName,
            ModelPackageType: 'Versioned',
            SortBy: 'CreationTime',
            SortOrder: 'Descending',
            ...(filter.approvedOnly ? { ModelApprovalStatus: 'Approved' } : {}),
            ...(filter.max ? { MaxResults: filter.max } : {}),
            ...(token ? { NextToken: token } : {}),
          }),
        ),
      );
      out.push(...(page.ModelPackageSummaryList ?? []));
      token = filter.max && out.length >= filter.max ? undefined : page.NextToken;
    } while (token);
    return out;
  }

  private async describeAll(summaries: readonly ModelPackageSummary[], modelGroup?: string): Promise<ModelVersion[]> {
    const out: ModelVersion[] = [];
    for (const s of summaries) {
      if (!s.ModelPackageArn) continue;
      const d = await call('models.describe', () => this.client.send(new DescribeModelPackageCommand({ ModelPackageName: s.ModelPackageArn })));
      const v = this.toVersion(d, modelGroup);
      if (v) out.push(v);
    }
    return out;
  }

  async list(modelGroup?: string): Promise<ModelVersion[]> {
    let out: ModelVersion[];
    if (modelGroup) {
      try {
        out = await this.describeAll(await this.summaries(this.groupName(modelGroup)), modelGroup);
      } catch (err) {
        if (err instanceof NotFoundError) return [];
        throw err;
      }
    } else {
      out = [];
      let token: string | undefined;
      do {
        const page = await call('models.groups', () =>
          this.client.send(new ListModelPackageGroupsCommand({ NameContains: `pumpwatch-${this.options.stage}-`, ...(token ? { NextToken: token } : {}) })),
        );
        for (const g of page.ModelPackageGroupSummaryList ?? []) {
          if (g.ModelPackageGroupName) out.push(...(await this.describeAll(await this.summaries(g.ModelPackageGroupName))));
        }
        token = page.NextToken;
      } while (token);
    }
    return out.sort((a, b) => a.modelGroup.localeCompare(b.modelGroup) || b.version - a.version);
  }

  async approved(modelGroup: string): Promise<ModelVersion | undefined> {
    let summaries: ModelPackageSummary[];
    try {
      summaries = await this.summaries(this.groupName(modelGroup), { approvedOnly: true, max: 5 });
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
    // Newest first; a package whose model data the endpoint cannot serve is passed over.
    for (const s of summaries) {
      const [v] = await this.describeAll([s], modelGroup);
      if (v?.status === 'Approved') return v;
    }
    return undefined;
  }
}
