import type { ReplayCursor } from '../../shared/stores/replay-store';
import type { PipelineProcessor } from '../consumer/pipeline/pipeline-processor';

/** How far a source has got, for the progress bar and the job's heartbeat. */
export interface SourceProgress {
  /** `objects` (archive) or `seconds` of stream arrival time (Kinesis). */
  readonly unit: 'objects' | 'seconds';
  readonly done: number;
  readonly total: number;
}

/** How a source's run ended. */
export interface SourceOutcome {
  /** Stopped before the end (signal): the cursors hold where to resume. */
  readonly stopped: boolean;
  /** Pumps whose windows were still UNSCORED when their partition ended. */
  readonly pendingPumps: number;
}

/**
 * An input of a replay job: reads its partitions (Kinesis shards, or the archive as one
 * partition) in order through PipelineProcessors (one per partition, from `processorFor`), keeping
 * a cursor per partition in the replay table, and resumes from those cursors.
 */
export interface ReplaySourceReader {
  run(processorFor: (partition: string) => PipelineProcessor, signal: AbortSignal): Promise<SourceOutcome>;
  progress(): SourceProgress;
  /** The cursors of every partition (for the job's record count). */
  cursors(): Promise<ReplayCursor[]>;
}

/** The whole 128-bit hash key range (the archive is one partition with every pump). */
export const FULL_HASH_RANGE = { start: 0n, end: 2n ** 128n - 1n } as const;
