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
  /** An object holds the records that arrived within this long of its first record's arrival... */
  readonly bufferMs: number;
  /** ...up to this many bytes (uncompressed), whichever limit comes first. */
  readonly bufferBytes: number;
  /**
   * How far this worker's clock may be off the stream's arrival timestamps (default 1 s): at the tip,
   * an object is written once the local clock is this much past the end of its time span.
   */
  readonly clockSkewMs?: number;
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
  readonly shardId: string;
  readonly firstArrivalMs: number;
  readonly hour: number;
  readonly first: ExtendedSequenceNumber;
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
 * Where an object ends is decided by the records alone, not by when or in which batches they were
 * read: it ends before the first record that arrived `bufferMs` or more after its first record, or
 * in another hour, or once it holds `bufferBytes`. (The one exception is the tip of a quiet shard:
 * the object is written once the clock has passed its time span, when no record can join it any
 * more, short of a clock skew beyond `clockSkewMs`.) Since a restart re-reads the shard from the
 * checkpoint, i.e. from an object's first record, a re-read writes the same objects again; and the
 * key names the first and the last record, so a re-written key always has the same content:
 * - after a crash between a write and its checkpoint, the re-write replaces that object (no
 *   duplicate);
 * - a worker whose lease expired while its write was in flight cannot replace the new owner's
 *   object with a shorter one (no loss); at worst, at a quiet tip, both objects stay and some
 *   records are archived twice, which replays absorb (duplicates count once).
 * A worker whose lease is no longer valid does not start a write (the new owner writes).
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
      // Kinesis stamps every record; the clock is only a fallback for hand-made input.
      const arrivalMs = r.approximateArrivalTimestamp?.getTime() ?? this.deps.clock.now();
      const b = this.buffer;
      if (b && (hourStart(arrivalMs) !== b.hour || arrivalMs >= b.firstArrivalMs + this.options.bufferMs)) await this.write(input.checkpointer);
      const position = { sequenceNumber: r.sequenceNumber, subSequenceNumber: r.subSequenceNumber };
      this.buffer ??= { shardId: this.shardId, firstArrivalMs: arrivalMs, hour: hourStart(arrivalMs), first: position, lines: [], bytes: 0, last: position };
      this.buffer.lines.push(r.data);
      this.buffer.bytes += r.data.byteLength + 1;
      this.buffer.last = position;
      this.stats.records += 1;
      if (this.buffer.bytes >= this.options.bufferBytes) await this.write(input.checkpointer);
    }
    // At the tip, every record that arrived before the read was sent has been read: once that is
    // past the object's time span, nothing more can join it.
    if (this.buffer && input.millisBehindLatest === 0) {
      const readAtMs = input.readAtMs ?? this.deps.clock.now();
      const spanEnd = Math.min(this.buffer.firstArrivalMs + this.options.bufferMs, this.buffer.hour + 3_600_000);
      if (readAtMs - (this.options.clockSkewMs ?? 1_000) >= spanEnd) await this.write(input.checkpointer);
    }
  }

  /** Writes the buffered object, then checkpoints its last record. */
  private async write(checkpointer: RecordProcessorCheckpointer): Promise<void> {
    const b = this.buffer;
    if (!b) return;
    const key = archiveObjectKey({ arrivalMs: b.firstArrivalMs, shardId: b.shardId, ...b.first }, b.last);
    const parts: Uint8Array[] = [];
    const newline = new Uint8Array([0x0a]);
    for (const line of b.lines) parts.push(line, newline);
    const body = await gzipAsync(Buffer.concat(parts));
    for (let attempt = 1; ; attempt++) {
      if (this.deps.leaseValid && !this.deps.leaseValid()) throw new LeaseLostError(this.shardId);
      try {
        await this.deps.s3.send(new PutObjectCommand({ Bucket: this.options.bucket, Key: key, Body: body, ContentType: 'application/gzip' }));
        break;
      } catch (err) {
        if (!isRetryableAwsError(err) || attempt >= 8) throw err;
        this.deps.log.warn({ shardId: this.shardId, key, attempt, err: (err as Error).name }, 'archive write failed; retrying');
        await sleep(backoffDelay(attempt, 200, 5_000));
      }
    }
    this.buffer = undefined;
    this.stats.objects += 1;
    this.stats.bytes += body.byteLength;
    this.deps.log.debug({ shardId: this.shardId, key, records: b.lines.length, bytes: body.byteLength }, 'archive object written');
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
