import { batchEntries } from '../../../services/consumer/pipeline/outbox-relay';

const entry = (detailBytes: number) => ({ entry: { Source: 'pumpwatch', DetailType: 'Pump Condition Changed', Detail: 'x'.repeat(detailBytes) } });

describe('batchEntries', () => {
  it.each([
    { name: 'at most 10 entries per call', sizes: Array(23).fill(100), batches: [10, 10, 3] },
    { name: 'at most 256 KiB per call', sizes: [100_000, 100_000, 100_000, 10], batches: [2, 2] },
    { name: 'a single large entry still goes alone', sizes: [250_000, 250_000], batches: [1, 1] },
    { name: 'nothing to send', sizes: [], batches: [] },
  ])('$name', ({ sizes, batches }) => {
    expect(batchEntries(sizes.map(entry)).map((b) => b.length)).toEqual(batches);
  });
});
