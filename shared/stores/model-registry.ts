import { GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { conditional, dynamo } from '../aws/dynamo-errors';
import { ConditionFailedError, NotFoundError } from '../errors';

/** Approval states, as the SageMaker Model Registry names them (plus a transient `Registering`). */
export const MODEL_STATUSES = ['Registering', 'PendingManualApproval', 'Approved', 'Rejected'] as const;
export type ModelStatus = (typeof MODEL_STATUSES)[number];

export const ModelVersionSchema = z.strictObject({
  /** `pump-<pumpId>` for a pump's own models, `type-<pumpType>` for a pump type's default. */
  modelGroup: z.string().min(1),
  version: z.number().int().positive(),
  status: z.enum(MODEL_STATUSES),
  /** TargetModel: the artifact key relative to the endpoint's model prefix. */
  target: z.string().min(1),
  modelId: z.string().min(1),
  family: z.string().min(1),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
  description: z.string().max(1024).optional(),
  metrics: z.record(z.string(), z.number()).optional(),
  trainingPeriod: z.strictObject({ from: z.number().int(), to: z.number().int() }).optional(),
});
export type ModelVersion = z.infer<typeof ModelVersionSchema>;

export function pumpModelGroup(pumpId: string): string {
  return `pump-${pumpId}`;
}

export function typeModelGroup(pumpType: string): string {
  return `type-${pumpType}`;
}

/** The artifact key of a version: never reused, so an artifact is never overwritten. */
export function modelTarget(modelGroup: string, version: number): string {
  const [kind, ...rest] = modelGroup.split('-');
  const name = rest.join('-');
  return `${kind === 'type' ? 'types' : 'pumps'}/${name}/v${version}/model.tar.gz`;
}

/** What reserving `version` of a group stores: status Registering, not routable yet. */
function reservedVersion(input: Pick<ModelVersion, 'modelGroup' | 'modelId' | 'family' | 'description' | 'metrics' | 'trainingPeriod'>, version: number, nowMs: number): ModelVersion {
  return ModelVersionSchema.parse({
    ...input,
    version,
    status: 'Registering',
    target: modelTarget(input.modelGroup, version),
    createdAt: nowMs,
    updatedAt: nowMs,
  });
}

/**
 * The model registry port. Locally a DynamoDB table; on AWS the SageMaker Model Registry
 * (model package groups and versions) is the source of truth.
 */
export interface ModelRegistry {
  /** Reserves the next version number of a group (status Registering, not routable yet). */
  reserve(input: Pick<ModelVersion, 'modelGroup' | 'modelId' | 'family' | 'description' | 'metrics' | 'trainingPeriod'>, nowMs: number): Promise<ModelVersion>;
  setStatus(modelGroup: string, version: number, status: ModelStatus, nowMs: number): Promise<ModelVersion>;
  get(modelGroup: string, version: number): Promise<ModelVersion | undefined>;
  /** Versions of one group (newest first), or of all groups. */
  list(modelGroup?: string): Promise<ModelVersion[]>;
  /** The newest Approved version of a group. */
  approved(modelGroup: string): Promise<ModelVersion | undefined>;
}

export class DynamoDbModelRegistry implements ModelRegistry {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async reserve(
    input: Pick<ModelVersion, 'modelGroup' | 'modelId' | 'family' | 'description' | 'metrics' | 'trainingPeriod'>,
    nowMs: number,
  ): Promise<ModelVersion> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const newest = (await this.list(input.modelGroup))[0];
      const version = (newest?.version ?? 0) + 1;
      const item = reservedVersion(input, version, nowMs);
      const created = await conditional('models.reserve', () =>
        this.doc.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(modelGroup)' })),
      );
      if (created) return item;
    }
    throw new ConditionFailedError(`could not reserve a version in ${input.modelGroup}: too much contention`);
  }

  async setStatus(modelGroup: string, version: number, status: ModelStatus, nowMs: number): Promise<ModelVersion> {
    const ok = await conditional('models.status', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { modelGroup, version },
          UpdateExpression: 'SET #s = :s, updatedAt = :now',
          ConditionExpression: 'attribute_exists(modelGroup)',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':s': status, ':now': nowMs },
        }),
      ),
    );
    if (!ok) throw new NotFoundError(`model ${modelGroup} v${version} does not exist`);
    return (await this.get(modelGroup, version))!;
  }

  async get(modelGroup: string, version: number): Promise<ModelVersion | undefined> {
    const r = await dynamo('models.get', () =>
      this.doc.send(new GetCommand({ TableName: this.tableName, Key: { modelGroup, version }, ConsistentRead: true })),
    );
    return r.Item ? ModelVersionSchema.parse(r.Item) : undefined;
  }

  async list(modelGroup?: string): Promise<ModelVersion[]> {
    const out: ModelVersion[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const r = await dynamo('models.list', () =>
        this.doc.send(
          modelGroup
            ? new QueryCommand({
                TableName: this.tableName,
                KeyConditionExpression: 'modelGroup = :g',
                ExpressionAttributeValues: { ':g': modelGroup },
                ScanIndexForward: false,
                ConsistentRead: true,
                ExclusiveStartKey: startKey,
              })
            : new ScanCommand({ TableName: this.tableName, ExclusiveStartKey: startKey }),
        ),
      );
      for (const i of r.Items ?? []) out.push(ModelVersionSchema.parse(i));
      startKey = r.LastEvaluatedKey;
    } while (startKey);
    return out.sort((a, b) => a.modelGroup.localeCompare(b.modelGroup) || b.version - a.version);
  }

  async approved(modelGroup: string): Promise<ModelVersion | undefined> {
    return (await this.list(modelGroup)).find((v) => v.status === 'Approved');
  }
}

