import { aggregate, deaggregate, hashKeyOf, isAggregated } from '../../../services/consumer/kinesis/aggregation';
import { expandRecords } from '../../../services/consumer/shard-consumer';

describe('KPL aggregation', () => {
  it('round-trips user records, with and without explicit hash keys', () => {
    const records = [
      { partitionKey: 'P-1', data: new TextEncoder().encode('{"a":1}') },
      { partitionKey: 'P-2', data: new TextEncoder().encode('{"b":2}'), explicitHashKey: '12345' },
      { partitionKey: 'P-1', data: new Uint8Array(0) },
    ];
    const packed = aggregate(records);
    expect(isAggregated(packed)).toBe(true);
    const out = deaggregate(packed);
    expect(out.map((r) => ({ ...r, data: Buffer.from(r.data).toString() }))).toEqual(records.map((r) => ({ ...r, data: Buffer.from(r.data).toString() })));
  });

  it('does not mistake plain data or a corrupted aggregate for one', () => {
    expect(isAggregated(new TextEncoder().encode('{"pumpId":"P-1"}'))).toBe(false);
    const packed = aggregate([{ partitionKey: 'P-1', data: new Uint8Array([1, 2, 3]) }]);
    packed[packed.length - 1] ^= 0xff; // MD5 no longer matches
    expect(isAggregated(packed)).toBe(false);
  });

  it('hashes partition keys as Kinesis does (MD5 as a 128-bit integer)', () => {
    // md5("") = d41d8cd98f00b204e9800998ecf8427e
    expect(hashKeyOf('')).toBe(BigInt('0xd41d8cd98f00b204e9800998ecf8427e'));
  });
});

describe('expandRecords', () => {
  const enc = (s: string) => new TextEncoder().encode(s);
  const full = { start: 0n, end: 2n ** 128n - 1n };

  it('de-aggregates, numbering sub-records, and passes plain records through', () => {
    const agg = aggregate([
      { partitionKey: 'a', data: enc('1') },
      { partitionKey: 'b', data: enc('2') },
    ]);
    const out = expandRecords(
      [
        { SequenceNumber: '100', PartitionKey: 'a', Data: agg },
        { SequenceNumber: '101', PartitionKey: 'c', Data: enc('3') },
      ],
      full,
      undefined,
    );
    expect(out.map((r) => [r.sequenceNumber, r.subSequenceNumber, r.partitionKey, r.aggregated])).toEqual([
      ['100', 0, 'a', true],
      ['100', 1, 'b', true],
      ['101', 0, 'c', false],
    ]);
  });

  it('drops sub-records whose hash key is outside the shard range', () => {
    const h = hashKeyOf('inside');
    const agg = aggregate([
      { partitionKey: 'inside', data: enc('1') },
      { partitionKey: 'outside', data: enc('2'), explicitHashKey: String(h + 10n ** 30n) },
    ]);
    const out = expandRecords([{ SequenceNumber: '5', PartitionKey: 'inside', Data: agg }], { start: h, end: h }, undefined);
    expect(out.map((r) => r.partitionKey)).toEqual(['inside']);
  });

  it('skips what the checkpoint already covers, down to the sub-record', () => {
    const agg = aggregate([0, 1, 2].map((i) => ({ partitionKey: 'a', data: enc(String(i)) })));
    const out = expandRecords([{ SequenceNumber: '7', PartitionKey: 'a', Data: agg }, { SequenceNumber: '8', PartitionKey: 'a', Data: enc('x') }], full, {
      sequenceNumber: '7',
      subSequenceNumber: 1,
    });
    expect(out.map((r) => `${r.sequenceNumber}.${r.subSequenceNumber}`)).toEqual(['7.2', '8.0']);
  });
});
