import type { S3Client } from '@aws-sdk/client-s3';
import pino from 'pino';
import { gunzipSync } from 'node:zlib';
import { ArchiveProcessor } from '../../../services/archiver/archive-processor';
import type { ExtendedSequenceNumber } from '../../../services/consumer/leases/lease';
import type { ConsumerRecord, RecordProcessorCheckpointer } from '../../../services/consumer/processor';
import { archiveHourPrefix } from '../../../shared/archive-layout';
import { ManualClock } from '../../../shared/clock';

const T0 = Date.UTC(2026, 0, 9, 7, 59, 50);

/** An S3 bucket in memory: the last body written per key. */
function fakeS3() {
  const objects = new Map<string, Uint8Array>();
  const client = {
    async send(cmd: { input: { Key: string; Body: Uint8Array } }) {
      objects.set(cmd.input.Key, cmd.input.Body);
      return {};
    },
  } as unknown as S3Client;
  const lines = () => [...objects.values()].flatMap((b) => gunzipSync(b).toString('utf8').split('\n').filter(Boolean));
  return { client, objects, lines };
}

/** A checkpointer that can "crash" (throw) on a given flush, like a process killed right after a write. */
function fakeCheckpointer(crashOnFlush?: number) {
  let flushes = 0;
  let marked: ExtendedSequenceNumber | undefined;
  const state = { written: undefined as ExtendedSequenceNumber | undefined, ended: false };
  const cp: RecordProcessorCheckpointer = {
    mark: (p) => {
      marked = p;
    },
    flush: async () => {
      flushes += 1;
      if (flushes === crashOnFlush) throw new Error('crash');
      state.written = marked;
    },
    checkpointShardEnd: async () => {
      state.ended = true;
    },
  };
  return { cp, state };
}

/** Records 1 s apart from T0 (so they cross an hour boundary after 10 s), ~60 bytes each. */
function records(n: number): ConsumerRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    sequenceNumber: String(1_000 + i),
    subSequenceNumber: 0,
    partitionKey: 'P-1',
    data: new TextEncoder().encode(JSON.stringify({ pumpId: 'P-1', ts: T0 + i * 1000, seq: i, metrics: { pressure: 5 } })),
    approximateArrivalTimestamp: new Date(T0 + i * 1000),
    aggregated: false,
  }));
}

function processor(s3: S3Client, clock: ManualClock) {
  return new ArchiveProcessor({ bucket: 'b', bufferMs: 60_000, bufferBytes: 1_024 }, { s3, clock, log: pino({ level: 'silent' }) });
}

