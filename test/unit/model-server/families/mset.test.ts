import { getFamily } from '../../../../services/model-server/families/index';
import { msetFamily, MsetParamsSchema, selectMemory } from '../../../../services/model-server/families/mset';
import { pcaFamily } from '../../../../services/model-server/families/pca';
import { CORRELATED_FEATURES, correlatedRows, seededNormal } from './synthetic';

const training = { featureNames: CORRELATED_FEATURES, rows: correlatedRows(300, 11) };
const options = { bandwidth: 1, minRelativeStd: 0, warningThreshold: 4, threshold: 5 };

function argmax(values: readonly number[]): number {
  return values.reduce((best, v, i) => (v > values[best]! ? i : best), 0);
}

/** Healthy states on a curve: y = x², a shape no single ellipsoid describes. */
function curveRows(n: number, seed: number): number[][] {
  const g = seededNormal(seed);
  return Array.from({ length: n }, (_, i) => {
    const x = -2 + (4 * i) / (n - 1);
    return [x + 0.02 * g(), x * x + 0.02 * g()];
  });
}

describe('mset family', () => {
  it('is registered', () => {
    expect(getFamily('mset')).toBe(msetFamily);
  });

  it('scores fresh healthy windows below the warning threshold', () => {
    const { params } = msetFamily.fit(training, options);
    const scores = msetFamily.score(params, correlatedRows(500, 12)).map((s) => s.score);
    const warnings = scores.filter((s) => s >= options.warningThreshold).length;
    expect(warnings / scores.length).toBeLessThan(0.02);
  });

  it.each([
    // In standard units a window must leave the healthy range: c at +8σ (and d with it).
    ['one feature far out of range', [10, 20, 5 + 8, 1 + 8], 'c.mean', { residualUnit: 'standard' }],
    // In leave-one-out residual units a broken relation inside the range shows: b off its 2·a.
    ['a broken correlation (b off its 2·a)', [10.5, 21 + 3, 5, 1.5], 'b.mean', { residualUnit: 'leave-one-out', bandwidth: 0.3 }],
  ])('flags %s and points at the feature', (_name, row, feature, extra) => {
    const { params } = msetFamily.fit(training, { ...options, ...extra });
    const [s] = msetFamily.score(params, [row]);
    expect(s!.score).toBeGreaterThanOrEqual(s!.threshold);
    expect(s!.components.residual!.value).toBe(s!.score);
    expect(CORRELATED_FEATURES[argmax(s!.featureContributions)]).toBe(feature);
  });

  it('scores a correlation break in standard units only by its size', () => {
    // The same broken relation, scored in standard units, is under a standard deviation of b.
    const { params } = msetFamily.fit(training, { ...options, residualUnit: 'standard' });
    expect(msetFamily.score(params, [[10.5, 21 + 3, 5, 1.5]])[0]!.score).toBeLessThan(options.warningThreshold);
  });

  it('flags a window off a curved healthy manifold that PCA accepts', () => {
    const data = { featureNames: ['x.mean', 'y.mean'], rows: curveRows(200, 5) };
    // (1, 3): inside the range of both features and inside the training ellipse, but off the
    // curve y = x² (at x = 1 a healthy y is 1).
    const offCurve = [1, 3];
    const mset = msetFamily.fit(data, { ...options, bandwidth: 0.1, residualUnit: 'leave-one-out' });
    const pca = pcaFamily.fit(data, { components: 2, alpha: 0.01 });
    expect(msetFamily.score(mset.params, [offCurve])[0]!.score).toBeGreaterThanOrEqual(options.threshold);
    expect(pcaFamily.score(pca.params, [offCurve])[0]!.score).toBeLessThan(1);
    // And the curve itself stays quiet.
    const onCurve = msetFamily.score(mset.params, curveRows(50, 6)).map((s) => s.score);
    expect(Math.max(...onCurve)).toBeLessThan(options.warningThreshold);
  });

  it('stays finite for a window far from every memory vector', () => {
    const { params } = msetFamily.fit(training, options);
    const [s] = msetFamily.score(params, [[1e6, -1e6, 1e6, -1e6]]);
    expect(Number.isFinite(s!.score)).toBe(true);
    expect(s!.featureContributions.every(Number.isFinite)).toBe(true);
  });

  it('floors the scale at a fraction of the level', () => {
    // Flow-like feature: level 32, spread 0.01. With a 0.5 % floor the scale is 0.16, so a drop of
    // 0.5 is about 3 units (no alarm) instead of 50 standard deviations.
    const g = seededNormal(3);
    const rows = Array.from({ length: 100 }, () => [32 + 0.01 * g()]);
    const data = { featureNames: ['flow.mean'], rows };
    const floored = msetFamily.fit(data, { ...options, minRelativeStd: 0.005 });
    const raw = msetFamily.fit(data, { ...options, minRelativeStd: 0 });
    expect(floored.metrics.flooredFeatures).toBe(1);
    expect(floored.params.scales[0]).toBeCloseTo(0.16, 3);
    expect(msetFamily.score(floored.params, [[31.5]])[0]!.score).toBeLessThan(options.warningThreshold);
    expect(msetFamily.score(raw.params, [[31.5]])[0]!.score).toBeGreaterThan(options.threshold);
  });

  it.each([
    ['max', Math.max(1, 2, 3)],
    ['rms', Math.sqrt((1 + 4 + 9) / 3)],
  ] as const)('aggregates residuals by %s', (aggregate, expected) => {
    // A single memory vector at the origin: the estimate is always the origin.
    const data = { featureNames: ['a.mean', 'b.mean', 'c.mean'], rows: [[0, 0, 0], [0, 0, 0]] };
    const { params } = msetFamily.fit(data, { ...options, aggregate, minRelativeStd: 0 });
    const unit = { ...params, scales: [1, 1, 1], means: [0, 0, 0] };
    expect(msetFamily.score(unit, [[1, -2, 3]])[0]!.score).toBeCloseTo(expected, 12);
  });

  it('is deterministic', () => {
    const a = msetFamily.fit(training, options);
    const b = msetFamily.fit({ featureNames: CORRELATED_FEATURES, rows: correlatedRows(300, 11) }, options);
    expect(JSON.stringify(b.params)).toBe(JSON.stringify(a.params));
    expect(b.metrics).toEqual(a.metrics);
  });

  it('rejects a warning threshold above the alarm threshold, in options and in params', () => {
    expect(() => msetFamily.fit(training, { warningThreshold: 6, threshold: 5 })).toThrow();
    const { params } = msetFamily.fit(training, options);
    expect(MsetParamsSchema.safeParse({ ...params, warningThreshold: 9 }).success).toBe(false);
    expect(MsetParamsSchema.safeParse({ ...params, memory: [[1, 2]] }).success).toBe(false);
  });
});

describe('selectMemory', () => {
  it('keeps every row when they fit', () => {
    expect(selectMemory([[1], [2], [3]], 5)).toEqual([0, 1, 2]);
  });

  it('keeps each feature’s extremes and spreads the rest over time', () => {
    const rows = Array.from({ length: 100 }, (_, i) => [Math.sin(i / 7), i === 42 ? 99 : i % 10]);
    const picked = selectMemory(rows, 10);
    expect(picked).toHaveLength(10);
    expect(picked).toContain(42);
    const values0 = rows.map((r) => r[0]!);
    expect(picked).toContain(values0.indexOf(Math.min(...values0)));
    expect(picked).toContain(values0.indexOf(Math.max(...values0)));
    expect([...picked].sort((a, b) => a - b)).toEqual(picked);
    expect(selectMemory(rows, 10)).toEqual(picked);
  });
});
