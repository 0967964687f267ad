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
 * Marks locally and writes on a policy (KafkaJS' offset manager idea). Only moves forward; the
 * write is fenced by the lease counter, so a worker that lost the lease cannot checkpoint.
 */
export class Checkpointer implements RecordProcessorCheckpointer {
  private written: ExtendedSequenceNumber | undefined;
  private marked: ExtendedSequenceNumber | undefined;
  private marksSinceWrite = 0;
  private firstUnwrittenAt: number | undefined;
  private ended = false;
  /** When the checkpoint was last written (local clock), for the checkpoint-lag metric. */
  lastWriteAt: number;

  constructor(
    private readonly shardId: string,
    private readonly coordinator: LeaseCoordinator,
    private readonly clock: Clock,
    private readonly policy: CheckpointPolicy,
    initial: ExtendedSequenceNumber | undefined,
  ) {
    this.written = initial && !isSentinel(initial.sequenceNumber) ? initial : undefined;
    this.lastWriteAt = clock.now();
  }

  /** The last position written. */
  get position(): ExtendedSequenceNumber | undefined {
    return this.written;
  }

  mark(position: ExtendedSequenceNumber): void {
    const floor = this.marked ?? this.written;
    if (floor && compareExtended(position, floor) <= 0) return;
    this.marked = position;
    this.marksSinceWrite += 1;
    this.firstUnwrittenAt ??= this.clock.now();
  }

  /** Writes when the policy says it is due. */
  async flushIfDue(): Promise<void> {
    if (!this.marked) return;
    const age = this.clock.now() - (this.firstUnwrittenAt ?? this.clock.now());
    if (this.marksSinceWrite >= this.policy.everyMarks || age >= this.policy.everyMs) await this.flush();
  }

  async flush(): Promise<void> {
    const pos = this.marked;
    if (!pos || this.ended) return;
    if (this.written && compareExtended(pos, this.written) <= 0) return;
    await this.coordinator.checkpoint(this.shardId, pos.sequenceNumber, pos.subSequenceNumber);
    this.written = pos;
    this.lastWriteAt = this.clock.now();
    if (this.marked === pos) {
      this.marked = undefined;
      this.marksSinceWrite = 0;
      this.firstUnwrittenAt = undefined;
    }
  }

  async checkpointShardEnd(): Promise<void> {
    await this.coordinator.checkpoint(this.shardId, 'SHARD_END', 0);
    this.ended = true;
  }

  get shardEnded(): boolean {
    return this.ended;
  }
}
