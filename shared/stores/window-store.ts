import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { conditional, dynamo } from '../aws/dynamo-errors';
import { ConditionStateSchema, LEVELS, WindowStatusSchema } from '../schemas/condition';
import { FeatureVectorSchema } from '../schemas/features';
import { WindowScoreSchema } from '../schemas/inference';
import { SPARSE_INDEX_PARTITIONS } from '../tables';

/** The model that scored a window. */
export const ModelRefSchema = z.strictObject({ modelId: z.string(), version: z.string(), target: z.string() });
export type ModelRef = z.infer<typeof ModelRefSchema>;

/** One stored window: features, how it was scored, and what it did to the pump's condition. */
export const WindowItemSchema = z.strictObject({
  pumpId: z.string(),
  sk: z.string(),
  windowStart: z.number().int(),
  windowEnd: z.number().int(),
  status: WindowStatusSchema,
  features: FeatureVectorSchema,
  score: WindowScoreSchema.optional(),
  model: ModelRefSchema.optional(),
  /** Set once the window has been applied to the pump's condition. */
  level: z.enum(LEVELS).optional(),
  state: ConditionStateSchema.optional(),
  attempts: z.number().int().nonnegative(),
  lastError: z.string().optional(),
  unscoredPartition: z.string().optional(),
  replayJobId: z.string().optional(),
  shadow: z.strictObject({ model: ModelRefSchema, score: WindowScoreSchema }).optional(),
  createdAt: z.number().int(),
  expiresAt: z.number().int().optional(),
});
export type WindowItem = z.infer<typeof WindowItemSchema>;

/** Sort key of a window: live windows `w#<start>`, replay windows `r#<job>#<start>`. */
export function windowSortKey(windowStart: number, replayJobId?: string): string {
  const start = String(windowStart).padStart(15, '0');
  return replayJobId ? `r#${replayJobId}#${start}` : `w#${start}`;
}

/** Which partition of the sparse `unscored` index a pump's windows go to. */
export function unscoredPartition(pumpId: string): string {
  const h = createHash('md5').update(pumpId).digest().readUInt32BE(0);
  return `u${h % SPARSE_INDEX_PARTITIONS}`;
}

/** Window history: one item per (pump, window), first write wins. */
export interface WindowStore {
  /** Writes the item unless one exists; returns the stored item either way. */
  putIfAbsent(item: WindowItem): Promise<{ created: boolean; item: WindowItem }>;
  get(pumpId: string, sk: string): Promise<WindowItem | undefined>;
  /** Replaces an UNSCORED window with its score (only while it is still UNSCORED). */
  resolveUnscored(pumpId: string, sk: string, update: Pick<WindowItem, 'status' | 'score' | 'model'>): Promise<boolean>;
  /** Records a failed scoring attempt. */
  recordAttempt(pumpId: string, sk: string, error: string): Promise<void>;
  /** Records what the window did to the pump's condition (idempotent). */
  setOutcome(pumpId: string, sk: string, outcome: Required<Pick<WindowItem, 'level' | 'state'>>): Promise<void>;
  /** Live (or one replay job's) windows of a pump in [from, to), oldest first. */
  query(pumpId: string, options?: { from?: number; to?: number; replayJobId?: string; limit?: number; newestFirst?: boolean }): Promise<WindowItem[]>;
  /**
   * Windows waiting to be applied in one partition of the sparse index (UNSCORED ones and those
   * queued behind them), oldest first, every page.
   */
  listUnscored(partition: string): Promise<WindowItem[]>;
}

export class DynamoDbWindowStore implements WindowStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async putIfAbsent(item: WindowItem): Promise<{ created: boolean; item: WindowItem }> {
    const created = await conditional('window.put', () =>
      this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pumpId)',
        }),
      ),
    );
    if (created) return { created, item };
    const existing = await this.get(item.pumpId, item.sk);
    return { created: false, item: existing ?? item };
  }

  async get(pumpId: string, sk: string): Promise<WindowItem | undefined> {
    const r = await dynamo('window.get', () => this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pumpId, sk }, ConsistentRead: true })));
    return r.Item ? WindowItemSchema.parse(r.Item) : undefined;
  }

  async resolveUnscored(pumpId: string, sk: string, update: Pick<WindowItem, 'status' | 'score' | 'model'>): Promise<boolean> {
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = { ':status': update.status, ':unscored': 'UNSCORED' };
    let set = '#status = :status';
    if (update.score) {
      set += ', score = :score';
      values[':score'] = update.score;
    }
    if (update.model) {
      set += ', model = :model';
      values[':model'] = update.model;
    }
    return conditional('window.resolve', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pumpId, sk },
          UpdateExpression: `SET ${set} REMOVE unscoredPartition, lastError`,
          ConditionExpression: '#status = :unscored',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }

  async recordAttempt(pumpId: string, sk: string, error: string): Promise<void> {
    await dynamo('window.attempt', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pumpId, sk },
          UpdateExpression: 'SET attempts = attempts + :one, lastError = :err',
          ConditionExpression: 'attribute_exists(pumpId)',
          ExpressionAttributeValues: { ':one': 1, ':err': error.slice(0, 1000) },
        }),
      ),
    );
  }

  async setOutcome(pumpId: string, sk: string, outcome: Required<Pick<WindowItem, 'level' | 'state'>>): Promise<void> {
    await dynamo('window.outcome', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pumpId, sk },
          // Applied: it leaves the pending index (a window queued behind an UNSCORED one sits there).
          UpdateExpression: 'SET #level = :level, #state = :state REMOVE unscoredPartition',
          ConditionExpression: 'attribute_exists(pumpId)',
          ExpressionAttributeNames: { '#level': 'level', '#state': 'state' },
          ExpressionAttributeValues: { ':level': outcome.level, ':state': outcome.state },
        }),
      ),
    );
  }

  async query(
    pumpId: string,
    options: { from?: number; to?: number; replayJobId?: string; limit?: number; newestFirst?: boolean } = {},
  ): Promise<WindowItem[]> {
    const from = windowSortKey(options.from ?? 0, options.replayJobId);
    const to = windowSortKey(options.to ?? 999_999_999_999_999, options.replayJobId);
    const out: WindowItem[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const r = await dynamo('window.query', () =>
        this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pumpId = :p AND sk BETWEEN :from AND :to',
            ExpressionAttributeValues: { ':p': pumpId, ':from': from, ':to': to },
            ScanIndexForward: !options.newestFirst,
            ExclusiveStartKey: startKey,
            ...(options.limit ? { Limit: options.limit - out.length } : {}),
          }),
        ),
      );
      for (const item of r.Items ?? []) {
        const parsed = WindowItemSchema.parse(item);
        if (parsed.windowStart < (options.to ?? Number.MAX_SAFE_INTEGER)) out.push(parsed);
      }
      startKey = r.LastEvaluatedKey;
    } while (startKey && (!options.limit || out.length < options.limit));
    return out;
  }

  async listUnscored(partition: string): Promise<WindowItem[]> {
    const out: WindowItem[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const r = await dynamo('window.unscored', () =>
        this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: 'unscored',
            KeyConditionExpression: 'unscoredPartition = :p',
            ExpressionAttributeValues: { ':p': partition },
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      for (const i of r.Items ?? []) out.push(WindowItemSchema.parse(i));
      startKey = r.LastEvaluatedKey;
    } while (startKey);
    return out;
  }

}
