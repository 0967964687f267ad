import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { dynamo } from '../../../shared/aws/dynamo-errors';
import type { PumpSnapshot } from '../core/windowing';

const SnapshotItemSchema = z.strictObject({
  pumpId: z.string(),
  sk: z.string(),
  snapshot: z.string(),
  createdAt: z.number().int(),
  expiresAt: z.number().int(),
});

const PumpSnapshotSchema = z.strictObject({
  pumpId: z.string(),
  maxTs: z.number(),
  // JSON has no infinities: a pump with nothing closed yet has horizon -Infinity, sent as null.
  horizon: z.number().nullable().transform((v) => v ?? Number.NEGATIVE_INFINITY),
  seqs: z.array(z.tuple([z.number(), z.number()])),
  windows: z.array(
    z.strictObject({
      start: z.number(),
      // Accumulators exist only for channels that have samples, so their moments are finite.
      channels: z.array(
        z.tuple([z.string(), z.tuple([z.number(), z.number(), z.number(), z.number(), z.number(), z.number(), z.number(), z.number(), z.number(), z.number(), z.number(), z.number()])]),
      ),
      times: z.array(z.number()),
      duplicates: z.number(),
      late: z.number(),
    }),
  ),
});

/**
 * Open windows of a shard that ended, handed to its children's consumers (resharding). Stored in
 * the window table under the partition `handoff#<parent shard id>`, one item per pump.
 */
export interface HandoffStore {
  save(shardId: string, snapshots: readonly PumpSnapshot[], nowMs: number): Promise<void>;
  load(shardId: string): Promise<PumpSnapshot[]>;
}

export class DynamoDbHandoffStore implements HandoffStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async save(shardId: string, snapshots: readonly PumpSnapshot[], nowMs: number): Promise<void> {
    for (const s of snapshots) {
      await dynamo('handoff.save', () =>
        this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              pumpId: `handoff#${shardId}`,
              sk: s.pumpId,
              snapshot: JSON.stringify(s),
              createdAt: nowMs,
              expiresAt: Math.floor(nowMs / 1000) + 7 * 86_400,
            },
          }),
        ),
      );
    }
  }

  async load(shardId: string): Promise<PumpSnapshot[]> {
    const out: PumpSnapshot[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const r = await dynamo('handoff.load', () =>
        this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pumpId = :p',
            ExpressionAttributeValues: { ':p': `handoff#${shardId}` },
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      for (const raw of r.Items ?? []) {
        const item = SnapshotItemSchema.parse(raw);
        out.push(PumpSnapshotSchema.parse(JSON.parse(item.snapshot)));
      }
      startKey = r.LastEvaluatedKey;
    } while (startKey);
    return out;
  }
}