/** What a model group serves: one pump's own models, or a pump type's default. */
export type ModelGroupRef = { readonly kind: 'pump'; readonly pumpId: string } | { readonly kind: 'type'; readonly pumpType: string };

/** Reads `pump-<pumpId>` / `type-<pumpType>`; undefined for any other name. */
export function parseModelGroup(modelGroup: string): ModelGroupRef | undefined {
  if (modelGroup.startsWith('pump-') && modelGroup.length > 5) return { kind: 'pump', pumpId: modelGroup.slice(5) };
  if (modelGroup.startsWith('type-') && modelGroup.length > 5) return { kind: 'type', pumpType: modelGroup.slice(5) };
  return undefined;
}

/**
 * The registry in memory, with the same semantics as the DynamoDB adapter (versions reserved
 * atomically, newest Approved wins). For unit tests and single-process tools.
 */
export class InMemoryModelRegistry implements ModelRegistry {
  private readonly items = new Map<string, ModelVersion>();

  private key(modelGroup: string, version: number): string {
    return `${modelGroup}\u0000${version}`;
  }

  async reserve(
    input: Pick<ModelVersion, 'modelGroup' | 'modelId' | 'family' | 'description' | 'metrics' | 'trainingPeriod'>,
    nowMs: number,
  ): Promise<ModelVersion> {
    // Synchronous from here to the write, so concurrent reservations get distinct versions.
    let version = 1;
    for (const v of this.items.values()) if (v.modelGroup === input.modelGroup) version = Math.max(version, v.version + 1);
    const item = reservedVersion(input, version, nowMs);
    this.items.set(this.key(input.modelGroup, version), item);
    return item;
  }

  async setStatus(modelGroup: string, version: number, status: ModelStatus, nowMs: number): Promise<ModelVersion> {
    const item = this.items.get(this.key(modelGroup, version));
    if (!item) throw new NotFoundError(`model ${modelGroup} v${version} does not exist`);
    const next = { ...item, status, updatedAt: nowMs };
    this.items.set(this.key(modelGroup, version), next);
    return next;
  }

  async get(modelGroup: string, version: number): Promise<ModelVersion | undefined> {
    return this.items.get(this.key(modelGroup, version));
  }

  async list(modelGroup?: string): Promise<ModelVersion[]> {
    return [...this.items.values()]
      .filter((v) => modelGroup === undefined || v.modelGroup === modelGroup)
      .sort((a, b) => a.modelGroup.localeCompare(b.modelGroup) || b.version - a.version);
  }

  async approved(modelGroup: string): Promise<ModelVersion | undefined> {
    return (await this.list(modelGroup)).find((v) => v.status === 'Approved');
  }
}
