import {
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  type Shard,
  type _Record,
} from '@aws-sdk/client-kinesis';
import { backoffDelay, type Clock, sleep } from '../../shared/clock';
import { isRetryableAwsError } from '../../shared/errors';
import type { Logger } from '../../shared/logging';
import { cursorKey, type ReplayCursor, type ReplayStore } from '../../shared/stores/replay-store';
import type { CheckpointPolicy } from '../consumer/checkpointer';
import { hashKeyOf } from '../consumer/kinesis/aggregation';
import { compareExtended, type ExtendedSequenceNumber } from '../consumer/leases/lease';
import type { PipelineProcessor } from '../consumer/pipeline/pipeline-processor';
import { expandRecords } from '../consumer/shard-consumer';
import { newCursor, ReplayCheckpointer } from './cursor-checkpointer';
import type { ReplaySourceReader, SourceOutcome, SourceProgress } from './sources';

export interface KinesisSourceOptions {
  readonly streamName: string;
  readonly jobId: string;
  /** Records that arrived in [startAtMs, endAtMs] are read (AT_TIMESTAMP startAtMs). */
  readonly startAtMs: number;
  readonly endAtMs: number;
  /** Pumps of the job: shards whose hash key range holds none of them are skipped. */
  readonly pumps?: readonly string[];
  readonly maxRecords: number;
  /** Shards read at the same time (parents always finish before their children start). */
  readonly concurrency: number;
  readonly checkpoint: CheckpointPolicy;
  /** How long UNSCORED windows are retried when a shard's input ends. */
  readonly drainTimeoutMs: number;
  /**
   * How long GetShardIterator AT_TIMESTAMP may take before the shard is read from TRIM_HORIZON
   * instead (arrival times before startAtMs are then skipped here). kinesalite never answers
   * AT_TIMESTAMP when no record of the shard arrived at or after the timestamp; the fallback only
   * costs reading more, never loses anything.
   */
  readonly iteratorTimeoutMs: number;
}

export interface KinesisSourceDeps {
  readonly kinesis: KinesisClient;
  readonly store: ReplayStore;
  readonly clock: Clock;
  readonly log: Logger;
}

type ShardEnd = 'ended' | 'done' | 'stopped';

const FINISHED = new Set<ReplayCursor['status']>(['ended', 'done', 'skipped']);

/**
 * Replays a time range from the stream (within its retention): every shard, closed ones
 * included, from AT_TIMESTAMP, parents before children (a child starts once all its parents have
 * ended and handed over their open windows, exactly as in the live consumer). A shard's input
 * ends at the first record that arrived after the range (plus margin), or at the tip; a closed
 * shard ends with SHARD_END. If a parent stopped at the range end, its children hold nothing in
 * the range and are not read.
 *
 * Progress per shard is the job's cursor item; a resumed job re-reads each shard from its cursor
 * (AT_SEQUENCE_NUMBER, skipping what was done), and shards already finished are not read again.
 */
export class KinesisReplaySource implements ReplaySourceReader {
  private shards: Shard[] = [];
  private readonly reached = new Map<string, number>();
  private readonly finished = new Set<string>();
  private skippedCount = 0;

  constructor(
    private readonly options: KinesisSourceOptions,
    private readonly deps: KinesisSourceDeps,
  ) {}

