import {
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  type _Record,
  type ShardIteratorType,
} from '@aws-sdk/client-kinesis';
import { backoffDelay, type Clock, sleep } from '../../shared/clock';
import { isRetryableAwsError } from '../../shared/errors';
import type { Logger } from '../../shared/logging';
import { Checkpointer, type CheckpointPolicy } from './checkpointer';
import { deaggregate, hashKeyOf, isAggregated } from './kinesis/aggregation';
import { compareExtended, type ExtendedSequenceNumber, isSentinel, type Lease, leaseKeyOf } from './leases/lease';
import { LeaseLostError, type LeaseCoordinator } from './leases/lease-coordinator';
import type { LeaseStore } from './leases/lease-store';
import type { ConsumerRecord, ShardRecordProcessor } from './processor';

export type ShutdownReason = 'SHARD_END' | 'LEASE_LOST' | 'REQUESTED';

export type ShardConsumerState = 'WAITING_ON_PARENTS' | 'INITIALIZING' | 'PROCESSING' | 'SHUTTING_DOWN' | 'SHUTDOWN_COMPLETE';

export interface ShardConsumerOptions {
  readonly streamName: string;
  readonly applicationName: string;
  readonly maxRecords: number;
  /** Pause after a read that returned nothing. */
  readonly idleTimeBetweenReadsMs: number;
  readonly parentPollIntervalMs: number;
  readonly checkpoint: CheckpointPolicy;
  /** Used when the lease says AT_TIMESTAMP. */
  readonly initialTimestamp?: Date;
}

export interface ShardConsumerDeps {
  readonly kinesis: KinesisClient;
  readonly leases: LeaseStore;
  readonly coordinator: LeaseCoordinator;
  readonly processor: ShardRecordProcessor;
  readonly clock: Clock;
  readonly log: Logger;
}

/** Counters a worker reports in its metrics log line. */
export interface ShardConsumerStats {
  records: number;
  millisBehindLatest: number;
}

/**
 * Consumes one shard for the lease this worker holds (KCL's ShardConsumer).
 *
 *   WAITING_ON_PARENTS ──▶ INITIALIZING ──▶ PROCESSING ──▶ SHUTTING_DOWN ──▶ SHUTDOWN_COMPLETE
 *    (every parent at        (iterator from     (read, de-aggregate,    SHARD_END:  processor.shardEnded
 *     SHARD_END)              the checkpoint)    process, checkpoint)   LEASE_LOST: processor.leaseLost
 *                                                                       REQUESTED:  processor.shutdownRequested
 *
 * A lease that turns invalid (lost, or not renewed in time) ends processing with LEASE_LOST
 * before the next read, so a worker that cannot renew stops before others may take over.
 */
export class ShardConsumer {
  private stateValue: ShardConsumerState = 'WAITING_ON_PARENTS';
  private requested = false;
  private readonly abort = new AbortController();
  private done: Promise<ShutdownReason> | undefined;
  readonly stats: ShardConsumerStats = { records: 0, millisBehindLatest: 0 };

  constructor(
    private readonly lease: Lease,
    private readonly options: ShardConsumerOptions,
    private readonly deps: ShardConsumerDeps,
  ) {}

  get shardId(): string {
    return this.lease.shardId;
  }

  get state(): ShardConsumerState {
    return this.stateValue;
  }

  /** Milliseconds since this shard's checkpoint was last written. */
  checkpointLagMs(now: number): number {
    return this.checkpointer ? now - this.checkpointer.lastWriteAt : 0;
  }

  /** Starts the consumer; resolves with the shutdown reason when it is complete. Idempotent. */
  start(): Promise<ShutdownReason> {
    this.done ??= this.run();
    return this.done;
  }

  /** Asks the consumer to drain and checkpoint (REQUESTED). Resolves when it is complete. */
  requestShutdown(): Promise<ShutdownReason> {
    this.requested = true;
    this.abort.abort(new Error('shutdown requested'));
    return this.start();
  }

  private get log(): Logger {
    return this.deps.log;
  }

