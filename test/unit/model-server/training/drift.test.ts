import type { FeatureSpec } from '../../../../services/model-server/core/artifact';
import {
  binIndex,
  decodeDistribution,
  DistributionError,
  driftLevel,
  encodeDistribution,
  featureDistribution,
  featureDrift,
  populationStabilityIndex,
} from '../../../../services/model-server/training/drift';
import type { FeatureVector } from '../../../../shared/schemas/features';
import { seededNormal } from '../families/synthetic';

const normals = (n: number, seed: number, shift = 0): number[] => {
  const g = seededNormal(seed);
  return Array.from({ length: n }, () => g() + shift);
};

function vector(flowMean: number, i: number): FeatureVector {
  const ch = { count: 10, mean: flowMean, std: 0.1, min: flowMean, max: flowMean, rms: flowMean, last: flowMean, slope: 0, kurtosis: 0, crest: 1 };
  return {
    pumpId: 'P-1',
    windowStart: i * 10_000,
    windowEnd: (i + 1) * 10_000,
    sampleCount: 10,
    channels: { flow: ch },
    quality: { expectedSamples: 10, receivedSamples: 10, duplicateSamples: 0, lateSamples: 0, maxGapMs: 1000 },
  };
}

describe('featureDistribution', () => {
  it('puts a tenth of the training values in each decile bin', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    const d = featureDistribution(values, 10);
    expect(d.edges).toHaveLength(9);
    expect(d.edges).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90]);
    d.fractions.forEach((f) => expect(f).toBeCloseTo(0.1, 12));
  });

  it('merges tied quantiles and keeps the exact shares (a quantised sensor)', () => {
    const values = [...new Array<number>(80).fill(0.05), ...new Array<number>(20).fill(0.38)];
    const d = featureDistribution(values, 10);
    expect(d.edges).toEqual([0.05, 0.38]);
    expect(d.fractions).toEqual([0.8, 0.2, 0]);
    expect(populationStabilityIndex(d, values)).toBe(0);
  });

  it('round-trips through the feature-spec encoding', () => {
    const d = featureDistribution(normals(500, 1));
    const encoded = encodeDistribution(d);
    expect(encoded).toHaveLength(2 * d.edges.length + 1);
    expect(decodeDistribution(encoded)).toEqual(d);
  });

  it.each([
    ['an even length', [1, 0.5]],
    ['unsorted edges', [2, 1, 0.3, 0.3, 0.4]],
    ['fractions not summing to 1', [1, 0.3, 0.3]],
  ])('rejects %s', (_name, encoded) => {
    expect(() => decodeDistribution(encoded)).toThrow(DistributionError);
  });

  it('bins right-closed: (−∞, e₁], (e₁, e₂], …', () => {
    expect([0, 1, 1.5, 2, 3].map((v) => binIndex([1, 2], v))).toEqual([0, 0, 1, 1, 2]);
  });
});

describe('populationStabilityIndex', () => {
  it('matches a hand computation', () => {
    // Training shares 0.5 / 0.5 around 0; recent 0.25 / 0.75:
    // (0.25−0.5)·ln(0.25/0.5) + (0.75−0.5)·ln(0.75/0.5).
    const psi = populationStabilityIndex({ edges: [0], fractions: [0.5, 0.5] }, [-1, 1, 1, 1]);
    expect(psi).toBeCloseTo(-0.25 * Math.log(0.5) + 0.25 * Math.log(1.5), 12);
  });

  it.each([
    ['no shift', 0, 0, 0.03],
    ['a half-sigma mean shift', 0.5, 0.15, 0.4],
    ['a two-sigma mean shift', 2, 1.5, Number.POSITIVE_INFINITY],
  ])('grows with the shift of a normal distribution: %s', (_name, shift, lo, hi) => {
    const training = featureDistribution(normals(5000, 2));
    const psi = populationStabilityIndex(training, normals(5000, 3, shift));
    expect(psi).toBeGreaterThanOrEqual(lo);
    expect(psi).toBeLessThan(hi);
  });

  it('is 0 for no recent values', () => {
    expect(populationStabilityIndex({ edges: [0], fractions: [0.5, 0.5] }, [])).toBe(0);
  });

  it.each([
    [0.05, 'stable'],
    [0.1, 'moderate'],
    [0.25, 'moderate'],
    [0.3, 'significant'],
  ] as const)('reads %p as %s', (psi, level) => {
    expect(driftLevel(psi)).toBe(level);
  });
});

describe('featureDrift', () => {
  const training = Array.from({ length: 200 }, (_, i) => 32 + 0.1 * Math.sin(i));
  const spec: FeatureSpec = {
    features: ['flow.mean'],
    trainingPeriod: null,
    trainingWindows: training.length,
    trainingMetrics: {},
    distribution: [encodeDistribution(featureDistribution(training))],
  };

  it('reports PSI per feature of recent windows against the training distribution', () => {
    const same = featureDrift(spec, training.slice(0, 100).map(vector));
    expect(same.features[0]).toMatchObject({ feature: 'flow.mean', level: 'stable', windows: 100 });
    const dropped = featureDrift(spec, training.slice(0, 100).map((v, i) => vector(v - 1, i)));
    expect(dropped.level).toBe('significant');
    expect(dropped.maxPsi).toBeGreaterThan(1);
  });

  it('fails without a stored distribution', () => {
    const { distribution: _omit, ...bare } = spec;
    expect(() => featureDrift(bare, [vector(32, 0)])).toThrow(DistributionError);
  });
});
