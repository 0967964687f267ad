import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { archiveObjectKey, hourStart } from '../../shared/archive-layout';
import { backoffDelay, type Clock, sleep } from '../../shared/clock';
import { isRetryableAwsError } from '../../shared/errors';
import type { Logger } from '../../shared/logging';
import type { ExtendedSequenceNumber } from '../consumer/leases/lease';
import { LeaseLostError } from '../consumer/leases/lease-coordinator';
import type { InitializationInput, ProcessRecordsInput, RecordProcessorCheckpointer, ShardRecordProcessor, ShutdownInput } from '../consumer/processor';

const gzipAsync = promisify(gzip);

export interface ArchiveProcessorOptions {
  readonly bucket: string;
  /** An object is written this long (processing time) after its first record was buffered... */
  readonly bufferMs: number;
  /** ...or once it holds this many bytes (uncompressed), whichever comes first. */
  readonly bufferBytes: number;
}

export interface ArchiveProcessorDeps {
  readonly s3: S3Client;
  readonly clock: Clock;
  readonly log: Logger;
  /** Whether this worker still holds the shard's lease (checked right before each write). */
  readonly leaseValid?: () => boolean;
}

/** Counters for metrics and tests. */
export interface ArchiveStats {
  records: number;
  objects: number;
  bytes: number;
}

interface PendingObject {
  readonly key: string;
  readonly hour: number;
  readonly startedAt: number;
  readonly lines: Uint8Array[];
  bytes: number;
  last: ExtendedSequenceNumber;
}

/**
 * The raw archiver's record processor: buffers a shard's records and writes them to the bucket as
 * gzip JSON-lines objects in the Firehose layout (shared/archive-layout.ts), one record's data per
 * line, partitioned by UTC arrival hour (an object never spans two hours). The checkpoint moves only
 * after the object is written.
 *
 * No duplicates after a crash: an object's key is a function of its first record (arrival second,
 * shard, sequence number), and after a restart the shard is re-read from the checkpoint, i.e. from
 * that same first record; so the re-written object replaces the one written before the crash
 * instead of adding a second copy (it may end at another record; the next object starts right
 * after it). A worker whose lease is no longer valid does not write (a new owner re-writes).
 */
export class ArchiveProcessor implements ShardRecordProcessor {
  private shardId = '';
  private buffer: PendingObject | undefined;
  readonly stats: ArchiveStats = { records: 0, objects: 0, bytes: 0 };

  constructor(
    private readonly options: ArchiveProcessorOptions,
    private readonly deps: ArchiveProcessorDeps,
  ) {}

  async initialize(input: InitializationInput): Promise<void> {
    this.shardId = input.shardId;
    this.buffer = undefined;
  }

  async processRecords(input: ProcessRecordsInput): Promise<void> {
    for (const r of input.records) {
      const arrivalMs = r.approximateArrivalTimestamp?.getTime() ?? this.deps.clock.now();
      const hour = hourStart(arrivalMs);
      if (this.buffer && this.buffer.hour !== hour) await this.write(input.checkpointer);
      const position = { sequenceNumber: r.sequenceNumber, subSequenceNumber: r.subSequenceNumber };
      this.buffer ??= {
        key: archiveObjectKey({ arrivalMs, shardId: this.shardId, ...position }),
        hour,
        startedAt: this.deps.clock.now(),
        lines: [],
        bytes: 0,
        last: position,
      };
      this.buffer.lines.push(r.data);
      this.buffer.bytes += r.data.byteLength + 1;
      this.buffer.last = position;
      this.stats.records += 1;
      if (this.buffer.bytes >= this.options.bufferBytes) await this.write(input.checkpointer);
    }
    if (this.buffer && this.deps.clock.now() - this.buffer.startedAt >= this.options.bufferMs) await this.write(input.checkpointer);
  }

  /** Writes the buffered object, then checkpoints its last record. */
  private async write(checkpointer: RecordProcessorCheckpointer): Promise<void> {
    const b = this.buffer;
    if (!b) return;
    const parts: Uint8Array[] = [];
    const newline = new Uint8Array([0x0a]);
    for (const line of b.lines) parts.push(line, newline);
    const body = await gzipAsync(Buffer.concat(parts));
    for (let attempt = 1; ; attempt++) {
      if (this.deps.leaseValid && !this.deps.leaseValid()) throw new LeaseLostError(this.shardId);
      try {
        await this.deps.s3.send(new PutObjectCommand({ Bucket: this.options.bucket, Key: b.key, Body: body, ContentType: 'application/gzip' }));
        break;
      } catch (err) {
        if (!isRetryableAwsError(err) || attempt >= 8) throw err;
        this.deps.log.warn({ shardId: this.shardId, key: b.key, attempt, err: (err as Error).name }, 'archive write failed; retrying');
        await sleep(backoffDelay(attempt, 200, 5_000));
      }
    }
    this.buffer = undefined;
    this.stats.objects += 1;
    this.stats.bytes += body.byteLength;
    this.deps.log.debug({ shardId: this.shardId, key: b.key, records: b.lines.length, bytes: body.byteLength }, 'archive object written');
    checkpointer.mark(b.last);
    await checkpointer.flush();
  }

  async leaseLost(): Promise<void> {
    // Not written, not checkpointed: the next owner re-reads these records and writes the object.
    this.buffer = undefined;
  }

  async shardEnded(input: ShutdownInput): Promise<void> {
    await this.write(input.checkpointer);
    await input.checkpointer.checkpointShardEnd();
  }

  async shutdownRequested(input: ShutdownInput): Promise<void> {
    await this.write(input.checkpointer);
  }
}
