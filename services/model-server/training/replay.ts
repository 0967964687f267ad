import { WindowConfigSchema } from '../../../shared/config';
import { ConditionPolicySchema, type ConditionState, type Level } from '../../../shared/schemas/condition';
import type { FeatureVector } from '../../../shared/schemas/features';
import type { Sample } from '../../../shared/schemas/telemetry';
import { evaluateWindow, INITIAL_MEMORY, type ConditionMemory } from '../../consumer/core/condition';
import { Windower } from '../../consumer/core/windowing';
import { loadModel } from '../core/scorer';
import { confusion, type Confusion, pointwisePredictions, SKAB_TRAIN_ROWS, skabSample, type SkabSeries } from './skab';
import type { DetectionPreset } from './presets';
import { type TrainedModel, trainModel } from './train';

/**
 * In-process replay of one pump through the pipeline's pure core: the consumer's event-time
 * Windower and feature accumulators, the trainer, the scoring core (artifact → loadModel →
 * score) and the condition evaluation (smoothing, k-of-n hysteresis). It is what the deployed
 * pipeline computes for the same samples, without the stream, tables and endpoint around it,
 * and is what the detection presets were tuned and measured with.
 *
 * Protocol: windows ending at or before `trainEndMs` are the learning phase (evaluated with no
 * score, i.e. LEARNING) and the model is fitted on them; every later window is scored.
 */

export interface ReplayOptions {
  readonly pumpId: string;
  /** Windows ending at or before this (epoch ms) are the learning phase. */
  readonly trainEndMs: number;
  /** Stamped on the trained artifact. */
  readonly createdAt?: number;
}

export interface ReplayedWindow {
  readonly windowStart: number;
  readonly windowEnd: number;
  /** The model's raw score, null during the learning phase. */
  readonly score: number | null;
  readonly smoothedScore: number | null;
  readonly level: Level;
  readonly state: ConditionState;
  /** State WARNING or ALARM after this window. */
  readonly anomalous: boolean;
}

export interface ReplayResult {
  readonly model: TrainedModel;
  readonly windows: readonly ReplayedWindow[];
}

const SCORE_BATCH = 500;

/** The closed windows (feature vectors) of one pump's samples, in window order; `sampleRateHz` sets the expected-sample counts. */
export function windowSamples(samples: readonly Sample[], pumpId: string, window: DetectionPreset['window'], sampleRateHz = 1): FeatureVector[] {
  const config = WindowConfigSchema.parse({ sizeMs: window.sizeMs, hopMs: window.hopMs });
  const windower = new Windower({ window: config, sampleRateHz: () => sampleRateHz });
  samples.forEach((s, i) => windower.add(pumpId, s, i, s.ts));
  return windower
    .flush()
    .map((w) => w.vector)
    .sort((a, b) => a.windowStart - b.windowStart);
}

/** Trains on the learning phase and replays every window through scoring and condition evaluation. */
export function replayWindows(vectors: readonly FeatureVector[], preset: DetectionPreset, options: ReplayOptions): ReplayResult {
  const policy = ConditionPolicySchema.parse(preset.condition);
  const learning = vectors.filter((v) => v.windowEnd <= options.trainEndMs);
  const model = trainModel(learning, {
    modelId: options.pumpId,
    version: preset.name,
    family: preset.family,
    familyOptions: preset.familyOptions,
    features: preset.features,
    createdAt: options.createdAt ?? options.trainEndMs,
    minQualityRatio: preset.training.minQualityRatio,
    minWindows: preset.training.minWindows,
  });
  const loaded = loadModel(model.artifact);
  const scored = vectors.filter((v) => v.windowEnd > options.trainEndMs);
  const scores = new Map<number, { score: number; threshold: number; warningThreshold: number }>();
  for (let i = 0; i < scored.length; i += SCORE_BATCH) {
    const batch = scored.slice(i, i + SCORE_BATCH);
    const response = loaded.score({ pumpId: options.pumpId, windows: batch });
    response.results.forEach((r) => scores.set(r.windowStart, { score: r.score, threshold: r.threshold, warningThreshold: r.warningThreshold }));
  }
  let memory: ConditionMemory = INITIAL_MEMORY;
  const windows: ReplayedWindow[] = [];
  for (const vector of vectors) {
    const score = vector.windowEnd > options.trainEndMs ? (scores.get(vector.windowStart) ?? null) : null;
    const ev = evaluateWindow(memory, { vector, score }, policy);
    memory = ev.memory;
    const state = memory.state;
    windows.push({
      windowStart: vector.windowStart,
      windowEnd: vector.windowEnd,
      score: score?.score ?? null,
      smoothedScore: ev.smoothedScore,
      level: ev.windowLevel,
      state,
      anomalous: state === 'WARNING' || state === 'ALARM',
    });
  }
  return { model, windows };
}

export interface SkabEvaluation {
  readonly replay: ReplayResult;
  /** One prediction per test row (row `trainRows` on). */
  readonly predictions: readonly (0 | 1)[];
  /** Labels of the test rows (all 0 for an unlabelled file). */
  readonly labels: readonly (0 | 1)[];
  readonly confusion: Confusion;
}

/**
 * One SKAB file as one pump under the benchmark protocol: the first `trainRows` rows train, the
 * rest are predicted point-wise from the window conditions (see `pointwisePredictions`).
 * `vectors` may carry the series' windows for `preset.window` already computed (when several
 * presets with the same windowing are compared).
 */
export function evaluateSkabSeries(
  series: SkabSeries,
  preset: DetectionPreset,
  options: { pumpId?: string; trainRows?: number; vectors?: readonly FeatureVector[] } = {},
): SkabEvaluation {
  const pumpId = options.pumpId ?? 'skab';
  const trainRows = options.trainRows ?? SKAB_TRAIN_ROWS;
  if (series.rows.length <= trainRows) throw new RangeError(`a SKAB series needs more than ${trainRows} rows, got ${series.rows.length}`);
  const vectors = options.vectors ?? windowSamples(series.rows.map((r) => skabSample(r)), pumpId, preset.window);
  const trainEndMs = series.rows[trainRows]!.ts;
  const replay = replayWindows(vectors, preset, { pumpId, trainEndMs });
  const test = series.rows.slice(trainRows);
  const predictions = pointwisePredictions(
    test.map((r) => r.ts),
    replay.windows.filter((w) => w.windowEnd > trainEndMs),
    preset.window.hopMs,
  );
  const labels = test.map((r) => r.anomaly ?? 0);
  return { replay, predictions, labels, confusion: confusion(labels, predictions) };
}
