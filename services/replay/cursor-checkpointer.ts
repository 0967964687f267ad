import type { Clock } from '../../shared/clock';
import type { ReplayCursor, ReplayStore } from '../../shared/stores/replay-store';
import { type CheckpointPolicy, PendingMark } from '../consumer/checkpointer';
import type { ExtendedSequenceNumber } from '../consumer/leases/lease';
import type { ConsumerRecord, RecordProcessorCheckpointer } from '../consumer/processor';

/** Orders positions of one input partition (sequence numbers, or archive key and line). */
export type PositionOrder = (a: ExtendedSequenceNumber, b: ExtendedSequenceNumber) => number;

/**
 * The replay's checkpointer: the processor marks the newest position whose effects are durable
 * (before the oldest open window, as live), and the mark is written to the job's cursor item on a
 * policy (every N marks or T ms), never backwards. The cursor also counts the records up to its
 * position, so a job that is killed and resumed counts each record once.
 *
 * The reader tells it which records it hands to the processor ({@link track}), in order.
 */
export class ReplayCheckpointer implements RecordProcessorCheckpointer {
  private cursor: ReplayCursor;
  private readonly pending: PendingMark;
  /** Positions handed to the processor and not yet written. */
  private tracked: ExtendedSequenceNumber[] = [];
  private trackedHead = 0;

  constructor(
    private readonly store: ReplayStore,
    initial: ReplayCursor,
    private readonly clock: Clock,
    policy: CheckpointPolicy,
    private readonly order: PositionOrder,
  ) {
    this.cursor = initial;
    this.pending = new PendingMark(clock, policy, order);
  }

  /** The cursor as last written. */
  get current(): ReplayCursor {
    return this.cursor;
  }

  /** Records handed to the processor, in read order. */
  track(records: readonly ConsumerRecord[]): void {
    for (const r of records) this.tracked.push({ sequenceNumber: r.sequenceNumber, subSequenceNumber: r.subSequenceNumber });
  }

  mark(position: ExtendedSequenceNumber): void {
    this.pending.mark(position, this.cursor.position);
  }

  async flushIfDue(): Promise<void> {
    if (this.pending.due) await this.flush();
  }

  /** Records read up to and including `position` since the last write (and drops them from tracking). */
  private consumeThrough(position: ExtendedSequenceNumber): number {
    let n = 0;
    while (this.trackedHead < this.tracked.length && this.order(this.tracked[this.trackedHead]!, position) <= 0) {
      this.trackedHead += 1;
      n += 1;
    }
    if (this.trackedHead > 4_096) {
      this.tracked = this.tracked.slice(this.trackedHead);
      this.trackedHead = 0;
    }
    return n;
  }

  async flush(): Promise<void> {
    const pos = this.pending.position;
    if (!pos) return;
    const next: ReplayCursor = {
      ...this.cursor,
      position: { sequenceNumber: pos.sequenceNumber, subSequenceNumber: pos.subSequenceNumber },
      records: this.cursor.records + this.consumeThrough(pos),
      updatedAt: this.clock.now(),
    };
    await this.store.putCursor(next);
    this.cursor = next;
    this.pending.wrote(pos);
  }

  /** The shard ended and its open windows were handed over: the children may start. */
  async checkpointShardEnd(): Promise<void> {
    await this.finish('ended');
  }

  /** The input reached the end of the job's range (or nothing was to be read). */
  async finish(status: 'ended' | 'done' | 'skipped'): Promise<void> {
    await this.flush();
    const next: ReplayCursor = { ...this.cursor, status, updatedAt: this.clock.now() };
    await this.store.putCursor(next);
    this.cursor = next;
  }
}

/** A fresh cursor for a partition nobody has read yet. */
export function newCursor(jobId: string, partition: string, key: string, nowMs: number): ReplayCursor {
  return { jobId: key, kind: 'cursor', job: jobId, partition, records: 0, status: 'reading', updatedAt: nowMs };
}
