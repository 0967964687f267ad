import type { ConditionPolicy } from '../../shared/schemas/condition';
import { ConditionPolicySchema } from '../../shared/schemas/condition';
import type { FeatureVector } from '../../shared/schemas/features';
import type { Sample } from '../../shared/schemas/telemetry';

/** Test factories: records and vectors with sensible defaults, overridable per case. */
export const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);

export function sample(tsOffsetMs: number, metrics: Record<string, number> = { pressure: 5 }, seq?: number): Sample {
  return seq === undefined ? { ts: T0 + tsOffsetMs, metrics } : { ts: T0 + tsOffsetMs, seq, metrics };
}

export function vector(windowStart: number, overrides: Partial<FeatureVector> = {}): FeatureVector {
  return {
    pumpId: 'P-1',
    windowStart,
    windowEnd: windowStart + 10_000,
    sampleCount: 10,
    channels: {
      pressure: { count: 10, mean: 5, std: 0.1, min: 4.8, max: 5.2, rms: 5, last: 5, slope: 0, kurtosis: 0, crest: 1.04 },
    },
    quality: { expectedSamples: 10, receivedSamples: 10, duplicateSamples: 0, lateSamples: 0, maxGapMs: 1000 },
    ...overrides,
  };
}

export function policy(overrides: Partial<ConditionPolicy> = {}): ConditionPolicy {
  return { ...ConditionPolicySchema.parse({}), ...overrides };
}
