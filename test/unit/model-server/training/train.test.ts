import { packArtifact, unpackArtifact } from '../../../../services/model-server/core/artifact';
import { loadModel } from '../../../../services/model-server/core/scorer';
import { decodeDistribution } from '../../../../services/model-server/training/drift';
import { type FeatureSelection, resolveFeatures, trainModel, TrainingError, type TrainOptions } from '../../../../services/model-server/training/train';
import type { ChannelFeatures, FeatureVector } from '../../../../shared/schemas/features';
import { seededNormal } from '../families/synthetic';

function channel(mean: number, std: number): ChannelFeatures {
  return { count: 10, mean, std, min: mean - 2 * std, max: mean + 2 * std, rms: Math.hypot(mean, std), last: mean, slope: 0, kurtosis: 0, crest: 1.1 };
}

/** A 10 s window of a pump with flow and current channels (and vibration when asked). */
function window(i: number, flow: number, current: number, options: { received?: number; vibration?: number } = {}): FeatureVector {
  const channels: Record<string, ChannelFeatures> = { flow_rms: channel(flow, 0.4), current: channel(current, 0.2) };
  if (options.vibration !== undefined) channels.vibration_rms = channel(options.vibration, 0.01);
  const received = options.received ?? 10;
  return {
    pumpId: 'P-1',
    windowStart: 1_700_000_000_000 + i * 10_000,
    windowEnd: 1_700_000_000_000 + (i + 1) * 10_000,
    sampleCount: received,
    channels,
    quality: { expectedSamples: 10, receivedSamples: received, duplicateSamples: 0, lateSamples: 0, maxGapMs: 1000 },
  };
}

function healthy(n: number, seed = 1): FeatureVector[] {
  const g = seededNormal(seed);
  return Array.from({ length: n }, (_, i) => {
    const load = g();
    return window(i, 32 + 0.3 * load + 0.05 * g(), 1 + 0.1 * load + 0.02 * g());
  });
}

const base: TrainOptions = {
  modelId: 'pumps/P-1',
  version: 'v1',
  family: 'pca',
  familyOptions: { varianceExplained: 0.9 },
  features: { stats: ['mean', 'std'] },
  createdAt: 1_700_001_000_000,
};

describe('resolveFeatures', () => {
  const windows = [window(0, 32, 1, { vibration: 2 }), window(1, 32, 1)];
  it.each<[string, FeatureSelection, string[]]>([
    ['explicit names, in the given order', { names: ['flow_rms.mean', 'current.max'] }, ['flow_rms.mean', 'current.max']],
    ['channels × stats', { channels: ['flow_rms'], stats: ['mean', 'slope'] }, ['flow_rms.mean', 'flow_rms.slope']],
    ['channels present in every window, sorted', { stats: ['mean'] }, ['current.mean', 'flow_rms.mean']],
    ['minus excluded channels', { stats: ['mean'], excludeChannels: ['current'] }, ['flow_rms.mean']],
  ])('%s', (_name, selection, expected) => {
    expect(resolveFeatures(selection, windows)).toEqual(expected);
  });
});

describe('trainModel', () => {
  it('builds a complete artifact: params, feature spec, period, metrics and distribution', () => {
    const windows = healthy(60);
    const { artifact, windows: used, skippedWindows } = trainModel(windows, base);
    expect(used).toBe(60);
    expect(skippedWindows).toBe(0);
    expect(artifact.document).toMatchObject({ format: 'pumpwatch-model/1', modelId: 'pumps/P-1', version: 'v1', family: 'pca', createdAt: base.createdAt });
    const spec = artifact.featureSpec;
    expect(spec.features).toEqual(['current.mean', 'current.std', 'flow_rms.mean', 'flow_rms.std']);
    expect(spec.trainingPeriod).toEqual({ from: windows[0]!.windowStart, to: windows[59]!.windowEnd });
    expect(spec.trainingWindows).toBe(60);
    expect(spec.trainingMetrics).toMatchObject({ trainingRows: 60, skippedWindows: 0 });
    expect(spec.trainingMetrics.components).toBeGreaterThanOrEqual(1);
    expect(spec.distribution).toHaveLength(4);
    spec.distribution!.forEach((d, j) => expect(() => decodeDistribution(d, spec.features[j])).not.toThrow());
  });

  it('leaves out windows with too few samples', () => {
    const windows = [...healthy(30), window(30, 10, 5, { received: 3 })];
    const trained = trainModel(windows, { ...base, minQualityRatio: 0.8 });
    expect(trained.windows).toBe(30);
    expect(trained.skippedWindows).toBe(1);
    expect(trained.artifact.featureSpec.trainingMetrics.skippedWindows).toBe(1);
  });

  it.each([
    ['too few windows', healthy(5), base, /at least 10 usable windows, got 5/],
    ['an unknown family', healthy(20), { ...base, family: 'nope' }, /unknown model family "nope"/],
    ['invalid family options', healthy(20), { ...base, familyOptions: { varianceExplained: 7 } }, /invalid pca options: varianceExplained/],
    ['a missing feature', healthy(20), { ...base, features: { names: ['pressure.mean'] } }, /lacks feature pressure\.mean/],
    ['invalid options', healthy(20), { ...base, createdAt: 1.5 }, /invalid training options: createdAt/],
  ])('fails with a TrainingError on %s', (_name, windows, options, message) => {
    expect(() => trainModel(windows, options)).toThrow(TrainingError);
    expect(() => trainModel(windows, options)).toThrow(message);
  });

  it.each(['pca', 'mset', 'zscore'])('gives a %s artifact that packs, loads and scores, with contributions by channel', async (family) => {
    const familyOptions = family === 'zscore' ? { minRelativeStd: 1e-6 } : family === 'pca' ? { varianceExplained: 0.9 } : {};
    const { artifact } = trainModel(healthy(80), { ...base, family, familyOptions });
    const loaded = loadModel(await unpackArtifact(await packArtifact(artifact)));
    // Flow down by 10 % at normal current: the flow channel must carry the score.
    const response = loaded.score({ pumpId: 'P-1', windows: [healthy(1, 9)[0]!, window(99, 28.8, 1)] });
    const [normal, fault] = response.results;
    expect(normal!.anomalous).toBe(false);
    expect(fault!.anomalous).toBe(true);
    expect(fault!.contributions.flow_rms).toBeGreaterThan(0.5);
  });

  it('is deterministic: the same windows pack to the same bytes', async () => {
    const a = await packArtifact(trainModel(healthy(50), { ...base, family: 'mset', familyOptions: {} }).artifact);
    const b = await packArtifact(trainModel(healthy(50), { ...base, family: 'mset', familyOptions: {} }).artifact);
    expect(b.equals(a)).toBe(true);
  });
});
