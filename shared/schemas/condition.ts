import { z } from 'zod';

/** Condition states of a pump (DESIGN.md §3). */
export const CONDITION_STATES = ['LEARNING', 'NORMAL', 'WARNING', 'ALARM', 'NO_DATA'] as const;
export const ConditionStateSchema = z.enum(CONDITION_STATES);
export type ConditionState = z.infer<typeof ConditionStateSchema>;

/** Severity levels a single window can indicate. */
export const LEVELS = ['NORMAL', 'WARNING', 'ALARM'] as const;
export type Level = (typeof LEVELS)[number];

export function levelRank(level: Level): number {
  return LEVELS.indexOf(level);
}

/** Scoring status of a stored window. */
export const WINDOW_STATUS = ['SCORED', 'UNSCORED', 'UNROUTED'] as const;
export const WindowStatusSchema = z.enum(WINDOW_STATUS);
export type WindowStatus = z.infer<typeof WindowStatusSchema>;

/** Vibration severity zone boundaries (ISO 10816/20816 style), mm/s RMS: A|B, B|C, C|D. */
export const VibrationZonesSchema = z.strictObject({
  channel: z.string().default('vibration_rms'),
  ab: z.number().positive(),
  bc: z.number().positive(),
  cd: z.number().positive(),
});
export type VibrationZones = z.infer<typeof VibrationZonesSchema>;

/** How a pump class turns window scores into a condition. */
export const ConditionPolicySchema = z
  .strictObject({
    /** Raise or clear a level only when k of the last n windows agree. */
    k: z.number().int().positive().default(2),
    n: z.number().int().positive().default(3),
    /** Exponential smoothing factor of the score (1 = no smoothing). */
    smoothing: z.number().gt(0).lte(1).default(1),
    /** No data for this long moves the pump to NO_DATA. */
    noDataAfterMs: z.number().int().positive().default(120_000),
    /** Received/expected below this ratio marks a window's data quality degraded. */
    minQualityRatio: z.number().min(0).max(1).default(0.5),
    zones: VibrationZonesSchema.optional(),
  })
  .refine((p) => p.k <= p.n, { message: 'k must not exceed n', path: ['k'] });
export type ConditionPolicy = z.output<typeof ConditionPolicySchema>;
