import { chiSquareQuantile } from '../../../../services/model-server/families/distributions';
import { getFamily } from '../../../../services/model-server/families/index';
import { pcaFamily, PcaParamsSchema, qControlLimit, t2ControlLimit } from '../../../../services/model-server/families/pca';
import { CORRELATED_FEATURES, correlatedRows, seededNormal } from './synthetic';

const training = { featureNames: CORRELATED_FEATURES, rows: correlatedRows(500, 1) };

function argmax(values: readonly number[]): number {
  return values.reduce((best, v, i) => (v > values[best]! ? i : best), 0);
}

describe('PCA control limits', () => {
  it.each([
    // k(n−1)(n+1)/(n(n−k)) · F₀.₉₅(2, 8), with F(p; 2, d) = (d/2)((1−p)^(−2/d) − 1).
    ['F, k=2, n=10, α=0.05', t2ControlLimit('f', 2, 10, 0.05), ((2 * 9 * 11) / (10 * 8)) * 4 * (Math.pow(0.05, -0.25) - 1), 10],
    ['χ², k=2, α=0.05', t2ControlLimit('chi2', 2, 10, 0.05), -2 * Math.log(0.05), 10],
    ['F falls back to χ² when n ≤ k', t2ControlLimit('f', 3, 3, 0.01), chiSquareQuantile(0.99, 3), 10],
    // Jackson–Mudholkar by hand for residual eigenvalues 1, 0.5, 0.25 at α = 0.05.
    ['Q, JM by hand', qControlLimit([1, 0.5, 0.25], 0.05), 5.0235466653265615, 8],
  ])('%s', (_name, actual, expected, digits) => {
    expect(actual).toBeCloseTo(expected, digits);
  });

  it('F limit approaches the χ² limit as n grows', () => {
    const chi = t2ControlLimit('chi2', 3, 0, 0.01);
    expect(t2ControlLimit('f', 3, 20, 0.01)).toBeGreaterThan(chi * 1.3);
    expect(t2ControlLimit('f', 3, 100_000, 0.01) / chi).toBeCloseTo(1, 3);
  });

  it('Q limit of m equal residual eigenvalues is close to the exact λ·χ²(m)', () => {
    expect(qControlLimit([2, 2, 2, 2, 2], 0.05) / (2 * chiSquareQuantile(0.95, 5))).toBeCloseTo(1, 2);
  });

  it('Q limit without residual variance is a small positive floor', () => {
    const q = qControlLimit([0, 0], 0.01);
    expect(q).toBeGreaterThan(0);
    expect(q).toBeLessThan(1e-6);
  });
});

