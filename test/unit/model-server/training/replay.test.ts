import type { DetectionPreset } from '../../../../services/model-server/training/presets';
import { evaluateSkabSeries, replayWindows, windowSamples } from '../../../../services/model-server/training/replay';
import { parseSkabCsv, skabMetrics } from '../../../../services/model-server/training/skab';
import { seededNormal } from '../families/synthetic';

/** A SKAB-format series: 1 Hz, flow ≈ 32 with noise, a flow drop on rows [from, to), labelled. */
function syntheticCsv(rows: number, from: number, to: number, drop: number): string {
  const g = seededNormal(4);
  const t0 = Date.UTC(2020, 2, 9, 10, 0, 0);
  const lines = ['datetime;Current;Volume Flow RateRMS;anomaly;changepoint'];
  for (let i = 0; i < rows; i++) {
    const ts = new Date(t0 + i * 1000).toISOString().slice(0, 19).replace('T', ' ');
    const anomalous = i >= from && i < to;
    lines.push(`${ts};${(1 + 0.05 * g()).toFixed(4)};${(32 + 0.3 * g() - (anomalous ? drop : 0)).toFixed(4)};${anomalous ? '1.0' : '0.0'};0.0`);
  }
  // Mixed line endings, as in the benchmark's files.
  return lines.map((line, k) => line + (k % 2 ? '\n' : '\r\n')).join('');
}

const preset: DetectionPreset = {
  name: 'test',
  window: { sizeMs: 10_000, hopMs: 10_000 },
  features: { stats: ['mean', 'std'] },
  family: 'mset',
  familyOptions: { warningThreshold: 4, threshold: 5 },
  condition: { k: 2, n: 3, smoothing: 1 },
  training: { minQualityRatio: 0.8, minWindows: 10 },
};

describe('replay', () => {
  const series = parseSkabCsv(syntheticCsv(900, 600, 750, 3));

  it('windows samples with the consumer’s Windower, in window order', () => {
    const vectors = windowSamples(series.rows.map((r) => ({ ts: r.ts, metrics: { flow_rms: r.values['Volume Flow RateRMS']! } })), 'P-1', preset.window);
    expect(vectors).toHaveLength(90);
    expect(vectors.every((v, k) => k === 0 || v.windowStart > vectors[k - 1]!.windowStart)).toBe(true);
    expect(vectors[0]!.quality.receivedSamples).toBe(10);
  });

  it('learns on the windows before the cut, scores the rest, and detects the drop point-wise', () => {
    const result = evaluateSkabSeries(series, preset, { pumpId: 'P-1' });
    expect(result.predictions).toHaveLength(500);
    expect(result.labels.filter((l) => l === 1)).toHaveLength(150);
    const learning = result.replay.windows.filter((w) => w.score === null);
    expect(learning.every((w) => w.state === 'LEARNING')).toBe(true);
    expect(result.replay.model.windows).toBe(40);
    const m = skabMetrics(result.confusion);
    // k = 2 of 3 costs one window of delay at each edge; the rest must be right.
    expect(m.f1).toBeGreaterThan(0.85);
    expect(m.far).toBeLessThan(10);
  });

  it('replays the same windows to the same states', () => {
    const vectors = windowSamples(series.rows.map((r) => ({ ts: r.ts, metrics: { flow_rms: r.values['Volume Flow RateRMS']!, current: r.values.Current! } })), 'P-1', preset.window);
    const options = { pumpId: 'P-1', trainEndMs: series.rows[400]!.ts };
    expect(replayWindows(vectors, preset, options).windows).toEqual(replayWindows(vectors, preset, options).windows);
  });
});
