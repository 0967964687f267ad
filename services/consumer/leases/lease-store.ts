import { DeleteCommand, GetCommand, PutCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { conditional, dynamo } from '../../../shared/aws/dynamo-errors';
import { type Lease, LeaseSchema } from './lease';

/**
 * Lease persistence. Every write that changes ownership or position is conditional on the
 * lease counter the caller last saw (fencing), and bumps the counter. A false return means the
 * condition failed; callers re-read, since an SDK retry can make a success look like a failure.
 */
export interface LeaseStore {
  list(applicationName: string): Promise<Lease[]>;
  get(leaseKey: string): Promise<Lease | undefined>;
  /** Creates the lease if it does not exist. */
  create(lease: Lease): Promise<boolean>;
  /** Increments the counter if owner and counter still match. */
  renew(lease: Lease): Promise<boolean>;
  /** Takes an expired or unowned lease: sets the owner, bumps the counter and owner switches. */
  take(lease: Lease, newOwner: string): Promise<boolean>;
  /** Asks the owner to hand the lease over (graceful steal). */
  requestHandover(lease: Lease, newOwner: string): Promise<boolean>;
  /** The owner hands the lease to its pending owner. */
  handOver(lease: Lease): Promise<boolean>;
  /** Moves the checkpoint (owner and counter must match). */
  checkpoint(lease: Lease, checkpoint: string, subSequenceNumber: number): Promise<boolean>;
  /** Drops ownership (owner and counter must match). */
  release(lease: Lease): Promise<boolean>;
  /** Records the child shards of a shard that has ended. */
  setChildren(leaseKey: string, childShardIds: string[]): Promise<void>;
  delete(leaseKey: string): Promise<void>;
}

type Item = Record<string, unknown>;

function toItem(lease: Lease): Item {
  const { parentShardId, childShardIds, ...rest } = lease;
  // DynamoDB string sets cannot be empty, so empty ones are left out (as KCL does).
  return {
    ...rest,
    ...(parentShardId.length ? { parentShardId: new Set(parentShardId) } : {}),
    ...(childShardIds.length ? { childShardIds: new Set(childShardIds) } : {}),
  };
}

function fromItem(item: Item): Lease {
  const sets = (v: unknown): string[] | undefined => (v instanceof Set ? [...v].map(String).sort() : Array.isArray(v) ? v.map(String) : undefined);
  return LeaseSchema.parse({ ...item, parentShardId: sets(item.parentShardId) ?? [], childShardIds: sets(item.childShardIds) ?? [] });
}

export class DynamoDbLeaseStore implements LeaseStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async list(applicationName: string): Promise<Lease[]> {
    const out: Lease[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const r = await dynamo('lease.list', () =>
        this.doc.send(
          new ScanCommand({
            TableName: this.tableName,
            ConsistentRead: true,
            FilterExpression: 'applicationName = :a',
            ExpressionAttributeValues: { ':a': applicationName },
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      for (const i of r.Items ?? []) out.push(fromItem(i));
      startKey = r.LastEvaluatedKey;
    } while (startKey);
    return out.sort((a, b) => a.shardId.localeCompare(b.shardId));
  }

  async get(leaseKey: string): Promise<Lease | undefined> {
    const r = await dynamo('lease.get', () => this.doc.send(new GetCommand({ TableName: this.tableName, Key: { leaseKey }, ConsistentRead: true })));
    return r.Item ? fromItem(r.Item) : undefined;
  }

  async create(lease: Lease): Promise<boolean> {
    return conditional('lease.create', () =>
      this.doc.send(new PutCommand({ TableName: this.tableName, Item: toItem(lease), ConditionExpression: 'attribute_not_exists(leaseKey)' })),
    );
  }

  private update(op: string, lease: Lease, set: string, values: Record<string, unknown>, extraCondition = '', remove = ''): Promise<boolean> {
    const ownerCond = lease.leaseOwner === undefined ? 'attribute_not_exists(leaseOwner)' : 'leaseOwner = :owner';
    return conditional(op, () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { leaseKey: lease.leaseKey },
          UpdateExpression: `SET leaseCounter = :next${set ? `, ${set}` : ''}${remove ? ` REMOVE ${remove}` : ''}`,
          ConditionExpression: `leaseCounter = :counter AND ${ownerCond}${extraCondition ? ` AND ${extraCondition}` : ''}`,
          ExpressionAttributeValues: {
            ':counter': lease.leaseCounter,
            ':next': lease.leaseCounter + 1,
            ...(lease.leaseOwner === undefined ? {} : { ':owner': lease.leaseOwner }),
            ...values,
          },
        }),
      ),
    );
  }

  renew(lease: Lease): Promise<boolean> {
    return this.update('lease.renew', lease, '', {});
  }

  take(lease: Lease, newOwner: string): Promise<boolean> {
    return this.update(
      'lease.take',
      lease,
      'leaseOwner = :newOwner, ownerSwitchesSinceCheckpoint = ownerSwitchesSinceCheckpoint + :one',
      { ':newOwner': newOwner, ':one': 1 },
      '',
      'pendingOwner',
    );
  }

  requestHandover(lease: Lease, newOwner: string): Promise<boolean> {
    return this.update('lease.handover.request', lease, 'pendingOwner = :pending', { ':pending': newOwner }, 'attribute_not_exists(pendingOwner)');
  }

  handOver(lease: Lease): Promise<boolean> {
    if (!lease.pendingOwner) return Promise.resolve(false);
    return this.update(
      'lease.handover',
      lease,
      'leaseOwner = :pending, ownerSwitchesSinceCheckpoint = ownerSwitchesSinceCheckpoint + :one',
      { ':pending': lease.pendingOwner, ':one': 1 },
      'pendingOwner = :pending',
      'pendingOwner',
    );
  }

  checkpoint(lease: Lease, checkpoint: string, subSequenceNumber: number): Promise<boolean> {
    return this.update(
      'lease.checkpoint',
      lease,
      'checkpoint = :cp, checkpointSubSequenceNumber = :sub, ownerSwitchesSinceCheckpoint = :zero',
      { ':cp': checkpoint, ':sub': subSequenceNumber, ':zero': 0 },
    );
  }

  release(lease: Lease): Promise<boolean> {
    return this.update('lease.release', lease, '', {}, '', 'leaseOwner, pendingOwner');
  }

  async setChildren(leaseKey: string, childShardIds: string[]): Promise<void> {
    if (childShardIds.length === 0) return;
    await dynamo('lease.children', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { leaseKey },
          UpdateExpression: 'SET childShardIds = :c',
          ExpressionAttributeValues: { ':c': new Set(childShardIds) },
        }),
      ),
    );
  }

  async delete(leaseKey: string): Promise<void> {
    await dynamo('lease.delete', () => this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: { leaseKey } })));
  }
}
