import { compareArchivePositions, splitLines } from '../../../services/replay/archive-source';
import { newCursor, ReplayCheckpointer } from '../../../services/replay/cursor-checkpointer';
import { parseModelChoice, ReplayRouter, snapshotApproved } from '../../../services/replay/routing';
import { buildSpec, defaultJobId, sameSpec } from '../../../services/replay/spec';
import { compareExtended } from '../../../services/consumer/leases/lease';
import type { ConsumerRecord } from '../../../services/consumer/processor';
import { archiveHourPrefixes, archiveObjectKey, archiveObjectTime } from '../../../shared/archive-layout';
import { ManualClock } from '../../../shared/clock';
import type { PumpRecord } from '../../../shared/schemas/pump';
import { InMemoryModelRegistry, pumpModelGroup, typeModelGroup } from '../../../shared/stores/model-registry';
import type { ReplayCursor, ReplayStore } from '../../../shared/stores/replay-store';

const H = 3_600_000;
const T = Date.UTC(2026, 0, 9, 7, 30, 0);

describe('archive layout', () => {
  it('lists the arrival hours around a range', () => {
    expect(archiveHourPrefixes(T, T + 10 * 60_000, 20 * 60_000)).toEqual([
      'raw/year=2026/month=01/day=09/hour=07/',
      'raw/year=2026/month=01/day=09/hour=08/',
    ]);
    expect(archiveHourPrefixes(Date.UTC(2026, 0, 1, 0, 10), Date.UTC(2026, 0, 1, 0, 20), 20 * 60_000)[0]).toBe('raw/year=2025/month=12/day=31/hour=23/');
  });

  it.each([
    ['a Firehose object', 'raw/year=2026/month=01/day=09/hour=07/pumpwatch-prod-raw-archive-1-2026-01-09-07-31-05-0b9f7c1e-3d2a-4f0e-9b1a-2c3d4e5f6a7b.gz', Date.UTC(2026, 0, 9, 7, 31, 5)],
    ['an archiver object', archiveObjectKey({ arrivalMs: T + 5_250, shardId: 'shardId-000000000003', sequenceNumber: '4959', subSequenceNumber: 2 }, { sequenceNumber: '4990', subSequenceNumber: 0 }), T + 5_000],
    ['an object named otherwise', 'raw/year=2026/month=01/day=09/hour=07/part-0001.gz', Date.UTC(2026, 0, 9, 7)],
    ['a key outside the layout', 'elsewhere/x.gz', undefined],
  ])('reads the arrival time of %s from its key', (_what, key, expected) => {
    expect(archiveObjectTime(key)).toBe(expected);
  });

  it('names archiver objects so they sort in arrival, then shard, then sequence order', () => {
    const key = (arrivalMs: number, shardId: string, seq: string) => archiveObjectKey({ arrivalMs, shardId, sequenceNumber: seq, subSequenceNumber: 0 }, { sequenceNumber: `${seq}9`, subSequenceNumber: 0 });
    const keys = [key(T, 'shardId-000000000001', '900'), key(T, 'shardId-000000000001', '1000'), key(T + 1_000, 'shardId-000000000000', '5'), key(T + H, 'shardId-000000000000', '6')];
    expect([...keys].sort()).toEqual(keys);
  });

  it('splits an object into its lines; a final newline ends the last one', () => {
    const lines = (s: string) => splitLines(new TextEncoder().encode(s)).map((l) => new TextDecoder().decode(l));
    expect(lines('{"a":1}\n{"b":2}\n')).toEqual(['{"a":1}', '{"b":2}']);
    expect(lines('{"a":1}\n{"b":2}')).toEqual(['{"a":1}', '{"b":2}']);
    expect(lines('x\n\ny\n')).toEqual(['x', '', 'y']);
    expect(lines('')).toEqual([]);
  });

  it('orders archive positions by key, then line', () => {
    const p = (k: string, l: number) => ({ sequenceNumber: k, subSequenceNumber: l });
    expect([p('raw/b', 0), p('raw/a', 9), p('raw/a', 2)].sort(compareArchivePositions)).toEqual([p('raw/a', 2), p('raw/a', 9), p('raw/b', 0)]);
  });
});

