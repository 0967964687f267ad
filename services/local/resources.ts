import {
  CreateTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import { CreateEventBusCommand, type EventBridgeClient, ResourceAlreadyExistsException } from '@aws-sdk/client-eventbridge';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
  ResourceInUseException as KinesisResourceInUse,
} from '@aws-sdk/client-kinesis';
import { BucketAlreadyOwnedByYou, CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../../shared/config';
import { sleep } from '../../shared/clock';
import { TABLE_SCHEMAS, type TableId, type TableSchema } from '../../shared/tables';
import { getLogger } from '../../shared/logging';

const log = { info: (o: object, m: string) => getLogger('local-resources').info(o, m) };

export interface ResourceClients {
  readonly kinesis: KinesisClient;
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
  readonly eventBridge: EventBridgeClient;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Creates one table from its schema, if it does not exist yet, and waits until it is ACTIVE. */
export async function ensureTable(dynamodb: DynamoDBClient, tableName: string, schema: TableSchema): Promise<void> {
  const keys = [schema.partitionKey, ...(schema.sortKey ? [schema.sortKey] : [])];
  const attrs = new Map<string, string>();
  for (const k of [...keys, ...schema.indexes.flatMap((i) => [i.partitionKey, ...(i.sortKey ? [i.sortKey] : [])])]) attrs.set(k.name, k.type);
  try {
    await dynamodb.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [...attrs].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType: AttributeType as 'S' | 'N' })),
        KeySchema: [
          { AttributeName: schema.partitionKey.name, KeyType: 'HASH' },
          ...(schema.sortKey ? [{ AttributeName: schema.sortKey.name, KeyType: 'RANGE' as const }] : []),
        ],
        ...(schema.indexes.length > 0
          ? {
              GlobalSecondaryIndexes: schema.indexes.map((i) => ({
                IndexName: i.indexName,
                KeySchema: [
                  { AttributeName: i.partitionKey.name, KeyType: 'HASH' as const },
                  ...(i.sortKey ? [{ AttributeName: i.sortKey.name, KeyType: 'RANGE' as const }] : []),
                ],
                Projection: { ProjectionType: 'ALL' as const },
              })),
            }
          : {}),
      }),
    );
    log.info({ table: tableName }, 'table created');
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  }
  await waitFor(`table ${tableName}`, async () => {
    const d = await dynamodb.send(new DescribeTableCommand({ TableName: tableName }));
    return d.Table?.TableStatus === 'ACTIVE';
  });
}

/**
 * Creates the stream, tables, bucket and bus the CDK app defines, with the same names. Idempotent:
 * existing resources are kept (a restart with a data folder keeps its state).
 */
export async function ensureResources(clients: ResourceClients, config: Config, options: { shardCount?: number } = {}): Promise<void> {
  const { names } = config;
  try {
    await clients.kinesis.send(new CreateStreamCommand({ StreamName: names.streamName, ShardCount: options.shardCount ?? 2 }));
    log.info({ stream: names.streamName }, 'stream created');
  } catch (err) {
    if (!(err instanceof KinesisResourceInUse)) throw err;
  }
  await Promise.all(
    (Object.keys(TABLE_SCHEMAS) as TableId[]).map((id) => ensureTable(clients.dynamodb, names.tables[id], TABLE_SCHEMAS[id])),
  );
  try {
    await clients.s3.send(new CreateBucketCommand({ Bucket: names.bucketName }));
  } catch (err) {
    if (!(err instanceof BucketAlreadyOwnedByYou) && (err as Error).name !== 'BucketAlreadyExists') throw err;
  }
  try {
    await clients.eventBridge.send(new CreateEventBusCommand({ Name: names.eventBusName }));
  } catch (err) {
    if (!(err instanceof ResourceAlreadyExistsException)) throw err;
  }
  await waitFor(`stream ${names.streamName}`, async () => {
    const d = await clients.kinesis.send(new DescribeStreamSummaryCommand({ StreamName: names.streamName }));
    return d.StreamDescriptionSummary?.StreamStatus === 'ACTIVE';
  });
}
