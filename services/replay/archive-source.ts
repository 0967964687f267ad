import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { archiveHourPrefixes, archiveObjectTime } from '../../shared/archive-layout';
import { backoffDelay, type Clock, sleep } from '../../shared/clock';
import { isRetryableAwsError } from '../../shared/errors';
import type { Logger } from '../../shared/logging';
import { cursorKey, type ReplayCursor, type ReplayStore } from '../../shared/stores/replay-store';
import type { CheckpointPolicy } from '../consumer/checkpointer';
import type { ExtendedSequenceNumber } from '../consumer/leases/lease';
import type { PipelineProcessor } from '../consumer/pipeline/pipeline-processor';
import type { ConsumerRecord } from '../consumer/processor';
import { newCursor, ReplayCheckpointer } from './cursor-checkpointer';
import { FULL_HASH_RANGE, type ReplaySourceReader, type SourceOutcome, type SourceProgress } from './sources';

const gunzipAsync = promisify(gunzip);

/** The archive is read as one partition. */
export const ARCHIVE_PARTITION = 'archive';

export interface ArchiveSourceOptions {
  readonly bucket: string;
  readonly jobId: string;
  /** Event-time range of the job; the arrival hours around it are listed. */
  readonly fromMs: number;
  readonly toMs: number;
  /** How far arrival hours are listed beyond the range on each side. */
  readonly marginMs: number;
  /** Records handed to the processor per call (windows of a pump close, and are scored, together). */
  readonly batchRecords: number;
  /** Objects fetched ahead of the one being processed. */
  readonly prefetch: number;
  readonly checkpoint: CheckpointPolicy;
  readonly drainTimeoutMs: number;
}

export interface ArchiveSourceDeps {
  readonly s3: S3Client;
  readonly store: ReplayStore;
  readonly clock: Clock;
  readonly log: Logger;
}

interface ArchiveObject {
  readonly key: string;
  readonly arrivalMs: number | undefined;
}

/** Position order in the archive: object key (listing order), then line. */
export function compareArchivePositions(a: ExtendedSequenceNumber, b: ExtendedSequenceNumber): number {
  if (a.sequenceNumber !== b.sequenceNumber) return a.sequenceNumber < b.sequenceNumber ? -1 : 1;
  return a.subSequenceNumber - b.subSequenceNumber;
}

/** Splits an object's body into its lines (one record's data each; a final newline ends the last). */
export function splitLines(body: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    if (body[i] === 0x0a) {
      out.push(body.subarray(start, i));
      start = i + 1;
    }
  }
  if (start < body.length) out.push(body.subarray(start));
  return out;
}

/**
 * Replays a time range from the raw archive (the Firehose layout, or the local archiver's): lists
 * the arrival hours around the range, reads the objects in key order (within an hour, arrival
 * order) and hands their lines to one PipelineProcessor as records positioned at (object key,
 * line). Each record's arrival time is its object's (from the key). Objects are fetched ahead while
 * earlier ones are processed.
 *
 * The cursor is (key, line) of the newest record whose effects are durable; a resumed job skips
 * objects and lines up to it. Objects appearing later in hours the job has already passed are not
 * read (archive hours are complete once delivered: Firehose writes each object once).
 */
export class ArchiveReplaySource implements ReplaySourceReader {
  private total = 0;
  private done = 0;

  constructor(
    private readonly options: ArchiveSourceOptions,
    private readonly deps: ArchiveSourceDeps,
  ) {}

  progress(): SourceProgress {
    return { unit: 'objects', done: this.done, total: this.total };
  }

  async cursors(): Promise<ReplayCursor[]> {
    const c = await this.deps.store.getCursor(this.options.jobId, ARCHIVE_PARTITION);
    return c ? [c] : [];
  }

