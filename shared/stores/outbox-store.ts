import { DeleteCommand, GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { conditional, dynamo } from '../aws/dynamo-errors';
import { PumpEventSchema, type PumpEvent } from '../schemas/events';
import { SPARSE_INDEX_PARTITIONS } from '../tables';

/** An outbox item: the event, and whether it has been published yet. */
export const OutboxItemSchema = PumpEventSchema.extend({
  createdAt: z.number().int(),
  /** Present while unpublished: the partition of the sparse `pending` index. */
  pendingPartition: z.string().optional(),
  publishedAt: z.number().int().optional(),
  attempts: z.number().int().nonnegative(),
  lastError: z.string().optional(),
  /** When the last failed publish happened: the sweep backs off from it. */
  lastAttemptAt: z.number().int().optional(),
});
export type OutboxItem = z.infer<typeof OutboxItemSchema>;

/** A deterministic event id: the same (pump, window, kind[, replay job]) always gives the same id. */
export function eventIdFor(parts: readonly (string | number)[]): string {
  return `evt-${createHash('sha256').update(parts.join('|')).digest('hex').slice(0, 32)}`;
}

export function pendingPartitionOf(eventId: string): string {
  const h = createHash('md5').update(eventId).digest().readUInt32BE(0);
  return `p${h % SPARSE_INDEX_PARTITIONS}`;
}

/** The transactional outbox: events are written first, published, then marked published. */
export interface OutboxStore {
  /** Writes the event unless its id exists; true when this call created it. */
  add(event: PumpEvent, nowMs: number): Promise<boolean>;
  get(eventId: string): Promise<OutboxItem | undefined>;
  markPublished(eventId: string, nowMs: number): Promise<void>;
  recordFailure(eventId: string, error: string, nowMs: number): Promise<void>;
  /** Unpublished events of one pending partition, oldest first (up to `limit`, over pages). */
  listPending(partition: string, limit?: number): Promise<OutboxItem[]>;
  /** Deletes an event that was never published (its window's outcome changed before publication). */
  discardUnpublished(eventId: string): Promise<boolean>;
  /** Events of a pump (newest first), or all events (scan) when pumpId is undefined. */
  list(options?: { pumpId?: string; limit?: number; since?: number }): Promise<OutboxItem[]>;
}

export class DynamoDbOutboxStore implements OutboxStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async add(event: PumpEvent, nowMs: number): Promise<boolean> {
    const item: OutboxItem = { ...event, createdAt: nowMs, pendingPartition: pendingPartitionOf(event.eventId), attempts: 0 };
    return conditional('outbox.add', () =>
      this.doc.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(eventId)' })),
    );
  }

  async get(eventId: string): Promise<OutboxItem | undefined> {
    const r = await dynamo('outbox.get', () => this.doc.send(new GetCommand({ TableName: this.tableName, Key: { eventId }, ConsistentRead: true })));
    return r.Item ? OutboxItemSchema.parse(r.Item) : undefined;
  }

  async markPublished(eventId: string, nowMs: number): Promise<void> {
    await conditional('outbox.published', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { eventId },
          UpdateExpression: 'SET publishedAt = :now REMOVE pendingPartition, lastError',
          ConditionExpression: 'attribute_exists(pendingPartition)',
          ExpressionAttributeValues: { ':now': nowMs },
        }),
      ),
    );
  }

  async recordFailure(eventId: string, error: string, nowMs: number): Promise<void> {
    await conditional('outbox.failure', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { eventId },
          UpdateExpression: 'SET attempts = attempts + :one, lastError = :err, lastAttemptAt = :now',
          ConditionExpression: 'attribute_exists(pendingPartition)',
          ExpressionAttributeValues: { ':one': 1, ':err': error.slice(0, 1000), ':now': nowMs },
        }),
      ),
    );
  }

  async listPending(partition: string, limit = 1_000): Promise<OutboxItem[]> {
    const out: OutboxItem[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const r = await dynamo('outbox.pending', () =>
        this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: 'pending',
            KeyConditionExpression: 'pendingPartition = :p',
            ExpressionAttributeValues: { ':p': partition },
            ExclusiveStartKey: startKey,
            Limit: limit - out.length,
          }),
        ),
      );
      for (const i of r.Items ?? []) out.push(OutboxItemSchema.parse(i));
      startKey = r.LastEvaluatedKey;
    } while (startKey && out.length < limit);
    return out;
  }

  async discardUnpublished(eventId: string): Promise<boolean> {
    return conditional('outbox.discard', () =>
      this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: { eventId }, ConditionExpression: 'attribute_exists(pendingPartition)' })),
    );
  }

  async list(options: { pumpId?: string; limit?: number; since?: number } = {}): Promise<OutboxItem[]> {
    const limit = options.limit ?? 100;
    const since = options.since ?? 0;
    if (options.pumpId) {
      const r = await dynamo('outbox.byPump', () =>
        this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: 'byPump',
            KeyConditionExpression: 'pumpId = :p AND createdAt >= :since',
            ExpressionAttributeValues: { ':p': options.pumpId, ':since': since },
            ScanIndexForward: false,
            Limit: limit,
          }),
        ),
      );
      return (r.Items ?? []).map((i) => OutboxItemSchema.parse(i));
    }
    const out: OutboxItem[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const r = await dynamo('outbox.scan', () => this.doc.send(new ScanCommand({ TableName: this.tableName, ExclusiveStartKey: startKey })));
      for (const i of r.Items ?? []) {
        const item = OutboxItemSchema.parse(i);
        if (item.createdAt >= since) out.push(item);
      }
      startKey = r.LastEvaluatedKey;
    } while (startKey);
    return out.sort((a, b) => b.time - a.time || b.createdAt - a.createdAt).slice(0, limit);
  }
}