describe('replay spec', () => {
  const window = { hopMs: 10_000 };
  const now = T + 24 * H;

  it('widens the range to whole window hops and sorts the pumps', () => {
    const spec = buildSpec({ fromMs: T + 3_000, toMs: T + 61_000, pumps: ['P-2', 'P-1', 'P-2'], source: 'archive' }, window, now);
    expect(spec).toEqual({ fromMs: T, toMs: T + 70_000, pumps: ['P-1', 'P-2'], source: 'archive', model: 'approved', events: 'none' });
  });

  it.each([
    ['an empty range', { fromMs: T, toMs: T }, /before/],
    ['a range in the future', { fromMs: now + H, toMs: now + 2 * H }, /future/],
    ['an unknown model choice', { fromMs: T, toMs: T + H, model: 'latest' }, /--model/],
  ])('rejects %s', (_what, r, message) => {
    expect(() => buildSpec({ source: 'kinesis', ...r }, window, now)).toThrow(message);
  });

  it('derives the same job id from the same inputs, another from others', () => {
    const a = buildSpec({ fromMs: T, toMs: T + H, source: 'kinesis' }, window, now);
    const b = buildSpec({ fromMs: T + 1, toMs: T + H - 1, source: 'kinesis' }, window, now);
    const c = buildSpec({ fromMs: T, toMs: T + H, source: 'kinesis', events: 'tagged' }, window, now);
    expect(sameSpec(a, b)).toBe(true);
    expect(defaultJobId(a)).toBe(defaultJobId(b));
    expect(defaultJobId(a)).not.toBe(defaultJobId(c));
    expect(defaultJobId(a)).toMatch(/^replay-20260109-[0-9a-f]{12}$/);
  });

  it.each([
    ['approved', { kind: 'approved' }],
    ['3', { kind: 'version', version: 3 }],
    ['v3', { kind: 'version', version: 3 }],
    ['type-centrifugal:1', { kind: 'model', modelGroup: 'type-centrifugal', version: 1 }],
    ['pump-P-0001:v2', { kind: 'model', modelGroup: 'pump-P-0001', version: 2 }],
  ])('reads --model %s', (value, expected) => {
    expect(parseModelChoice(value)).toEqual(expected);
  });

  it.each([['0'], ['latest'], ['centrifugal:1'], ['type-x:']])('rejects --model %s', (value) => {
    expect(() => parseModelChoice(value)).toThrow(/--model/);
  });
});

describe('replay routing', () => {
  const pump = (pumpId: string, pumpType = 'centrifugal'): PumpRecord => ({ pumpId, tenantId: 't', siteId: 's', pumpType, sampleRateHz: 1, enrolledAt: 0 });

  async function registry() {
    const r = new InMemoryModelRegistry();
    const add = async (group: string, status: 'Approved' | 'Rejected' | 'PendingManualApproval') => {
      const v = await r.reserve({ modelGroup: group, modelId: `${group}-m`, family: 'pca' }, 0);
      return r.setStatus(group, v.version, status, 0);
    };
    await add(typeModelGroup('centrifugal'), 'Approved'); // v1
    await add(typeModelGroup('centrifugal'), 'Approved'); // v2
    await add(pumpModelGroup('P-OWN'), 'Approved'); // v1
    await add(pumpModelGroup('P-OWN'), 'Rejected'); // v2
    return r;
  }

  it('approved: what live routing picks, frozen when the job was created', async () => {
    const r = await registry();
    const snapshot = await snapshotApproved(r);
    const router = new ReplayRouter({ kind: 'approved' }, snapshot, r);
    await r.setStatus(typeModelGroup('centrifugal'), 2, 'Rejected', 1); // a rollback after the job started
    expect((await router.route(pump('P-1')))?.target).toBe('types/centrifugal/v2/model.tar.gz');
    expect((await router.route(pump('P-OWN')))?.target).toBe('pumps/P-OWN/v1/model.tar.gz');
    expect(await router.route(pump('P-9', 'booster'))).toBeNull();
  });

  it('a version number: that version of the group serving each pump (rejected ones too)', async () => {
    const r = await registry();
    const router = new ReplayRouter({ kind: 'version', version: 2 }, await snapshotApproved(r), r);
    expect((await router.route(pump('P-1')))?.target).toBe('types/centrifugal/v2/model.tar.gz');
    expect((await router.route(pump('P-OWN')))?.target).toBe('pumps/P-OWN/v2/model.tar.gz');
    const v3 = new ReplayRouter({ kind: 'version', version: 3 }, await snapshotApproved(r), r);
    await expect(v3.route(pump('P-1'))).rejects.toThrow(/no model version 3 in type-centrifugal/);
  });
});

describe('ReplayCheckpointer', () => {
  function store() {
    const writes: ReplayCursor[] = [];
    return { writes, store: { putCursor: async (c: ReplayCursor) => void writes.push(c) } as unknown as ReplayStore };
  }
  const rec = (n: number): ConsumerRecord => ({ sequenceNumber: String(n), subSequenceNumber: 0, partitionKey: 'p', data: new Uint8Array(), aggregated: false });
  const pos = (n: number) => ({ sequenceNumber: String(n), subSequenceNumber: 0 });

  it('writes the cursor forward only, counting the records up to it once', async () => {
    // prepare
    const { writes, store: s } = store();
    const clock = new ManualClock(0);
    const cp = new ReplayCheckpointer(s, newCursor('job', 'shard-1', 'job#cursor#shard-1', 0), clock, { everyMarks: 2, everyMs: 1_000 }, compareExtended);
    cp.track([rec(10), rec(11), rec(12), rec(13)]);
    // act
    cp.mark(pos(11));
    await cp.flushIfDue();
    cp.mark(pos(10)); // backwards: ignored
    cp.mark(pos(12));
    await cp.flushIfDue();
    cp.track([rec(14)]);
    cp.mark(pos(14));
    await cp.finish('done');
    // assess
    expect(writes.map((w) => [w.position?.sequenceNumber, w.records, w.status])).toEqual([
      ['12', 3, 'reading'],
      ['14', 5, 'reading'],
      ['14', 5, 'done'],
    ]);
  });
});
