import { type ClosedWindow, Windower } from '../../../services/consumer/core/windowing';
import { sample, T0 } from '../../support/factories';

const cfg = { sizeMs: 10_000, hopMs: 10_000, outOfOrdernessMs: 2_000, allowedLatenessMs: 3_000, idleTimeoutMs: 15_000 };

function windower(overrides: Partial<typeof cfg> = {}): Windower {
  return new Windower({ window: { ...cfg, ...overrides }, sampleRateHz: () => 1 });
}

function starts(closed: ClosedWindow[]): number[] {
  return closed.map((c) => c.windowStart - T0);
}

describe('Windower', () => {
  it('closes a tumbling window once the watermark passes its end plus lateness', () => {
    const w = windower();
    for (let i = 0; i < 10; i++) w.add('P', sample(i * 1000, { pressure: i }), i, 0);
    w.add('P', sample(14_000), 10, 0); // watermark 12 s, horizon 9 s: window [0,10) still open
    expect(w.poll(0, false)).toEqual([]);
    w.add('P', sample(15_000), 11, 0); // horizon 10 s
    const closed = w.poll(0, false);
    expect(starts(closed)).toEqual([0]);
    expect(closed[0]!.vector.sampleCount).toBe(10);
    expect(closed[0]!.vector.channels.pressure!.mean).toBe(4.5);
    expect(closed[0]!.closedBy).toBe('watermark');
    expect(closed[0]!.firstPosition).toBe(0);
  });

  it('puts out-of-order samples within the bound into the right window', () => {
    const w = windower();
    w.add('P', sample(9_000, { pressure: 9 }), 0, 0);
    w.add('P', sample(11_000, { pressure: 11 }), 1, 0);
    expect(w.add('P', sample(8_000, { pressure: 8 }), 2, 0)).toBe('accepted'); // behind watermark (9 s), within lateness
    w.add('P', sample(30_000), 3, 0);
    const closed = w.poll(0, false);
    expect(starts(closed)).toEqual([0, 10_000]);
    expect(closed[0]!.vector.channels.pressure!.count).toBe(2);
    expect(closed[0]!.vector.channels.pressure!.last).toBe(9);
    expect(closed[0]!.vector.quality.lateSamples).toBe(1);
  });

  it('rejects a sample whose window already closed as late', () => {
    const w = windower();
    w.add('P', sample(1_000), 0, 0);
    w.add('P', sample(20_000), 1, 0);
    expect(starts(w.poll(0, false))).toEqual([0]);
    expect(w.add('P', sample(9_999), 2, 0)).toBe('late');
    // The next window is still open: a sample for it is accepted.
    expect(w.add('P', sample(10_500), 3, 0)).toBe('accepted');
  });

  it.each([
    { name: 'same seq', a: sample(1_000, { pressure: 1 }, 7), b: sample(1_500, { pressure: 2 }, 7) },
    { name: 'same ts', a: sample(1_000, { pressure: 1 }), b: sample(1_000, { pressure: 2 }) },
  ])('counts exact duplicates once ($name)', ({ a, b }) => {
    const w = windower();
    expect(w.add('P', a, 0, 0)).toBe('accepted');
    expect(w.add('P', b, 1, 0)).toBe('duplicate');
    const closed = w.flush();
    expect(closed[0]!.vector.sampleCount).toBe(1);
    expect(closed[0]!.vector.channels.pressure!.mean).toBe(1);
    expect(closed[0]!.vector.quality.duplicateSamples).toBe(1);
  });

  it('closes a silent pump after the idle timeout only when the reader is at the tip', () => {
    const w = windower();
    w.add('P', sample(1_000), 0, 1_000);
    expect(w.poll(16_000, false)).toEqual([]); // behind: wait for more data
    expect(w.poll(15_999, true)).toEqual([]); // not idle long enough
    const closed = w.poll(16_000, true);
    expect(starts(closed)).toEqual([0]);
    expect(closed[0]!.closedBy).toBe('idle');
    // After an idle close the window stays closed: its stragglers are late.
    expect(w.add('P', sample(2_000), 1, 17_000)).toBe('late');
  });

  it('assigns a sample to every hopping window that contains it', () => {
    const w = windower({ sizeMs: 10_000, hopMs: 5_000 });
    for (let i = 0; i < 20; i++) w.add('P', sample(i * 1000, { pressure: i }), i, 0);
    const closed = w.flush();
    expect(starts(closed)).toEqual([-5_000, 0, 5_000, 10_000, 15_000]);
    const byStart = new Map(closed.map((c) => [c.windowStart - T0, c.vector.channels.pressure!]));
    expect(byStart.get(-5_000)!.count).toBe(5);
    expect(byStart.get(0)!.count).toBe(10);
    expect(byStart.get(0)!.mean).toBe(4.5);
    expect(byStart.get(5_000)!.mean).toBe(9.5);
    expect(byStart.get(15_000)!.count).toBe(5);
  });

  it('keeps pumps apart: one pump\'s clock does not make another late', () => {
    const w = windower();
    w.add('FAST', sample(100_000), 0, 0);
    expect(w.add('SLOW', sample(1_000), 1, 0)).toBe('accepted');
  });

  it('reports the first position of the oldest open window for checkpointing', () => {
    const w = windower();
    w.add('A', sample(1_000), 5, 0);
    w.add('B', sample(1_000), 6, 0);
    w.add('A', sample(12_000), 7, 0);
    expect(w.oldestOpenPosition()).toBe(5);
    w.add('A', sample(16_000), 8, 0); // closes A's first window
    w.poll(0, false);
    expect(w.oldestOpenPosition()).toBe(6);
  });

  it('measures data quality: expected vs received samples and gaps', () => {
    const w = windower();
    [0, 1_000, 2_000, 7_000].forEach((t, i) => w.add('P', sample(t), i, 0));
    const v = w.flush()[0]!.vector;
    expect(v.quality).toEqual({ expectedSamples: 10, receivedSamples: 4, duplicateSamples: 0, lateSamples: 0, maxGapMs: 5_000 });
  });

  it('hands open windows to another windower whole', () => {
    const parent = windower();
    parent.add('P', sample(1_000, { pressure: 1 }), 0, 0);
    parent.add('P', sample(2_000, { pressure: 2 }), 1, 0);
    const snapshots = JSON.parse(JSON.stringify(parent.exportPumps()));
    expect(parent.openWindows).toBe(0);
    const child = windower();
    for (const s of snapshots) child.importPump(s, 0);
    child.add('P', sample(3_000, { pressure: 3 }), 0, 0);
    expect(child.add('P', sample(2_000, { pressure: 9 }), 1, 0)).toBe('duplicate');
    const v = child.flush()[0]!.vector;
    expect(v.sampleCount).toBe(3);
    expect(v.channels.pressure!.mean).toBe(2);
  });

  it('closes idle pumps on record arrival times, record by record, whatever the batch boundaries', () => {
    // The same records in one batch or several must close the same windows with the same samples.
    const run = (pollEvery: number) => {
      const w = windower();
      const closed: ClosedWindow[] = [];
      const records: [string, number, number][] = [
        ['A', 1_000, 1_000], // pump A, event time, arrival time
        ['B', 1_000, 2_000],
        ['B', 2_000, 16_500], // arrival 16.5 s: A has been silent 15.5 s > idle 15 s, its window closes first
        ['A', 3_000, 17_500], // so this sample of A's closed window is late
      ];
      const outcomes = records.map(([pump, ts, arrival], i) => {
        const o = w.add(pump, sample(ts), i, arrival);
        if ((i + 1) % pollEvery === 0) closed.push(...w.poll(0, false));
        return o;
      });
      closed.push(...w.poll(0, false));
      return { outcomes, closed: closed.map((c) => [c.pumpId, c.windowStart - T0, c.vector.sampleCount, c.closedBy]) };
    };
    const once = run(100);
    expect(once.outcomes).toEqual(['accepted', 'accepted', 'accepted', 'late']);
    expect(once.closed).toEqual([['A', 0, 1, 'idle']]);
    expect(run(1)).toEqual(once);
    expect(run(2)).toEqual(once);
  });
});
