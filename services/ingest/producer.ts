import { type KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { backoffDelay, sleep } from '../../shared/clock';
import { isRetryableAwsError, PumpwatchError } from '../../shared/errors';
import type { Logger } from '../../shared/logging';
import { LIMITS } from '../../shared/schemas/limits';
import { aggregate } from '../consumer/kinesis/aggregation';

export interface ProducerRecord {
  readonly partitionKey: string;
  readonly data: Uint8Array;
}

export interface ProducerOptions {
  readonly streamName: string;
  /** Attempts per entry; only failed entries are re-sent. */
  readonly maxAttempts?: number;
  /** Batches in flight at once. */
  readonly concurrency?: number;
  /** Pack records of the same partition key into KPL aggregates (fewer, larger Kinesis records). */
  readonly aggregate?: boolean;
}

export interface PutResult {
  readonly sent: number;
  /** Entries re-sent after a per-entry failure or a throttled call. */
  readonly retried: number;
  /** Where each input record landed, in input order (without aggregation). */
  readonly placements: readonly Placement[];
}

/** The shard and sequence number Kinesis gave a record. */
export interface Placement {
  readonly shardId: string;
  readonly sequenceNumber: string;
}

/** Some records could not be written after every attempt. */
export class ProducerError extends PumpwatchError {
  constructor(message: string, readonly failed: number, cause?: unknown) {
    super(message, { code: 'PRODUCER_FAILED', retryable: true, cause });
  }
}

const KEY_BYTES_MAX = 256;

interface Indexed {
  readonly index: number;
  readonly entry: PutRecordsRequestEntry;
}

function entryBytes(e: PutRecordsRequestEntry): number {
  return (e.Data?.byteLength ?? 0) + Buffer.byteLength(e.PartitionKey ?? '');
}

/**
 * Writes records with batched PutRecords (at most 500 entries and 5 MiB per call), retrying only
 * the entries that failed (ProvisionedThroughputExceeded, InternalFailure) with jittered
 * backoff. Optionally aggregates records KPL-style so many small samples cost few records.
 */
export class KinesisProducer {
  private readonly maxAttempts: number;
  private readonly concurrency: number;

  constructor(
    private readonly kinesis: KinesisClient,
    private readonly options: ProducerOptions,
    private readonly log?: Logger,
  ) {
    this.maxAttempts = options.maxAttempts ?? 10;
    this.concurrency = options.concurrency ?? 4;
  }

  /** Sends every record; rejects with ProducerError if some could not be written. */
  async putAll(records: readonly ProducerRecord[], onProgress?: (sent: number) => void): Promise<PutResult> {
    for (const r of records) {
      if (Buffer.byteLength(r.partitionKey) > KEY_BYTES_MAX || r.partitionKey.length === 0) {
        throw new ProducerError(`partition key must be 1-256 bytes: ${JSON.stringify(r.partitionKey.slice(0, 40))}`, records.length);
      }
    }
    const entries = this.options.aggregate ? this.aggregateEntries(records) : records.map((r) => ({ PartitionKey: r.partitionKey, Data: r.data }));
    for (const e of entries) {
      if (entryBytes(e) > LIMITS.maxRecordBytes) throw new ProducerError(`record of ${entryBytes(e)} bytes exceeds the 1 MiB Kinesis limit`, records.length);
    }
    const batches = this.batches(entries);
    const placements: Placement[] = new Array(this.options.aggregate ? 0 : entries.length);
    let sent = 0;
    let retried = 0;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < batches.length) {
        const batch = batches[next++]!;
        const r = await this.sendBatch(batch, (index, placement) => {
          if (!this.options.aggregate) placements[index] = placement;
        });
        sent += batch.length;
        retried += r;
        onProgress?.(sent);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, batches.length) }, worker));
    return { sent, retried, placements };
  }

  private batches(entries: PutRecordsRequestEntry[]): Indexed[][] {
    const out: Indexed[][] = [];
    let current: Indexed[] = [];
    let bytes = 0;
    for (const [index, e] of entries.entries()) {
      const b = entryBytes(e);
      if (current.length > 0 && (current.length >= LIMITS.putRecordsMaxEntries || bytes + b > LIMITS.putRecordsMaxBytes)) {
        out.push(current);
        current = [];
        bytes = 0;
      }
      current.push({ index, entry: e });
      bytes += b;
    }
    if (current.length > 0) out.push(current);
    return out;
  }

  private aggregateEntries(records: readonly ProducerRecord[]): PutRecordsRequestEntry[] {
    const byKey = new Map<string, ProducerRecord[]>();
    for (const r of records) byKey.set(r.partitionKey, [...(byKey.get(r.partitionKey) ?? []), r]);
    const out: PutRecordsRequestEntry[] = [];
    for (const [key, group] of byKey) {
      // Keep aggregates well under the record limit.
      let chunk: ProducerRecord[] = [];
      let bytes = 0;
      const flush = (): void => {
        if (chunk.length === 0) return;
        out.push({ PartitionKey: key, Data: chunk.length === 1 ? chunk[0]!.data : aggregate(chunk) });
        chunk = [];
        bytes = 0;
      };
      for (const r of group) {
        if (bytes + r.data.byteLength > 512 * 1024) flush();
        chunk.push(r);
        bytes += r.data.byteLength + key.length + 8;
      }
      flush();
    }
    return out;
  }

  /** Sends one batch; returns how many entries had to be re-sent. */
  private async sendBatch(batch: Indexed[], placed: (index: number, placement: Placement) => void): Promise<number> {
    let pending = batch;
    let retried = 0;
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      if (attempt > 0) await sleep(backoffDelay(attempt, 50, 2_000));
      let result;
      try {
        result = await this.kinesis.send(new PutRecordsCommand({ StreamName: this.options.streamName, Records: pending.map((p) => p.entry) }));
      } catch (err) {
        if (!isRetryableAwsError(err)) throw new ProducerError(`PutRecords failed: ${(err as Error).message}`, pending.length, err);
        retried += pending.length;
        this.log?.warn({ err: (err as Error).name, attempt }, 'PutRecords throttled; retrying the batch');
        continue;
      }
      const failed: Indexed[] = [];
      pending.forEach((p, i) => {
        const r = result.Records?.[i];
        if (!r || r.ErrorCode) failed.push(p);
        else placed(p.index, { shardId: r.ShardId!, sequenceNumber: r.SequenceNumber! });
      });
      if (failed.length === 0) return retried;
      retried += failed.length;
      pending = failed;
    }
    throw new ProducerError(`${pending.length} records not written after ${this.maxAttempts} attempts`, pending.length);
  }
}

/** Encodes a telemetry record as Kinesis data (JSON, UTF-8). */
export function encodeJson(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}