  /** Every object of the hours around the range, in key order. */
  async list(): Promise<ArchiveObject[]> {
    const { bucket, fromMs, toMs, marginMs } = this.options;
    const out: ArchiveObject[] = [];
    for (const prefix of archiveHourPrefixes(fromMs, toMs, marginMs)) {
      let token: string | undefined;
      do {
        const r = await this.retrying('list', () =>
          this.deps.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) })),
        );
        for (const o of r.Contents ?? []) {
          if (!o.Key) continue;
          out.push({ key: o.Key, arrivalMs: archiveObjectTime(o.Key) ?? o.LastModified?.getTime() });
        }
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token);
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  private async retrying<T>(what: string, call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (err) {
        if (!isRetryableAwsError(err) || attempt >= 8) throw err;
        this.deps.log.warn({ err: (err as Error).name, attempt, what }, 'archive read failed; retrying');
        await sleep(backoffDelay(attempt, 200, 5_000));
      }
    }
  }

  private async fetch(key: string): Promise<Uint8Array[]> {
    const body = await this.retrying('get', async () => {
      const r = await this.deps.s3.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: key }));
      return r.Body!.transformToByteArray();
    });
    const isGzip = body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b;
    return splitLines(isGzip ? new Uint8Array(await gunzipAsync(body)) : body);
  }

  async run(processorFor: (partition: string) => PipelineProcessor, signal: AbortSignal): Promise<SourceOutcome> {
    const { jobId } = this.options;
    const cursor = (await this.deps.store.getCursor(jobId, ARCHIVE_PARTITION)) ?? newCursor(jobId, ARCHIVE_PARTITION, cursorKey(jobId, ARCHIVE_PARTITION), this.deps.clock.now());
    const objects = await this.list();
    this.total = objects.length;
    if (cursor.status !== 'reading') {
      this.done = this.total;
      return { stopped: false, pendingPumps: 0 };
    }
    const processor = processorFor(ARCHIVE_PARTITION);
    const checkpointer = new ReplayCheckpointer(this.deps.store, cursor, this.deps.clock, this.options.checkpoint, compareArchivePositions);
    const resumeAt = cursor.position;
    await processor.initialize({
      shardId: ARCHIVE_PARTITION,
      checkpoint: resumeAt ?? { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 },
      parentShardIds: [],
      hashKeyRange: FULL_HASH_RANGE,
    });
    const first = resumeAt ? objects.findIndex((o) => o.key >= resumeAt.sequenceNumber) : 0;
    const startIndex = first < 0 ? objects.length : first;
    this.done = startIndex;
    const fetched = new Map<number, Promise<Uint8Array[]>>();
    const prefetch = (from: number): void => {
      for (let i = from; i < Math.min(objects.length, from + 1 + this.options.prefetch); i++) {
        if (!fetched.has(i)) {
          const p = this.fetch(objects[i]!.key);
          p.catch(() => undefined); // surfaced when awaited
          fetched.set(i, p);
        }
      }
    };
    let batch: ConsumerRecord[] = [];
    const processBatch = async (): Promise<void> => {
      checkpointer.track(batch);
      await processor.processRecords({ records: batch, millisBehindLatest: 0, checkpointer });
      await checkpointer.flushIfDue();
      batch = [];
    };
    for (let i = startIndex; i < objects.length; i++) {
      if (signal.aborted) {
        await processor.shutdownRequested({ checkpointer });
        return { stopped: true, pendingPumps: 0 };
      }
      prefetch(i);
      const { key, arrivalMs } = objects[i]!;
      const lines = await fetched.get(i)!;
      fetched.delete(i);
      const arrival = arrivalMs === undefined ? undefined : new Date(arrivalMs);
      lines.forEach((data, line) => {
        if (resumeAt && key === resumeAt.sequenceNumber && line <= resumeAt.subSequenceNumber) return;
        batch.push({ sequenceNumber: key, subSequenceNumber: line, partitionKey: '', data, aggregated: false, ...(arrival ? { approximateArrivalTimestamp: arrival } : {}) });
      });
      if (batch.length >= this.options.batchRecords) await processBatch();
      this.done = i + 1;
    }
    if (batch.length > 0) await processBatch();
    if (signal.aborted) {
      await processor.shutdownRequested({ checkpointer });
      return { stopped: true, pendingPumps: 0 };
    }
    const pending = await processor.endOfInput({ checkpointer, drainTimeoutMs: this.options.drainTimeoutMs, signal });
    await checkpointer.finish('done');
    this.deps.log.info({ objects: objects.length, records: checkpointer.current.records, pendingPumps: pending }, 'archive replay done');
    return { stopped: false, pendingPumps: pending };
  }
}