  private async listShards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let token: string | undefined;
    do {
      const r = await this.deps.kinesis.send(new ListShardsCommand(token ? { NextToken: token } : { StreamName: this.options.streamName }));
      shards.push(...(r.Shards ?? []));
      token = r.NextToken;
    } while (token);
    return shards.sort((a, b) => a.ShardId!.localeCompare(b.ShardId!));
  }

  progress(): SourceProgress {
    const { startAtMs, endAtMs } = this.options;
    const span = Math.max(0, Math.min(endAtMs, this.deps.clock.now()) - startAtMs) / 1000;
    const counted = this.shards.length - this.skippedCount;
    if (counted <= 0) return { unit: 'seconds', done: this.shards.length > 0 ? span : 0, total: span };
    let sum = 0;
    for (const s of this.shards) {
      const id = s.ShardId!;
      if (this.finished.has(id)) sum += span;
      else if (this.reached.has(id)) sum += Math.min(span, Math.max(0, (this.reached.get(id)! - startAtMs) / 1000));
    }
    return { unit: 'seconds', done: Math.max(0, (sum - this.skippedCount * span) / counted), total: span };
  }

  async cursors(): Promise<ReplayCursor[]> {
    const out: ReplayCursor[] = [];
    for (const s of this.shards) {
      const c = await this.deps.store.getCursor(this.options.jobId, s.ShardId!);
      if (c) out.push(c);
    }
    return out;
  }

  async run(processorFor: (partition: string) => PipelineProcessor, outer: AbortSignal): Promise<SourceOutcome> {
    const { jobId } = this.options;
    // A failing shard stops the others (their cursors keep what they did) before the error surfaces.
    const failed = new AbortController();
    const signal = AbortSignal.any([outer, failed.signal]);
    this.shards = await this.listShards();
    const ids = new Set(this.shards.map((s) => s.ShardId!));
    const parentsOf = new Map(
      this.shards.map((s) => [s.ShardId!, [s.ParentShardId, s.AdjacentParentShardId].filter((p): p is string => !!p && ids.has(p)).sort()]),
    );
    const status = new Map<string, ReplayCursor['status']>();
    for (const s of this.shards) {
      const c = await this.deps.store.getCursor(jobId, s.ShardId!);
      status.set(s.ShardId!, c?.status ?? 'reading');
      if (c && FINISHED.has(c.status)) this.finished.add(s.ShardId!);
      if (c?.status === 'skipped') this.skippedCount += 1;
    }
    const hashes = this.options.pumps?.map((p) => hashKeyOf(p));
    const running = new Map<string, Promise<void>>();
    let pendingPumps = 0;
    let stopped = false;
    const settle = async (shardId: string, to: ReplayCursor['status']): Promise<void> => {
      const cp = new ReplayCheckpointer(this.deps.store, newCursor(jobId, shardId, cursorKey(jobId, shardId), this.deps.clock.now()), this.deps.clock, this.options.checkpoint, compareExtended);
      await cp.finish(to as 'done' | 'skipped');
      status.set(shardId, to);
      this.finished.add(shardId);
      if (to === 'skipped') this.skippedCount += 1;
    };
    for (;;) {
      if (signal.aborted) stopped = true;
      if (!stopped) {
        for (const shard of this.shards) {
          const id = shard.ShardId!;
          if (FINISHED.has(status.get(id)!) || running.has(id) || running.size >= this.options.concurrency) continue;
          const parents = parentsOf.get(id)!;
          if (!parents.every((p) => FINISHED.has(status.get(p)!))) continue;
          if (parents.some((p) => status.get(p) === 'done')) {
            // The parent stopped at the end of the range: its children's records all came later.
            await settle(id, 'done');
            continue;
          }
          const range = { start: BigInt(shard.HashKeyRange!.StartingHashKey!), end: BigInt(shard.HashKeyRange!.EndingHashKey!) };
          if (hashes && !hashes.some((h) => h >= range.start && h <= range.end)) {
            await settle(id, 'skipped');
            continue;
          }
          const run = this.readShard(shard, parents, range, processorFor(id), signal).then(({ end, pending }) => {
            if (end === 'stopped') stopped = true;
            else {
              status.set(id, end);
              this.finished.add(id);
            }
            pendingPumps += pending;
          });
          running.set(
            id,
            run.finally(() => running.delete(id)),
          );
        }
      }
      if (running.size === 0) break;
      // Wait for one shard to finish, then look for newly runnable ones (its children).
      try {
        await Promise.race(running.values());
      } catch (err) {
        failed.abort(err);
        await Promise.allSettled(running.values());
        throw err;
      }
    }
    return { stopped: stopped || [...status.values()].some((s) => !FINISHED.has(s)), pendingPumps };
  }

  /** An iterator at the start of the replay's arrival window (TRIM_HORIZON if AT_TIMESTAMP does not answer). */
  private async iteratorFrom(shardId: string, signal: AbortSignal): Promise<string | undefined> {
    const { streamName, startAtMs, iteratorTimeoutMs } = this.options;
    if (startAtMs < this.deps.clock.now()) {
      try {
        const r = await this.deps.kinesis.send(
          new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ShardIteratorType: 'AT_TIMESTAMP', Timestamp: new Date(startAtMs) }),
          { abortSignal: AbortSignal.any([signal, AbortSignal.timeout(iteratorTimeoutMs)]) },
        );
        return r.ShardIterator;
      } catch (err) {
        if (signal.aborted) throw err;
        this.deps.log.info({ shardId, err: (err as Error).name }, 'AT_TIMESTAMP iterator unavailable; reading from TRIM_HORIZON and skipping earlier arrivals');
      }
    }
    const r = await this.deps.kinesis.send(new GetShardIteratorCommand({ StreamName: streamName, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }), {
      abortSignal: signal,
    });
    return r.ShardIterator;
  }

  private async iteratorAt(shardId: string, position: ExtendedSequenceNumber, signal: AbortSignal): Promise<string | undefined> {
    const r = await this.deps.kinesis.send(
      new GetShardIteratorCommand({
        StreamName: this.options.streamName,
        ShardId: shardId,
        ShardIteratorType: 'AT_SEQUENCE_NUMBER',
        StartingSequenceNumber: position.sequenceNumber,
      }),
      { abortSignal: signal },
    );
    return r.ShardIterator;
  }

  /** Reads one shard to its end (SHARD_END, the end of the range, or the tip), or until stopped. */
  private async readShard(
    shard: Shard,
    parents: string[],
    range: { start: bigint; end: bigint },
    processor: PipelineProcessor,
    signal: AbortSignal,
  ): Promise<{ end: ShardEnd; pending: number }> {
    const { jobId, startAtMs, endAtMs } = this.options;
    const shardId = shard.ShardId!;
    const log = this.deps.log.child({ shardId });
    const cursor = (await this.deps.store.getCursor(jobId, shardId)) ?? newCursor(jobId, shardId, cursorKey(jobId, shardId), this.deps.clock.now());
    const checkpointer = new ReplayCheckpointer(this.deps.store, cursor, this.deps.clock, this.options.checkpoint, compareExtended);
    const start = cursor.position;
    await processor.initialize({
      shardId,
      checkpoint: start ?? { sequenceNumber: 'AT_TIMESTAMP', subSequenceNumber: 0 },
      parentShardIds: parents,
      hashKeyRange: range,
    });
    let iterator = start ? await this.iteratorAt(shardId, start, signal) : await this.iteratorFrom(shardId, signal);
    let skipThrough: ExtendedSequenceNumber | undefined = start;
    let lastRead: ExtendedSequenceNumber | undefined = start;
    let failures = 0;
    let end: 'ended' | 'done' | undefined;
    while (!end) {
      if (signal.aborted) {
        await processor.shutdownRequested({ checkpointer });
        return { end: 'stopped', pending: 0 };
      }
      if (!iterator) {
        end = 'ended';
        break;
      }
      let raw: _Record[];
      let next: string | undefined;
      let behind: number;
      try {
        const r = await this.deps.kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: this.options.maxRecords }), { abortSignal: signal });
        raw = r.Records ?? [];
        next = r.NextShardIterator;
        behind = r.MillisBehindLatest ?? 0;
        failures = 0;
      } catch (err) {
        if (signal.aborted) continue;
        if (err instanceof ExpiredIteratorException) {
          iterator = lastRead ? await this.iteratorAt(shardId, lastRead, signal) : await this.iteratorFrom(shardId, signal);
          skipThrough = lastRead;
          continue;
        }
        if (!isRetryableAwsError(err)) throw err;
        failures += 1;
        log.warn({ err: (err as Error).name, failures }, 'GetRecords throttled or failed; backing off');
        await sleep(backoffDelay(failures, 200, 5_000), signal).catch(() => undefined);
        continue;
      }
      const records = expandRecords(raw, range, skipThrough, (seq, err) => log.warn({ sequenceNumber: seq, err: err.message }, 'corrupt KPL aggregate'));
      skipThrough = undefined;
      const last = records[records.length - 1];
      if (last) lastRead = { sequenceNumber: last.sequenceNumber, subSequenceNumber: last.subSequenceNumber };
      const keep = [];
      let pastEnd = false;
      for (const r of records) {
        const at = r.approximateArrivalTimestamp?.getTime();
        if (at !== undefined && at < startAtMs) continue;
        if (at !== undefined && at > endAtMs) {
          pastEnd = true;
          break;
        }
        keep.push(r);
        if (at !== undefined) this.reached.set(shardId, at);
      }
      checkpointer.track(keep);
      await processor.processRecords({ records: keep, millisBehindLatest: behind, checkpointer });
      await checkpointer.flushIfDue();
      if (pastEnd) end = 'done';
      else if (!next) end = 'ended';
      else if (raw.length === 0 && behind === 0) end = 'done'; // at the tip: nothing newer exists yet
      else {
        iterator = next;
        if (raw.length === 0) await sleep(100, signal).catch(() => undefined);
      }
    }
    if (end === 'ended') {
      // Open windows go to the children (handoff), as in the live consumer.
      await processor.shardEnded({ checkpointer });
      log.info({ records: checkpointer.current.records }, 'replay shard ended');
      return { end, pending: processor.pendingPumps };
    }
    const pending = await processor.endOfInput({ checkpointer, drainTimeoutMs: this.options.drainTimeoutMs, signal });
    await checkpointer.finish('done');
    log.info({ records: checkpointer.current.records, pendingPumps: pending }, 'replay shard done');
    return { end, pending };
  }
}
