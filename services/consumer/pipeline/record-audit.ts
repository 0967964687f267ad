import { appendFileSync } from 'node:fs';

/** One processed record, for the audit trail. */
export interface AuditEntry {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly subSequenceNumber: number;
  readonly partitionKey: string;
  /** The pump's sample counter of the first sample, when the record decoded. */
  readonly firstSampleSeq?: number;
  readonly outcome: 'windowed' | 'quarantined';
}

/**
 * An optional trail of which worker processed which record when (JSON lines). Used by the
 * fault-tolerance tests to check that no record is missed and no shard has two active owners,
 * and useful when debugging a deployment. Off unless `PUMPWATCH_RECORD_AUDIT_FILE` is set.
 */
export interface RecordAudit {
  add(entry: AuditEntry, atMs: number): void;
  /** Writes buffered entries at the end of a batch, stamped with when the batch finished. */
  flush(endMs: number): void;
}

export class FileRecordAudit implements RecordAudit {
  private buffer: string[] = [];

  constructor(
    private readonly path: string,
    private readonly workerId: string,
  ) {}

  add(e: AuditEntry, atMs: number): void {
    this.buffer.push(
      JSON.stringify({ w: this.workerId, s: e.shardId, q: e.sequenceNumber, u: e.subSequenceNumber, k: e.partitionKey, f: e.firstSampleSeq, o: e.outcome, t: atMs }),
    );
  }

  flush(endMs: number): void {
    if (this.buffer.length === 0) return;
    // One append per batch: lines of a batch stay together even with several workers writing.
    // `e` (batch end) with `t` (record start) bounds when the worker was processing the shard.
    appendFileSync(this.path, `${this.buffer.map((l) => `${l.slice(0, -1)},"e":${endMs}}`).join('\n')}\n`);
    this.buffer = [];
  }
}