describe('pca family', () => {
  it('is registered', () => {
    expect(getFamily('pca')).toBe(pcaFamily);
  });

  it('keeps the components that reach the explained variance', () => {
    const { metrics, params } = pcaFamily.fit(training, { varianceExplained: 0.95 });
    // Four features driven by two latent factors: two components carry almost all variance.
    expect(metrics.components).toBe(2);
    expect(metrics.explainedVariance).toBeGreaterThan(0.99);
    expect(params.loadings).toHaveLength(2);
    expect(PcaParamsSchema.safeParse(params).success).toBe(true);
  });

  it('takes a fixed component count when asked', () => {
    expect(pcaFamily.fit(training, { components: 1 }).metrics.components).toBe(1);
    expect(pcaFamily.fit(training, { components: 9 }).metrics.components).toBe(4);
  });

  it('catches a broken correlation with Q and points at the feature', () => {
    const { params } = pcaFamily.fit(training, { varianceExplained: 0.95, alpha: 0.01 });
    // A typical window with b moved by 1 (b should be 2a): small in range, off the model plane.
    const row = [10.5, 21 + 1, 5, 1.5];
    const [s] = pcaFamily.score(params, [row]);
    expect(s!.components.q!.value / s!.components.q!.limit).toBeGreaterThan(1);
    expect(s!.components.t2!.value / s!.components.t2!.limit).toBeLessThan(1);
    expect(s!.score).toBeGreaterThanOrEqual(s!.threshold);
    expect(CORRELATED_FEATURES[argmax(s!.featureContributions)]).toBe('b.mean');
  });

  it('catches a large deviation inside the model with T²', () => {
    const { params } = pcaFamily.fit(training, { varianceExplained: 0.95, alpha: 0.01 });
    // Latent factor 1 at 6σ, all correlations kept: a, b and d move together.
    const row = [10 + 6, 20 + 12, 5, 1 + 6];
    const [s] = pcaFamily.score(params, [row]);
    expect(s!.components.t2!.value / s!.components.t2!.limit).toBeGreaterThan(1);
    expect(s!.components.q!.value / s!.components.q!.limit).toBeLessThan(1);
    expect(s!.score).toBeGreaterThanOrEqual(1);
    expect(['a.mean', 'b.mean', 'd.mean']).toContain(CORRELATED_FEATURES[argmax(s!.featureContributions)]);
  });

  it('decomposes the combined index exactly: contributions sum to T²/T²lim + Q/Qlim', () => {
    const { params } = pcaFamily.fit(training, { varianceExplained: 0.95 });
    for (const row of correlatedRows(20, 99)) {
      const [s] = pcaFamily.score(params, [row]);
      const sum = s!.featureContributions.reduce((a, b) => a + b, 0);
      expect(sum).toBeCloseTo(s!.components.t2!.value / s!.components.t2!.limit + s!.components.q!.value / s!.components.q!.limit, 9);
      expect(s!.featureContributions.every((c) => c >= 0)).toBe(true);
    }
  });

  it.each([
    ['F / Jackson–Mudholkar', { t2Limit: 'f', qLimit: 'jackson-mudholkar' }],
    ['empirical', { t2Limit: 'empirical', qLimit: 'empirical' }],
  ])('%s limits hold their false-alarm rate on fresh healthy data', (_name, limits) => {
    // Three features of rank-3 data (each with its own noise) so both T² and Q are random.
    const g = seededNormal(7);
    const make = (n: number): number[][] =>
      Array.from({ length: n }, () => {
        const f = g();
        return [f + 0.3 * g(), f + 0.3 * g(), f + 0.3 * g()];
      });
    const fitted = pcaFamily.fit({ featureNames: ['x.mean', 'y.mean', 'z.mean'], rows: make(2000) }, { components: 1, alpha: 0.05, ...limits });
    const scores = pcaFamily.score(fitted.params, make(4000));
    const t2Rate = scores.filter((s) => s.components.t2!.value > s.components.t2!.limit).length / scores.length;
    const qRate = scores.filter((s) => s.components.q!.value > s.components.q!.limit).length / scores.length;
    expect(t2Rate).toBeGreaterThan(0.03);
    expect(t2Rate).toBeLessThan(0.07);
    expect(qRate).toBeGreaterThan(0.03);
    expect(qRate).toBeLessThan(0.07);
  });

  it('guards a constant feature and still flags a change of it', () => {
    const rows = correlatedRows(200, 3).map((r) => [...r, 42]);
    const data = { featureNames: [...CORRELATED_FEATURES, 'e.mean'], rows };
    const { params, metrics } = pcaFamily.fit(data, { varianceExplained: 0.95 });
    expect(metrics.flooredFeatures).toBe(1);
    const [ok, changed] = pcaFamily.score(params, [rows[0]!, [...rows[0]!.slice(0, 4), 43]]);
    expect(Number.isFinite(ok!.score)).toBe(true);
    expect(changed!.score).toBeGreaterThan(1);
    expect(argmax(changed!.featureContributions)).toBe(4);
  });

  it('is deterministic', () => {
    const a = pcaFamily.fit(training, { varianceExplained: 0.9 });
    const b = pcaFamily.fit({ featureNames: CORRELATED_FEATURES, rows: correlatedRows(500, 1) }, { varianceExplained: 0.9 });
    expect(JSON.stringify(b.params)).toBe(JSON.stringify(a.params));
  });

  it.each([
    ['too few rows', { featureNames: ['a.mean'], rows: [[1], [2]] }, {}],
    ['no variance', { featureNames: ['a.mean'], rows: [[1], [1], [1]] }, { minRelativeStd: 0 }],
    ['bad options', training, { varianceExplained: 2 }],
  ])('rejects %s', (_name, data, options) => {
    expect(() => pcaFamily.fit(data, options)).toThrow();
  });

  it('rejects parameters whose shapes disagree', () => {
    const { params } = pcaFamily.fit(training);
    expect(PcaParamsSchema.safeParse({ ...params, scales: params.scales.slice(1) }).success).toBe(false);
    expect(PcaParamsSchema.safeParse({ ...params, eigenvalues: [...params.eigenvalues, 1] }).success).toBe(false);
  });
});
