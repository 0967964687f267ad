import {
  type ConditionPolicy,
  type ConditionState,
  type Level,
  levelRank,
  LEVELS,
  type VibrationZones,
} from '../../../shared/schemas/condition';
import type { FeatureVector } from '../../../shared/schemas/features';

/**
 * Condition evaluation (pure). Turns a pump's scored windows, in window order, into a condition
 * state with smoothing and k-of-n hysteresis, so that one noisy window neither raises nor clears
 * an alarm.
 *
 *   window level  = max(model level of the smoothed score, vibration zone level)
 *   candidate     = the highest level L with at least k of the last n window levels >= L
 *   state         = candidate (LEARNING instead of NORMAL while the pump has no model)
 */
export interface ConditionMemory {
  readonly state: ConditionState;
  /** Start of the newest window applied; windows at or before it are ignored (ordering). */
  readonly lastWindowStart: number | null;
  readonly lastWindowEnd: number | null;
  /** Levels of the last n windows, oldest first. */
  readonly recent: Level[];
  readonly smoothedScore: number | null;
  /** True between an anomaly episode's start and the return to NORMAL. */
  readonly inEpisode: boolean;
  readonly qualityDegraded: boolean;
}

export const INITIAL_MEMORY: ConditionMemory = {
  state: 'LEARNING',
  lastWindowStart: null,
  lastWindowEnd: null,
  recent: [],
  smoothedScore: null,
  inEpisode: false,
  qualityDegraded: false,
};

export interface ScoreInput {
  readonly score: number;
  readonly threshold: number;
  readonly warningThreshold: number;
}

export interface WindowInput {
  readonly vector: FeatureVector;
  /** The model's score, or null when the pump has no model (LEARNING). */
  readonly score: ScoreInput | null;
}

export interface Evaluation {
  readonly memory: ConditionMemory;
  /** Present when the state changed. */
  readonly changed?: { readonly from: ConditionState; readonly to: ConditionState };
  /** True when this window starts an anomaly episode. */
  readonly anomalyStarted: boolean;
  /** True when this window's data quality fell below the policy's bound (edge, not level). */
  readonly qualityDegraded: boolean;
  readonly windowLevel: Level;
  readonly smoothedScore: number | null;
  /** Whether the window was applied (false when it is not newer than the last applied one). */
  readonly applied: boolean;
}

/** The zone level of a window from vibration severity boundaries (A/B normal, C warning, D alarm). */
export function zoneLevel(vector: FeatureVector, zones: VibrationZones | undefined): Level {
  if (!zones) return 'NORMAL';
  const ch = vector.channels[zones.channel];
  if (!ch || ch.count === 0) return 'NORMAL';
  const v = ch.rms;
  if (v >= zones.cd) return 'ALARM';
  if (v >= zones.bc) return 'WARNING';
  return 'NORMAL';
}

function scoreLevel(score: number, s: ScoreInput): Level {
  if (score >= s.threshold) return 'ALARM';
  if (score >= s.warningThreshold) return 'WARNING';
  return 'NORMAL';
}

function maxLevel(a: Level, b: Level): Level {
  return levelRank(a) >= levelRank(b) ? a : b;
}

/** The highest level that at least k of the recent levels reach. */
export function hysteresisLevel(recent: readonly Level[], k: number): Level {
  for (let r = LEVELS.length - 1; r > 0; r--) {
    if (recent.filter((l) => levelRank(l) >= r).length >= k) return LEVELS[r]!;
  }
  return 'NORMAL';
}

/** Applies one window to a pump's condition memory. Windows must arrive in window order. */
export function evaluateWindow(memory: ConditionMemory, input: WindowInput, policy: ConditionPolicy): Evaluation {
  const { vector } = input;
  if (memory.lastWindowStart !== null && vector.windowStart <= memory.lastWindowStart) {
    return { memory, anomalyStarted: false, qualityDegraded: false, windowLevel: 'NORMAL', smoothedScore: memory.smoothedScore, applied: false };
  }
  let smoothed: number | null = null;
  let level: Level = zoneLevel(vector, policy.zones);
  if (input.score) {
    const prev = memory.smoothedScore;
    smoothed = prev === null ? input.score.score : policy.smoothing * input.score.score + (1 - policy.smoothing) * prev;
    level = maxLevel(level, scoreLevel(smoothed, input.score));
  }
  const recent = [...memory.recent, level].slice(-policy.n);
  const candidate = hysteresisLevel(recent, policy.k);
  const state: ConditionState = candidate === 'NORMAL' && !input.score ? 'LEARNING' : candidate;
  const ratio = vector.quality.expectedSamples > 0 ? vector.quality.receivedSamples / vector.quality.expectedSamples : 1;
  const degraded = ratio < policy.minQualityRatio;
  const anomalous = state === 'WARNING' || state === 'ALARM';
  const anomalyStarted = anomalous && !memory.inEpisode;
  const next: ConditionMemory = {
    state,
    lastWindowStart: vector.windowStart,
    lastWindowEnd: vector.windowEnd,
    recent,
    smoothedScore: smoothed ?? memory.smoothedScore,
    inEpisode: anomalous,
    qualityDegraded: degraded,
  };
  return {
    memory: next,
    ...(state !== memory.state ? { changed: { from: memory.state, to: state } } : {}),
    anomalyStarted,
    qualityDegraded: degraded && !memory.qualityDegraded,
    windowLevel: level,
    smoothedScore: smoothed,
    applied: true,
  };
}

/** Moves a pump to NO_DATA when it has been silent too long (event time of its last window vs now). */
export function evaluateSilence(memory: ConditionMemory, nowMs: number, policy: ConditionPolicy): Evaluation | undefined {
  if (memory.state === 'NO_DATA' || memory.lastWindowEnd === null) return undefined;
  if (nowMs - memory.lastWindowEnd < policy.noDataAfterMs) return undefined;
  const next: ConditionMemory = { ...memory, state: 'NO_DATA', recent: [], inEpisode: false };
  return {
    memory: next,
    changed: { from: memory.state, to: 'NO_DATA' },
    anomalyStarted: false,
    qualityDegraded: false,
    windowLevel: 'NORMAL',
    smoothedScore: memory.smoothedScore,
    applied: true,
  };
}
