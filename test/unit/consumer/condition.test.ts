import {
  type ConditionMemory,
  evaluateSilence,
  evaluateWindow,
  hysteresisLevel,
  INITIAL_MEMORY,
} from '../../../services/consumer/core/condition';
import { policy, vector } from '../../support/factories';

const score = (s: number) => ({ score: s, threshold: 1, warningThreshold: 0.8 });

function run(scores: (number | null)[], p = policy({ k: 2, n: 3 })) {
  let memory: ConditionMemory = INITIAL_MEMORY;
  const states: string[] = [];
  const anomalies: number[] = [];
  scores.forEach((s, i) => {
    const ev = evaluateWindow(memory, { vector: vector(i * 10_000), score: s === null ? null : score(s) }, p);
    memory = ev.memory;
    states.push(memory.state);
    if (ev.anomalyStarted) anomalies.push(i);
  });
  return { states, anomalies, memory };
}

describe('evaluateWindow', () => {
  it.each([
    { name: 'no model keeps LEARNING', scores: [null, null], states: ['LEARNING', 'LEARNING'] },
    { name: 'first model score leaves LEARNING', scores: [null, 0.1], states: ['LEARNING', 'NORMAL'] },
    { name: 'one noisy window does not raise', scores: [0.1, 5, 0.1, 0.1], states: ['NORMAL', 'NORMAL', 'NORMAL', 'NORMAL'] },
    { name: 'two of three raise ALARM', scores: [0.1, 5, 5], states: ['NORMAL', 'NORMAL', 'ALARM'] },
    { name: 'warning band', scores: [0.9, 0.9], states: ['NORMAL', 'WARNING'] },
    {
      name: 'one quiet window does not clear',
      scores: [5, 5, 0.1, 5, 0.1, 0.1],
      states: ['NORMAL', 'ALARM', 'ALARM', 'ALARM', 'NORMAL', 'NORMAL'],
    },
    { name: 'alarm steps down through warning', scores: [5, 5, 0.9, 0.9], states: ['NORMAL', 'ALARM', 'ALARM', 'WARNING'] },
  ])('$name', ({ scores, states }) => {
    expect(run(scores).states).toEqual(states);
  });

  it('starts one anomaly episode per excursion, not one per window', () => {
    const { anomalies } = run([5, 5, 5, 5, 0.1, 0.1, 0.1, 5, 5]);
    expect(anomalies).toEqual([1, 8]);
  });

  it('smooths the score before comparing it with the threshold', () => {
    const p = policy({ k: 1, n: 1, smoothing: 0.5 });
    expect(run([0, 1.5], p).states).toEqual(['NORMAL', 'NORMAL']); // smoothed 0.75
    expect(run([0, 1.5, 1.5], p).states).toEqual(['NORMAL', 'NORMAL', 'ALARM']); // smoothed 1.125
  });

  it('never goes back to an older window', () => {
    const p = policy();
    const first = evaluateWindow(INITIAL_MEMORY, { vector: vector(20_000), score: score(0.1) }, p);
    const older = evaluateWindow(first.memory, { vector: vector(10_000), score: score(9) }, p);
    expect(older.applied).toBe(false);
    expect(older.memory).toBe(first.memory);
  });

  it('raises from vibration zones even without a model', () => {
    const p = policy({ k: 1, n: 1, zones: { channel: 'vibration_rms', ab: 1.4, bc: 2.8, cd: 7.1 } });
    const ch = { count: 10, mean: 8, std: 0, min: 8, max: 8, rms: 8, last: 8, slope: 0, kurtosis: 0, crest: 1 };
    const ev = evaluateWindow(INITIAL_MEMORY, { vector: vector(0, { channels: { vibration_rms: ch } }), score: null }, p);
    expect(ev.memory.state).toBe('ALARM');
    expect(ev.changed).toEqual({ from: 'LEARNING', to: 'ALARM' });
  });

  it('flags degraded data quality on the edge only', () => {
    const p = policy({ minQualityRatio: 0.5 });
    const poor = { expectedSamples: 10, receivedSamples: 3, duplicateSamples: 0, lateSamples: 0, maxGapMs: 7000 };
    const a = evaluateWindow(INITIAL_MEMORY, { vector: vector(0, { quality: poor }), score: score(0) }, p);
    const b = evaluateWindow(a.memory, { vector: vector(10_000, { quality: poor }), score: score(0) }, p);
    expect([a.qualityDegraded, b.qualityDegraded]).toEqual([true, false]);
  });
});

describe('hysteresisLevel', () => {
  it.each([
    { recent: [], k: 1, level: 'NORMAL' },
    { recent: ['ALARM', 'WARNING', 'NORMAL'], k: 2, level: 'WARNING' },
    { recent: ['ALARM', 'ALARM', 'NORMAL'], k: 2, level: 'ALARM' },
    { recent: ['ALARM', 'NORMAL', 'NORMAL'], k: 2, level: 'NORMAL' },
  ] as const)('$recent with k=$k → $level', ({ recent, k, level }) => {
    expect(hysteresisLevel(recent, k)).toBe(level);
  });
});

describe('evaluateSilence', () => {
  it('moves a silent pump to NO_DATA once', () => {
    const p = policy({ noDataAfterMs: 60_000 });
    const { memory } = run([0.1]);
    expect(evaluateSilence(memory, 10_000 + 59_999, p)).toBeUndefined();
    const ev = evaluateSilence(memory, 10_000 + 60_000, p)!;
    expect(ev.changed).toEqual({ from: 'NORMAL', to: 'NO_DATA' });
    expect(evaluateSilence(ev.memory, 10_000 + 120_000, p)).toBeUndefined();
  });
});
