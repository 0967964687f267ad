import type { ExtendedSequenceNumber } from './leases/lease';

/** One (de-aggregated) record as the processor sees it. */
export interface ConsumerRecord {
  readonly sequenceNumber: string;
  /** Index of the user record inside a KPL aggregate; 0 for plain records. */
  readonly subSequenceNumber: number;
  readonly partitionKey: string;
  readonly data: Uint8Array;
  readonly approximateArrivalTimestamp?: Date;
  readonly aggregated: boolean;
}

/** Moves a shard's checkpoint. Never backwards; fenced by the lease (throws LeaseLostError). */
export interface RecordProcessorCheckpointer {
  /** Remembers that everything up to `position` is durable; written when the policy says so. */
  mark(position: ExtendedSequenceNumber): void;
  /** Writes the marked position now. */
  flush(): Promise<void>;
  /** Writes SHARD_END: every record of the shard is done (lets the children start). */
  checkpointShardEnd(): Promise<void>;
}

export interface InitializationInput {
  readonly shardId: string;
  readonly checkpoint: ExtendedSequenceNumber | { readonly sequenceNumber: 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP'; readonly subSequenceNumber: 0 };
  readonly parentShardIds: readonly string[];
  readonly hashKeyRange: { readonly start: bigint; readonly end: bigint };
}

export interface ProcessRecordsInput {
  readonly records: readonly ConsumerRecord[];
  /** How far the reader is behind the tip of the shard (0 at the tip). */
  readonly millisBehindLatest: number;
  /**
   * Local time just before the read was sent: every record that had arrived on the stream by then
   * (less millisBehindLatest) is in this batch or an earlier one. Absent for replays and tests,
   * where the processor uses its own clock.
   */
  readonly readAtMs?: number;
  readonly checkpointer: RecordProcessorCheckpointer;
}

export interface ShutdownInput {
  readonly checkpointer: RecordProcessorCheckpointer;
}

/**
 * The five-step record processor lifecycle of the KCL. Each callback takes one input object.
 * processRecords is also called with no records when a read returns none, so the processor can
 * close idle windows and move its checkpoint.
 */
export interface ShardRecordProcessor {
  initialize(input: InitializationInput): Promise<void>;
  processRecords(input: ProcessRecordsInput): Promise<void>;
  /** The lease is gone: stop, and do not checkpoint. */
  leaseLost(): Promise<void>;
  /** Every record of the shard was delivered: finish, then checkpointShardEnd(). */
  shardEnded(input: ShutdownInput): Promise<void>;
  /** The worker is shutting down or handing the lease over: drain and checkpoint. */
  shutdownRequested(input: ShutdownInput): Promise<void>;
}

export type ShardRecordProcessorFactory = (shardId: string) => ShardRecordProcessor;
