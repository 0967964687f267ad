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
    expect(keys.every((k) => /^raw\/year=2026\/month=01\/day=09\/hour=0[78]\/pumpwatch-archiver-1-2026-01-09-0[78]-\d{2}-\d{2}-shardId-000000000001-0+\d+-000000\.gz$/.test(k))).toBe(true);
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
    // act: a new owner re-reads from the checkpoint, in other batch sizes (another time-based cut)
    const second = fakeCheckpointer();
    const p2 = new ArchiveProcessor({ bucket: 'b', bufferMs: 0, bufferBytes: 1_024 }, { s3: s3.client, clock, log: pino({ level: 'silent' }) });
    await p2.initialize({ shardId: 's', checkpoint, parentShardIds: [], hashKeyRange: { start: 0n, end: 1n } });
    const rest = input.filter((r) => Number(r.sequenceNumber) > Number(checkpoint.sequenceNumber));
    for (let i = 0; i < rest.length; i += 3) await p2.processRecords({ records: rest.slice(i, i + 3), millisBehindLatest: 0, checkpointer: second.cp });
    await p2.shutdownRequested({ checkpointer: second.cp });
    // assess
    const lines = s3.lines().sort();
    expect(lines).toEqual(input.map((r) => new TextDecoder().decode(r.data)).sort());
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