describe('ArchiveProcessor', () => {
  it('writes gzip JSON lines in the Firehose layout, by arrival hour, checkpointing after each object', async () => {
    // prepare
    const s3 = fakeS3();
    const clock = new ManualClock(T0);
    const { cp, state } = fakeCheckpointer();
    const p = processor(s3.client, clock);
    await p.initialize({ shardId: 'shardId-000000000001', checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 }, parentShardIds: [], hashKeyRange: { start: 0n, end: 1n } });
    // act
    const input = records(30);
    await p.processRecords({ records: input, millisBehindLatest: 0, checkpointer: cp });
    await p.shutdownRequested({ checkpointer: cp });
    // assess: every record once, in order, and objects never span an hour
    expect(s3.lines()).toEqual(input.map((r) => new TextDecoder().decode(r.data)));
    const keys = [...s3.objects.keys()];
    expect(keys.length).toBeGreaterThan(2);
    const hourOf = (k: string) => k.slice(0, archiveHourPrefix(0).length);
    expect(new Set(keys.map(hourOf))).toEqual(new Set([archiveHourPrefix(T0), archiveHourPrefix(T0 + 3_600_000)]));
    expect(keys.every((k) => /^raw\/year=2026\/month=01\/day=09\/hour=0[78]\/pumpwatch-archiver-1-2026-01-09-0[78]-\d{2}-\d{2}-shardId-000000000001-0+\d+-000000-0+\d+-000000\.gz$/.test(k))).toBe(true);
    expect([...keys].sort()).toEqual(keys); // written in key order
    expect(state.written).toEqual({ sequenceNumber: '1029', subSequenceNumber: 0 });
  });

  it('after a crash between a write and its checkpoint, the re-read overwrites that object: no duplicates, no loss', async () => {
    // prepare: the first run crashes right after writing its second object
    const s3 = fakeS3();
    const clock = new ManualClock(T0);
    const first = fakeCheckpointer(2);
    const input = records(40);
    const p1 = processor(s3.client, clock);
    await p1.initialize({ shardId: 's', checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 }, parentShardIds: [], hashKeyRange: { start: 0n, end: 1n } });
    await expect(p1.processRecords({ records: input, millisBehindLatest: 0, checkpointer: first.cp })).rejects.toThrow('crash');
    const written = s3.lines().length;
    const checkpoint = first.state.written!;
    expect(written).toBeGreaterThan(Number(checkpoint.sequenceNumber) - 999); // the uncheckpointed object exists
    // act: a new owner re-reads from the checkpoint, in other batch sizes
    const second = fakeCheckpointer();
    const p2 = processor(s3.client, clock);
    await p2.initialize({ shardId: 's', checkpoint, parentShardIds: [], hashKeyRange: { start: 0n, end: 1n } });
    const rest = input.filter((r) => Number(r.sequenceNumber) > Number(checkpoint.sequenceNumber));
    for (let i = 0; i < rest.length; i += 3) await p2.processRecords({ records: rest.slice(i, i + 3), millisBehindLatest: 0, checkpointer: second.cp });
    await p2.shutdownRequested({ checkpointer: second.cp });
    // assess: every record exactly once
    expect(s3.lines().sort()).toEqual(input.map((r) => new TextDecoder().decode(r.data)).sort());
  });

  it('cuts objects by the records (arrival span, hour, size), whatever the batches they are read in', async () => {
    // 90 records 1 s apart: spans of 20 s cut them, the hour boundary too, and the size limit
    const input = records(90);
    const run = async (batch: number, millisBehindLatest: number) => {
      const s3 = fakeS3();
      const clock = new ManualClock(T0);
      const p = new ArchiveProcessor({ bucket: 'b', bufferMs: 20_000, bufferBytes: 1_200 }, { s3: s3.client, clock, log: pino({ level: 'silent' }) });
      await p.initialize({ shardId: 's', checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 }, parentShardIds: [], hashKeyRange: { start: 0n, end: 1n } });
      const { cp } = fakeCheckpointer();
      for (let i = 0; i < input.length; i += batch) {
        // the reader keeps up: each batch is read 0.5 s after its last record arrived
        clock.set(input[Math.min(i + batch, input.length) - 1]!.approximateArrivalTimestamp!.getTime() + 500);
        await p.processRecords({ records: input.slice(i, i + batch), millisBehindLatest, checkpointer: cp });
      }
      return s3.objects;
    };
    const reference = await run(90, 5_000);
    expect(reference.size).toBeGreaterThan(4);
    for (const [batch, behind] of [[1, 0], [4, 0], [7, 5_000], [90, 0]] as const) {
      const objects = await run(batch, behind);
      // the last, still open object may differ (nothing has closed it yet); all before it are equal
      const keys = [...reference.keys()].sort().slice(0, -1);
      for (const k of keys) expect(gunzipSync(objects.get(k)!).toString()).toBe(gunzipSync(reference.get(k)!).toString());
    }
  });

  it('at a quiet tip, writes an object once the clock has passed its time span (plus the clock skew allowance)', async () => {
    const s3 = fakeS3();
    const clock = new ManualClock(T0);
    const { cp, state } = fakeCheckpointer();
    const p = new ArchiveProcessor({ bucket: 'b', bufferMs: 10_000, bufferBytes: 1_000_000, clockSkewMs: 1_000 }, { s3: s3.client, clock, log: pino({ level: 'silent' }) });
    await p.initialize({ shardId: 's', checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 }, parentShardIds: [], hashKeyRange: { start: 0n, end: 1n } });
    await p.processRecords({ records: records(3), millisBehindLatest: 0, readAtMs: T0 + 3_000, checkpointer: cp });
    await p.processRecords({ records: [], millisBehindLatest: 2_000, readAtMs: T0 + 60_000, checkpointer: cp }); // behind: more may come
    await p.processRecords({ records: [], millisBehindLatest: 0, readAtMs: T0 + 10_999, checkpointer: cp }); // within the skew allowance
    expect(s3.objects.size).toBe(0);
    await p.processRecords({ records: [], millisBehindLatest: 0, readAtMs: T0 + 11_000, checkpointer: cp });
    expect(s3.objects.size).toBe(1);
    expect(s3.lines()).toHaveLength(3);
    expect(state.written).toEqual({ sequenceNumber: '1002', subSequenceNumber: 0 });
  });

  it('a write still in flight when the lease moved cannot replace the new owner\'s object with fewer records', async () => {
    // prepare: an S3 whose first PUT hangs until released (the old owner's slow write)
    const objects = new Map<string, Uint8Array>();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let puts = 0;
    const s3 = {
      async send(cmd: { input: { Key: string; Body: Uint8Array } }) {
        puts += 1;
        if (puts === 1) await held;
        objects.set(cmd.input.Key, cmd.input.Body);
        return {};
      },
    } as unknown as S3Client;
    const input = records(4);
    // the 4th record arrived within the span but became readable late (beyond the skew allowance)
    const opts = { bucket: 'b', bufferMs: 10_000, bufferBytes: 1_000_000, clockSkewMs: 1_000 };
    const clock = new ManualClock(T0);
    let valid = true;
    const old = new ArchiveProcessor(opts, { s3, clock, log: pino({ level: 'silent' }), leaseValid: () => valid });
    await old.initialize({ shardId: 's', checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 }, parentShardIds: [], hashKeyRange: { start: 0n, end: 1n } });
    const oldCp = fakeCheckpointer();
    const oldWrite = old.processRecords({ records: input.slice(0, 3), millisBehindLatest: 0, readAtMs: T0 + 12_000, checkpointer: oldCp.cp });
    while (puts === 0) await new Promise((r) => setTimeout(r, 1)); // gzip runs on the thread pool
    expect(puts).toBe(1); // in flight
    // act: the lease expires; the new owner re-reads from the checkpoint and sees all four records
    valid = false;
    const owner = new ArchiveProcessor(opts, { s3, clock, log: pino({ level: 'silent' }) });
    await owner.initialize({ shardId: 's', checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 }, parentShardIds: [], hashKeyRange: { start: 0n, end: 1n } });
    await owner.processRecords({ records: input, millisBehindLatest: 0, readAtMs: T0 + 20_000, checkpointer: fakeCheckpointer().cp });
    release();
    await oldWrite;
    // assess: two objects under two keys; every record is there (three of them twice), none lost
    expect(objects.size).toBe(2);
    const all = [...objects.values()].flatMap((b) => gunzipSync(b).toString('utf8').split('\n').filter(Boolean));
    expect(new Set(all)).toEqual(new Set(input.map((r) => new TextDecoder().decode(r.data))));
    expect(all).toHaveLength(7);
  });

  it('does not write once its lease is no longer valid', async () => {
    const s3 = fakeS3();
    const { cp } = fakeCheckpointer();
    const p = new ArchiveProcessor({ bucket: 'b', bufferMs: 0, bufferBytes: 1_024 }, { s3: s3.client, clock: new ManualClock(T0), log: pino({ level: 'silent' }), leaseValid: () => false });
    await p.initialize({ shardId: 's', checkpoint: { sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 }, parentShardIds: [], hashKeyRange: { start: 0n, end: 1n } });
    await expect(p.processRecords({ records: records(3), millisBehindLatest: 0, checkpointer: cp })).rejects.toThrow(/lease/);
    expect(s3.objects.size).toBe(0);
  });
});
