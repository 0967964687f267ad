import { GetCommand, PutCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { conditional, dynamo } from '../aws/dynamo-errors';
import { PumpRecordSchema, type PumpRecord } from '../schemas/pump';

/** The pump registry: pump → tenant, site, type, sample rate and condition policy. */
export interface PumpRegistry {
  get(pumpId: string): Promise<PumpRecord | undefined>;
  /** Registers or updates a pump; true when it was new. */
  put(pump: PumpRecord): Promise<boolean>;
  list(): Promise<PumpRecord[]>;
}

export class DynamoDbPumpRegistry implements PumpRegistry {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(pumpId: string): Promise<PumpRecord | undefined> {
    const r = await dynamo('pumps.get', () => this.doc.send(new GetCommand({ TableName: this.tableName, Key: { pumpId } })));
    return r.Item ? PumpRecordSchema.parse(r.Item) : undefined;
  }

  async put(pump: PumpRecord): Promise<boolean> {
    const item = PumpRecordSchema.parse(pump);
    const created = await conditional('pumps.create', () =>
      this.doc.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pumpId)' })),
    );
    if (!created) {
      const existing = await this.get(pump.pumpId);
      // enrolledAt is the first registration's; updates keep it.
      await dynamo('pumps.update', () =>
        this.doc.send(new PutCommand({ TableName: this.tableName, Item: { ...item, enrolledAt: existing?.enrolledAt ?? item.enrolledAt } })),
      );
    }
    return created;
  }

  async list(): Promise<PumpRecord[]> {
    const out: PumpRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const r = await dynamo('pumps.scan', () => this.doc.send(new ScanCommand({ TableName: this.tableName, ExclusiveStartKey: startKey })));
      for (const i of r.Items ?? []) out.push(PumpRecordSchema.parse(i));
      startKey = r.LastEvaluatedKey;
    } while (startKey);
    return out.sort((a, b) => a.pumpId.localeCompare(b.pumpId));
  }
}
