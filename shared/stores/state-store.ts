import { GetCommand, PutCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { conditional, dynamo } from '../aws/dynamo-errors';
import { ConditionStateSchema, LEVELS } from '../schemas/condition';
import { ModelRefSchema } from './window-store';

/** A pump's condition memory (see services/consumer/core/condition.ts), as stored. */
export const ConditionMemorySchema = z.strictObject({
  state: ConditionStateSchema,
  lastWindowStart: z.number().int().nullable(),
  lastWindowEnd: z.number().int().nullable(),
  recent: z.array(z.enum(LEVELS)),
  smoothedScore: z.number().nullable(),
  inEpisode: z.boolean(),
  qualityDegraded: z.boolean(),
});

export const PumpStateItemSchema = z.strictObject({
  pumpId: z.string(),
  version: z.number().int().nonnegative(),
  memory: ConditionMemorySchema,
  lastScore: z.number().nullable(),
  lastThreshold: z.number().nullable(),
  lastModel: ModelRefSchema.nullable(),
  topChannels: z.array(z.string()),
  /** Processing time of the last update. */
  updatedAt: z.number().int(),
  /** Processing time the pump's data was last seen (windows applied). */
  lastSeenAt: z.number().int(),
});
export type PumpStateItem = z.infer<typeof PumpStateItemSchema>;

/** Current condition per pump. Writes are conditional on the version read (optimistic locking). */
export interface StateStore {
  get(pumpId: string): Promise<PumpStateItem | undefined>;
  /** Writes `next` if the stored version is still `expectedVersion` (0 = no item yet). */
  put(next: PumpStateItem, expectedVersion: number): Promise<boolean>;
  list(): Promise<PumpStateItem[]>;
}

export class DynamoDbStateStore implements StateStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(pumpId: string): Promise<PumpStateItem | undefined> {
    const r = await dynamo('state.get', () => this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pumpId }, ConsistentRead: true })));
    return r.Item ? PumpStateItemSchema.parse(r.Item) : undefined;
  }

  async put(next: PumpStateItem, expectedVersion: number): Promise<boolean> {
    return conditional('state.put', () =>
      this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: next,
          ...(expectedVersion === 0
            ? { ConditionExpression: 'attribute_not_exists(pumpId)' }
            : { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': expectedVersion } }),
        }),
      ),
    );
  }

  async list(): Promise<PumpStateItem[]> {
    const out: PumpStateItem[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const r = await dynamo('state.scan', () => this.doc.send(new ScanCommand({ TableName: this.tableName, ExclusiveStartKey: startKey })));
      for (const i of r.Items ?? []) out.push(PumpStateItemSchema.parse(i));
      startKey = r.LastEvaluatedKey;
    } while (startKey);
    return out.sort((a, b) => a.pumpId.localeCompare(b.pumpId));
  }
}
