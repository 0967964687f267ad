import { z } from 'zod';
import { ConditionPolicySchema } from './condition';
import { PumpIdSchema } from './telemetry';

/** A pump in the registry: who owns it, what kind it is, how its condition is judged. */
export const PumpRecordSchema = z.strictObject({
  pumpId: PumpIdSchema,
  tenantId: z.string().min(1).max(64),
  siteId: z.string().min(1).max(64),
  pumpType: z.string().min(1).max(64).regex(/^[a-z0-9][a-z0-9-]*$/),
  /** Nominal samples per second the device sends. */
  sampleRateHz: z.number().positive().max(1000).default(1),
  policy: ConditionPolicySchema.optional(),
  enrolledAt: z.number().int(),
});
export type PumpRecord = z.output<typeof PumpRecordSchema>;
