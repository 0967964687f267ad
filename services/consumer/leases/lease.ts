import { z } from 'zod';

/** Checkpoint sentinels, as KCL writes them. */
export const SENTINELS = ['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP', 'SHARD_END'] as const;
export type Sentinel = (typeof SENTINELS)[number];

/**
 * A shard lease in the KCL lease schema: leaseKey, leaseOwner, leaseCounter, checkpoint,
 * checkpointSubSequenceNumber, ownerSwitchesSinceCheckpoint, parentShardId (a set),
 * childShardIds, startingHashKey/endingHashKey. Added (what KCL lacks here): `shardId` and
 * `applicationName` (several lease groups share one table, so `leaseKey` is
 * `<application>:<shardId>`), and `pendingOwner` for a graceful hand-over when leases are
 * rebalanced (the current owner drains and checkpoints before the new owner starts).
 */
export const LeaseSchema = z.strictObject({
  leaseKey: z.string(),
  applicationName: z.string(),
  shardId: z.string(),
  leaseOwner: z.string().optional(),
  leaseCounter: z.number().int().nonnegative(),
  checkpoint: z.string(),
  checkpointSubSequenceNumber: z.number().int().nonnegative(),
  ownerSwitchesSinceCheckpoint: z.number().int().nonnegative(),
  parentShardId: z.array(z.string()).default([]),
  childShardIds: z.array(z.string()).default([]),
  startingHashKey: z.string(),
  endingHashKey: z.string(),
  pendingOwner: z.string().optional(),
});
export type Lease = z.infer<typeof LeaseSchema>;

/** A position on a shard: a sequence number and the sub-sequence of a KPL user record. */
export interface ExtendedSequenceNumber {
  readonly sequenceNumber: string;
  readonly subSequenceNumber: number;
}

export function leaseKeyOf(applicationName: string, shardId: string): string {
  return `${applicationName}:${shardId}`;
}

/** A shard's lease as shard discovery creates it: no owner, counter 0, no children yet. */
export function newLease(
  applicationName: string,
  shardId: string,
  init: Pick<Lease, 'checkpoint' | 'startingHashKey' | 'endingHashKey'> & { parentShardId?: string[] },
): Lease {
  return {
    leaseKey: leaseKeyOf(applicationName, shardId),
    applicationName,
    shardId,
    leaseCounter: 0,
    checkpoint: init.checkpoint,
    checkpointSubSequenceNumber: 0,
    ownerSwitchesSinceCheckpoint: 0,
    parentShardId: init.parentShardId ?? [],
    childShardIds: [],
    startingHashKey: init.startingHashKey,
    endingHashKey: init.endingHashKey,
  };
}

export function isSentinel(checkpoint: string): checkpoint is Sentinel {
  return (SENTINELS as readonly string[]).includes(checkpoint);
}

/** Compares positions; sentinels are not comparable and throw. */
export function compareExtended(a: ExtendedSequenceNumber, b: ExtendedSequenceNumber): number {
  if (isSentinel(a.sequenceNumber) || isSentinel(b.sequenceNumber)) throw new RangeError('cannot order sentinel checkpoints');
  const x = BigInt(a.sequenceNumber);
  const y = BigInt(b.sequenceNumber);
  if (x !== y) return x < y ? -1 : 1;
  return a.subSequenceNumber - b.subSequenceNumber;
}