  private async run(): Promise<ShutdownReason> {
    const shardId = this.lease.shardId;
    let reason: ShutdownReason = 'REQUESTED';
    try {
      if (!(await this.waitOnParents())) {
        reason = this.requested ? 'REQUESTED' : 'LEASE_LOST';
      } else {
        this.stateValue = 'INITIALIZING';
        reason = await this.process();
      }
    } catch (err) {
      reason = err instanceof LeaseLostError ? 'LEASE_LOST' : this.requested ? 'REQUESTED' : 'LEASE_LOST';
      if (!(err instanceof LeaseLostError)) this.log.error({ shardId, err }, 'shard consumer failed');
    }
    this.stateValue = 'SHUTTING_DOWN';
    await this.shutdown(reason);
    this.stateValue = 'SHUTDOWN_COMPLETE';
    this.log.info({ shardId, reason }, 'shard consumer shut down');
    return reason;
  }

  private async waitOnParents(): Promise<boolean> {
    const parents = this.lease.parentShardId;
    while (parents.length > 0) {
      if (this.requested || !this.deps.coordinator.isValid(this.lease.shardId)) return false;
      let pending = 0;
      for (const parent of parents) {
        const p = await this.deps.leases.get(leaseKeyOf(this.options.applicationName, parent));
        // A parent without a lease is past retention (or never ours): nothing to wait for.
        if (p && p.checkpoint !== 'SHARD_END') pending += 1;
      }
      if (pending === 0) break;
      await sleep(this.options.parentPollIntervalMs, this.abort.signal).catch(() => undefined);
    }
    return true;
  }

  private async iterator(from: ExtendedSequenceNumber | undefined, checkpoint: string): Promise<string | undefined> {
    let type: ShardIteratorType;
    let extra: { StartingSequenceNumber?: string; Timestamp?: Date } = {};
    if (from) {
      type = 'AT_SEQUENCE_NUMBER';
      extra = { StartingSequenceNumber: from.sequenceNumber };
    } else if (checkpoint === 'LATEST') {
      type = 'LATEST';
    } else if (checkpoint === 'AT_TIMESTAMP') {
      type = 'AT_TIMESTAMP';
      extra = { Timestamp: this.options.initialTimestamp ?? new Date(0) };
    } else {
      type = 'TRIM_HORIZON';
    }
    const r = await this.deps.kinesis.send(
      new GetShardIteratorCommand({ StreamName: this.options.streamName, ShardId: this.lease.shardId, ShardIteratorType: type, ...extra }),
      { abortSignal: this.abort.signal },
    );
    return r.ShardIterator;
  }

