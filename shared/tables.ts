import type { ResourceNames } from './names';

/**
 * Key schemas of the DynamoDB tables, defined once: the local stack creates tables from these and
 * the CDK stateful stack is tested against them.
 */
export type AttributeType = 'S' | 'N';

export interface KeyAttribute {
  readonly name: string;
  readonly type: AttributeType;
}

export interface IndexSchema {
  readonly indexName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
}

export interface TableSchema {
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  readonly indexes: readonly IndexSchema[];
  /** Expiry attribute (epoch seconds). Local emulators ignore it; nothing depends on it for correctness. */
  readonly ttlAttribute?: string;
}

export type TableId = keyof ResourceNames['tables'];

const S = (name: string): KeyAttribute => ({ name, type: 'S' });
const N = (name: string): KeyAttribute => ({ name, type: 'N' });

export const TABLE_SCHEMAS: Readonly<Record<TableId, TableSchema>> = {
  leases: { partitionKey: S('leaseKey'), indexes: [] },
  pumps: { partitionKey: S('pumpId'), indexes: [] },
  state: { partitionKey: S('pumpId'), indexes: [] },
  windows: {
    partitionKey: S('pumpId'),
    sortKey: S('sk'),
    indexes: [{ indexName: 'unscored', partitionKey: S('unscoredPartition'), sortKey: N('windowStart') }],
    ttlAttribute: 'expiresAt',
  },
  events: {
    partitionKey: S('eventId'),
    indexes: [
      { indexName: 'pending', partitionKey: S('pendingPartition'), sortKey: N('createdAt') },
      { indexName: 'byPump', partitionKey: S('pumpId'), sortKey: N('createdAt') },
    ],
  },
  models: { partitionKey: S('modelGroup'), sortKey: N('version'), indexes: [] },
  quarantine: {
    partitionKey: S('id'),
    indexes: [{ indexName: 'byReason', partitionKey: S('reason'), sortKey: N('receivedAt') }],
  },
  replay: { partitionKey: S('jobId'), indexes: [] },
};

/** Number of partitions sparse "pending"/"unscored" indexes spread their items over. */
export const SPARSE_INDEX_PARTITIONS = 8;
