import { GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { conditional, dynamo } from '../aws/dynamo-errors';

export const REJECT_REASONS = [
  'too_large',
  'malformed_json',
  'schema_violation',
  'non_finite_value',
  'future_timestamp',
  'late',
  'processing_failed',
] as const;

/** A rejected record, kept whole with why and where it came from. */
export const QuarantineItemSchema = z.strictObject({
  id: z.string(),
  reason: z.enum(REJECT_REASONS),
  detail: z.string(),
  pumpId: z.string().optional(),
  shardId: z.string(),
  sequenceNumber: z.string(),
  subSequenceNumber: z.number().int().optional(),
  /** The record's data, base64 (for `late`: the late samples as a batch record). */
  data: z.string(),
  receivedAt: z.number().int(),
  status: z.enum(['quarantined', 'redriven']),
  redrivenAt: z.number().int().optional(),
  replayJobId: z.string().optional(),
});
export type QuarantineItem = z.infer<typeof QuarantineItemSchema>;

/** Id of a quarantined record: stable across re-reads, so a replayed record is stored once. */
export function quarantineId(shardId: string, sequenceNumber: string, subSequenceNumber: number | undefined, part = 0): string {
  return `${shardId}#${sequenceNumber}#${subSequenceNumber ?? 0}#${part}`;
}

export interface QuarantineListOptions {
  readonly reason?: QuarantineItem['reason'];
  readonly status?: QuarantineItem['status'];
  readonly limit?: number;
  readonly replayJobId?: string;
  readonly liveOnly?: boolean;
}

export interface QuarantineStore {
  /** Stores the item unless its id exists; true when created. */
  add(item: QuarantineItem): Promise<boolean>;
  get(id: string): Promise<QuarantineItem | undefined>;
  /** Items by reason and status; with `replayJobId` only that replay job's items, with `liveOnly` none of any replay's. */
  list(options?: QuarantineListOptions): Promise<QuarantineItem[]>;
  markRedriven(id: string, nowMs: number): Promise<boolean>;
}

export class DynamoDbQuarantineStore implements QuarantineStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async add(item: QuarantineItem): Promise<boolean> {
    return conditional('quarantine.add', () =>
      this.doc.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(id)' })),
    );
  }

  async get(id: string): Promise<QuarantineItem | undefined> {
    const r = await dynamo('quarantine.get', () => this.doc.send(new GetCommand({ TableName: this.tableName, Key: { id }, ConsistentRead: true })));
    return r.Item ? QuarantineItemSchema.parse(r.Item) : undefined;
  }

  async list(options: QuarantineListOptions = {}): Promise<QuarantineItem[]> {
    const out: QuarantineItem[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const r = await dynamo('quarantine.list', () =>
        this.doc.send(
          options.reason
            ? new QueryCommand({
                TableName: this.tableName,
                IndexName: 'byReason',
                KeyConditionExpression: 'reason = :r',
                ExpressionAttributeValues: { ':r': options.reason },
                ExclusiveStartKey: startKey,
              })
            : new ScanCommand({ TableName: this.tableName, ExclusiveStartKey: startKey }),
        ),
      );
      for (const i of r.Items ?? []) {
        const item = QuarantineItemSchema.parse(i);
        if (options.status && item.status !== options.status) continue;
        if (options.replayJobId && item.replayJobId !== options.replayJobId) continue;
        if (options.liveOnly && item.replayJobId) continue;
        out.push(item);
      }
      startKey = r.LastEvaluatedKey;
    } while (startKey);
    out.sort((a, b) => a.receivedAt - b.receivedAt || a.id.localeCompare(b.id));
    return options.limit ? out.slice(0, options.limit) : out;
  }

  async markRedriven(id: string, nowMs: number): Promise<boolean> {
    return conditional('quarantine.redriven', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression: 'SET #s = :redriven, redrivenAt = :now',
          ConditionExpression: '#s = :q',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':redriven': 'redriven', ':q': 'quarantined', ':now': nowMs },
        }),
      ),
    );
  }
}
