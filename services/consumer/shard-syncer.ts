import { type KinesisClient, ListShardsCommand, type Shard } from '@aws-sdk/client-kinesis';
import type { Logger } from '../../shared/logging';
import { newLease } from './leases/lease';
import type { LeaseStore } from './leases/lease-store';

/** Where a consumer group starts on shards that have no parents. */
export type InitialPosition = 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP';

/** Lists the stream's shards and makes sure each has a lease (KCL's ShardSyncTask). */
export class ShardSyncer {
  constructor(
    private readonly kinesis: KinesisClient,
    private readonly leases: LeaseStore,
    private readonly options: { streamName: string; applicationName: string; initialPosition: InitialPosition },
    private readonly log: Logger,
  ) {}

  async listShards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let token: string | undefined;
    do {
      const r = await this.kinesis.send(
        new ListShardsCommand(token ? { NextToken: token } : { StreamName: this.options.streamName }),
      );
      shards.push(...(r.Shards ?? []));
      token = r.NextToken;
    } while (token);
    return shards;
  }

  /** Creates missing leases; records children on ended parents. Returns the number created. */
  async sync(): Promise<number> {
    const shards = await this.listShards();
    const existing = new Map((await this.leases.list(this.options.applicationName)).map((l) => [l.shardId, l]));
    const ids = new Set(shards.map((s) => s.ShardId!));
    const children = new Map<string, string[]>();
    for (const s of shards) {
      for (const p of [s.ParentShardId, s.AdjacentParentShardId]) {
        if (p) children.set(p, [...(children.get(p) ?? []), s.ShardId!]);
      }
    }
    let created = 0;
    for (const s of shards) {
      const shardId = s.ShardId!;
      if (existing.has(shardId)) continue;
      const parents = [s.ParentShardId, s.AdjacentParentShardId].filter((p): p is string => !!p && ids.has(p));
      const lease = newLease(this.options.applicationName, shardId, {
        // Children always start at their beginning; their parents' data comes first.
        checkpoint: parents.length > 0 ? 'TRIM_HORIZON' : this.options.initialPosition,
        parentShardId: parents.sort(),
        startingHashKey: s.HashKeyRange!.StartingHashKey!,
        endingHashKey: s.HashKeyRange!.EndingHashKey!,
      });
      if (await this.leases.create(lease)) {
        created += 1;
        this.log.info({ shardId, parents }, 'lease created');
      }
    }
    for (const [parent, kids] of children) {
      const lease = existing.get(parent);
      if (lease && lease.childShardIds.length === 0) await this.leases.setChildren(lease.leaseKey, kids.sort());
    }
    return created;
  }
}