  private async process(): Promise<ShutdownReason> {
    const shardId = this.lease.shardId;
    const { coordinator, processor, clock } = this.deps;
    const held = coordinator.heldLease(shardId) ?? this.lease;
    if (held.checkpoint === 'SHARD_END') return 'SHARD_END';
    const start: ExtendedSequenceNumber | undefined = isSentinel(held.checkpoint)
      ? undefined
      : { sequenceNumber: held.checkpoint, subSequenceNumber: held.checkpointSubSequenceNumber };
    this.checkpointer = new Checkpointer(shardId, coordinator, clock, this.options.checkpoint, start);
    const range = { start: BigInt(this.lease.startingHashKey), end: BigInt(this.lease.endingHashKey) };
    await processor.initialize({
      shardId,
      checkpoint: start ?? { sequenceNumber: held.checkpoint as 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP', subSequenceNumber: 0 },
      parentShardIds: this.lease.parentShardId,
      hashKeyRange: range,
    });
    this.stateValue = 'PROCESSING';
    // Resume at the checkpointed record and skip what was already done (covers KPL sub-records).
    let skipThrough: ExtendedSequenceNumber | undefined = start;
    let lastRead: ExtendedSequenceNumber | undefined = start;
    let iterator = await this.iterator(start, held.checkpoint);
    let failures = 0;
    while (iterator) {
      if (this.requested) return 'REQUESTED';
      if (!coordinator.isValid(shardId)) return 'LEASE_LOST';
      if (coordinator.handoverRequested(shardId)) return 'REQUESTED';
      let records: _Record[];
      let next: string | undefined;
      let behind: number;
      const readAtMs = this.deps.clock.now();
      try {
        const r = await this.deps.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: this.options.maxRecords }), {
          abortSignal: this.abort.signal,
        });
        records = r.Records ?? [];
        next = r.NextShardIterator;
        behind = r.MillisBehindLatest ?? 0;
        failures = 0;
      } catch (err) {
        if (this.requested) return 'REQUESTED';
        if (err instanceof ExpiredIteratorException) {
          iterator = await this.iterator(lastRead, held.checkpoint);
          skipThrough = lastRead;
          continue;
        }
        if (!isRetryableAwsError(err)) throw err;
        failures += 1;
        this.log.warn({ shardId, err: (err as Error).name, failures }, 'GetRecords throttled or failed; backing off');
        await sleep(backoffDelay(failures, 200, 5_000), this.abort.signal).catch(() => undefined);
        continue;
      }
      const userRecords = expandRecords(
        records,
        range,
        skipThrough,
        (seq, err) => this.log.warn({ shardId: this.shardId, sequenceNumber: seq, err: err.message }, 'corrupt KPL aggregate'),
        // KCL drops these too (a producer with a stale shard map); they are logged, not silent.
        (seq, partitionKey) => this.log.warn({ shardId: this.shardId, sequenceNumber: seq, partitionKey }, 'KPL sub-record outside the shard hash range dropped'),
      );
      skipThrough = undefined;
      if (userRecords.length > 0) {
        const last = userRecords[userRecords.length - 1]!;
        lastRead = { sequenceNumber: last.sequenceNumber, subSequenceNumber: last.subSequenceNumber };
      }
      this.stats.records += userRecords.length;
      this.stats.millisBehindLatest = behind;
      await processor.processRecords({ records: userRecords, millisBehindLatest: next ? behind : 0, readAtMs, checkpointer: this.checkpointer });
      await this.checkpointer.flushIfDue();
      iterator = next;
      if (next && records.length === 0) await sleep(this.options.idleTimeBetweenReadsMs, this.abort.signal).catch(() => undefined);
    }
    return 'SHARD_END';
  }

  private checkpointer: Checkpointer | undefined;

  private async shutdown(reason: ShutdownReason): Promise<void> {
    const { processor } = this.deps;
    const checkpointer = this.checkpointer ?? new Checkpointer(this.shardId, this.deps.coordinator, this.deps.clock, this.options.checkpoint, undefined);
    try {
      if (reason === 'LEASE_LOST') await processor.leaseLost();
      else if (reason === 'SHARD_END') await processor.shardEnded({ checkpointer });
      else await processor.shutdownRequested({ checkpointer });
    } catch (err) {
      this.log.error({ shardId: this.shardId, reason, err }, 'record processor shutdown failed');
    }
  }
}

/**
 * Turns Kinesis records into user records: KPL aggregates are de-aggregated and sub-records whose
 * hash key falls outside the shard's range are dropped (as KCL does, after resharding), and
 * records at or before `skipThrough` (already checkpointed) are skipped. A corrupt aggregate is
 * handed on whole, so validation quarantines it.
 */
export function expandRecords(
  records: readonly _Record[],
  range: { start: bigint; end: bigint },
  skipThrough: ExtendedSequenceNumber | undefined,
  onCorrupt: (sequenceNumber: string, err: Error) => void = () => undefined,
  onOutOfRange: (sequenceNumber: string, partitionKey: string) => void = () => undefined,
): ConsumerRecord[] {
  const out: ConsumerRecord[] = [];
  for (const r of records) {
    const data = r.Data ?? new Uint8Array();
    const seq = r.SequenceNumber!;
    const base = { sequenceNumber: seq, approximateArrivalTimestamp: r.ApproximateArrivalTimestamp };
    if (isAggregated(data)) {
      let subs;
      try {
        subs = deaggregate(data);
      } catch (err) {
        onCorrupt(seq, err as Error);
      }
      if (subs) {
        subs.forEach((u, i) => {
          const hash = u.explicitHashKey !== undefined ? BigInt(u.explicitHashKey) : hashKeyOf(u.partitionKey);
          if (hash < range.start || hash > range.end) {
            onOutOfRange(seq, u.partitionKey);
            return;
          }
          out.push({ ...base, subSequenceNumber: i, partitionKey: u.partitionKey, data: u.data, aggregated: true });
        });
        continue;
      }
    }
    out.push({ ...base, subSequenceNumber: 0, partitionKey: r.PartitionKey ?? '', data, aggregated: false });
  }
  if (!skipThrough) return out;
  return out.filter((rec) => compareExtended(rec, skipThrough) > 0);
}
