import { ChannelAccumulator } from '../../../services/consumer/core/features';

function naive(values: number[], times: number[]) {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = values.reduce((a, v) => a + (v - mean) ** 2, 0) / n;
  const m4 = values.reduce((a, v) => a + (v - mean) ** 4, 0) / n;
  const tm = times.reduce((a, b) => a + b, 0) / n;
  const cov = times.reduce((a, t, i) => a + (t - tm) * (values[i]! - mean), 0);
  const vt = times.reduce((a, t) => a + (t - tm) ** 2, 0);
  const rms = Math.sqrt(values.reduce((a, v) => a + v * v, 0) / n);
  return { mean, std: Math.sqrt(variance), kurtosis: variance > 0 ? m4 / variance ** 2 - 3 : 0, slope: vt > 0 ? cov / vt : 0, rms };
}

describe('ChannelAccumulator', () => {
  it.each([
    { name: 'constant', values: [2, 2, 2, 2] },
    { name: 'ramp', values: [1, 2, 3, 4, 5] },
    { name: 'spike', values: [0, 0, 0, 10, 0, 0] },
    { name: 'negative', values: [-3, -1, -2, -5] },
    { name: 'single', values: [7] },
  ])('matches two-pass results for $name', ({ values }) => {
    // prepare
    const acc = new ChannelAccumulator();
    const times = values.map((_, i) => i);
    // act
    values.forEach((v, i) => acc.add(times[i]!, v, i * 1000));
    const r = acc.result();
    // assess
    const ref = naive(values, times);
    expect(r.count).toBe(values.length);
    expect(r.mean).toBeCloseTo(ref.mean, 10);
    expect(r.std).toBeCloseTo(ref.std, 10);
    expect(r.rms).toBeCloseTo(ref.rms, 10);
    expect(r.kurtosis).toBeCloseTo(ref.kurtosis, 8);
    expect(r.slope).toBeCloseTo(ref.slope, 10);
    expect(r.min).toBe(Math.min(...values));
    expect(r.max).toBe(Math.max(...values));
    expect(r.last).toBe(values[values.length - 1]);
  });

  it('computes hand-worked values for a ramp', () => {
    const acc = new ChannelAccumulator();
    [1, 2, 3].forEach((v, i) => acc.add(i * 2, v, i)); // t = 0, 2, 4 s
    const r = acc.result();
    expect(r.mean).toBe(2);
    expect(r.std).toBeCloseTo(Math.sqrt(2 / 3), 12);
    expect(r.slope).toBeCloseTo(0.5, 12); // 1 unit per 2 s
    expect(r.rms).toBeCloseTo(Math.sqrt(14 / 3), 12);
    expect(r.crest).toBeCloseTo(3 / Math.sqrt(14 / 3), 12);
    expect(r.kurtosis).toBeCloseTo(-1.5, 12);
  });

  it('stays accurate with a large offset (no catastrophic cancellation)', () => {
    const acc = new ChannelAccumulator();
    const base = 1e9;
    [base + 4, base + 7, base + 13, base + 16].forEach((v, i) => acc.add(i, v, i));
    expect(acc.result().std).toBeCloseTo(Math.sqrt(22.5), 6);
  });

  it('takes last by event time, not arrival order', () => {
    const acc = new ChannelAccumulator();
    acc.add(2, 30, 2000);
    acc.add(1, 20, 1000);
    expect(acc.result().last).toBe(30);
  });

  it('round-trips through its serialized state', () => {
    const acc = new ChannelAccumulator();
    [3, 1, 4, 1, 5].forEach((v, i) => acc.add(i, v, i));
    const copy = ChannelAccumulator.fromJSON(JSON.parse(JSON.stringify(acc.toJSON())));
    copy.add(5, 9, 5);
    acc.add(5, 9, 5);
    expect(copy.result()).toEqual(acc.result());
  });
});
