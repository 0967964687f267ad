import type { Clock } from '../../shared/clock';
import type { ExtendedSequenceNumber } from './leases/lease';
import { compareExtended, isSentinel } from './leases/lease';
import type { LeaseCoordinator } from './leases/lease-coordinator';
import type { RecordProcessorCheckpointer } from './processor';

export interface CheckpointPolicy {
  /** Write after this many marks... */
  readonly everyMarks: number;
  /** ...or this long after the first unwritten mark. */
  readonly everyMs: number;
}

/**
 * The newest marked position not yet written, and whether the policy makes its write due: the
 * mark-then-write-on-a-policy part shared by the live checkpointer and the replay's.
 */
export class PendingMark {
  private marked: ExtendedSequenceNumber | undefined;
  private marksSinceWrite = 0;
  private firstUnwrittenAt: number | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly policy: CheckpointPolicy,
    private readonly order: (a: ExtendedSequenceNumber, b: ExtendedSequenceNumber) => number = compareExtended,
  ) {}

  /** The position to write next, if any. */
  get position(): ExtendedSequenceNumber | undefined {
    return this.marked;
  }

  /** Marks `position` unless it is not past the current mark (or, without one, past `written`). */
  mark(position: ExtendedSequenceNumber, written: ExtendedSequenceNumber | undefined): void {
    const floor = this.marked ?? written;
    if (floor && this.order(position, floor) <= 0) return;
    this.marked = position;
    this.marksSinceWrite += 1;
    this.firstUnwrittenAt ??= this.clock.now();
  }

  /** Whether the policy says the mark is due: enough marks, or the oldest unwritten one old enough. */
  get due(): boolean {
    if (!this.marked) return false;
    const age = this.clock.now() - (this.firstUnwrittenAt ?? this.clock.now());
    return this.marksSinceWrite >= this.policy.everyMarks || age >= this.policy.everyMs;
  }

  /** `position` was written: the mark is cleared unless a newer one came in the meantime. */
  wrote(position: ExtendedSequenceNumber): void {
    if (this.marked !== position) return;
    this.marked = undefined;
    this.marksSinceWrite = 0;
    this.firstUnwrittenAt = undefined;
  }
}

/**
 * Marks locally and writes on a policy (KafkaJS' offset manager idea). Only moves forward; the
 * write is fenced by the lease counter, so a worker that lost the lease cannot checkpoint.
 */
export class Checkpointer implements RecordProcessorCheckpointer {
  private written: ExtendedSequenceNumber | undefined;
  private readonly pending: PendingMark;
  private ended = false;
  /** When the checkpoint was last written (local clock), for the checkpoint-lag metric. */
  lastWriteAt: number;

  constructor(
    private readonly shardId: string,
    private readonly coordinator: LeaseCoordinator,
    private readonly clock: Clock,
    policy: CheckpointPolicy,
    initial: ExtendedSequenceNumber | undefined,
  ) {
    this.written = initial && !isSentinel(initial.sequenceNumber) ? initial : undefined;
    this.pending = new PendingMark(clock, policy);
    this.lastWriteAt = clock.now();
  }

  /** The last position written. */
  get position(): ExtendedSequenceNumber | undefined {
    return this.written;
  }

  mark(position: ExtendedSequenceNumber): void {
    this.pending.mark(position, this.written);
  }

  /** Writes when the policy says it is due. */
  async flushIfDue(): Promise<void> {
    if (this.pending.due) await this.flush();
  }

  async flush(): Promise<void> {
    const pos = this.pending.position;
    if (!pos || this.ended) return;
    if (this.written && compareExtended(pos, this.written) <= 0) return;
    await this.coordinator.checkpoint(this.shardId, pos.sequenceNumber, pos.subSequenceNumber);
    this.written = pos;
    this.lastWriteAt = this.clock.now();
    this.pending.wrote(pos);
  }

  async checkpointShardEnd(): Promise<void> {
    await this.coordinator.checkpoint(this.shardId, 'SHARD_END', 0);
    this.ended = true;
  }

  get shardEnded(): boolean {
    return this.ended;
  }
}
