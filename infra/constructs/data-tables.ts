import { RemovalPolicy, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { ResourceNames } from '../../shared/names';
import { type KeyAttribute, TABLE_SCHEMAS, type TableId } from '../../shared/tables';

export interface DataTablesProps {
  /** Table names, from resourceNames(stage).tables. */
  readonly names: ResourceNames['tables'];
  readonly encryptionKey: kms.IKey;
  /** Deletion protection (production stages). Tables are retained on stack deletion regardless. */
  readonly deletionProtection: boolean;
}

const attr = (a: KeyAttribute): dynamodb.Attribute => ({
  name: a.name,
  type: a.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
});

/**
 * All pumpwatch tables (DESIGN.md §3) from shared/tables.ts, the schemas the local stack creates its
 * tables from: on-demand, point-in-time recovery,
 * encrypted with the customer managed key, retained.
 */
export class DataTables extends Construct {
  readonly tables: Readonly<Record<TableId, dynamodb.Table>>;

  constructor(scope: Construct, id: string, props: DataTablesProps) {
    super(scope, id);
    const seen = new Set<string>();
    const tables = {} as Record<TableId, dynamodb.Table>;
    for (const key of Object.keys(TABLE_SCHEMAS) as TableId[]) {
      const name = props.names[key];
      if (name === undefined) throw new Error(`DataTables ${id}: no name for table ${key}`);
      if (!Token.isUnresolved(name)) {
        if (!/^[a-zA-Z0-9_.-]{3,255}$/.test(name)) throw new Error(`DataTables ${id}: invalid table name ${JSON.stringify(name)}`);
        if (seen.has(name)) throw new Error(`DataTables ${id}: table name ${name} used twice`);
        seen.add(name);
      }
      const spec = TABLE_SCHEMAS[key];
      const table = new dynamodb.Table(this, pascal(key), {
        tableName: name,
        partitionKey: attr(spec.partitionKey),
        sortKey: spec.sortKey ? attr(spec.sortKey) : undefined,
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryptionKey: props.encryptionKey,
        timeToLiveAttribute: spec.ttlAttribute,
        deletionProtection: props.deletionProtection,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      for (const index of spec.indexes) {
        table.addGlobalSecondaryIndex({
          indexName: index.indexName,
          partitionKey: attr(index.partitionKey),
          sortKey: index.sortKey ? attr(index.sortKey) : undefined,
          projectionType: dynamodb.ProjectionType.ALL,
        });
      }
      tables[key] = table;
    }
    this.tables = tables;
  }
}

function pascal(key: string): string {
  return `${key[0]!.toUpperCase()}${key.slice(1)}Table`;
}
