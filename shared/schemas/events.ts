import { z } from 'zod';
import { ConditionStateSchema } from './condition';

/** EventBridge detail-types published by pumpwatch. */
export const DETAIL_TYPES = {
  conditionChanged: 'Pump Condition Changed',
  anomalyDetected: 'Pump Anomaly Detected',
  dataQualityDegraded: 'Pump Data Quality Degraded',
  pumpEnrolled: 'Pump Enrolled',
  modelVersionActivated: 'Model Version Activated',
} as const;
export type DetailType = (typeof DETAIL_TYPES)[keyof typeof DETAIL_TYPES];
export const DetailTypeSchema = z.enum(Object.values(DETAIL_TYPES) as [DetailType, ...DetailType[]]);

export const ChannelContributionSchema = z.strictObject({
  channel: z.string(),
  /** Share of the anomaly score. */
  contribution: z.number(),
  /** Latest window mean, with unit when known. */
  value: z.number().optional(),
  unit: z.string().optional(),
});

export const ReplayInfoSchema = z.strictObject({
  jobId: z.string(),
  startedAt: z.string(),
});

/** The `detail` of every pump event. Subscribers dedupe on `eventId`. */
export const PumpEventDetailSchema = z.strictObject({
  eventId: z.string(),
  pumpId: z.string(),
  tenantId: z.string(),
  siteId: z.string(),
  pumpType: z.string(),
  windowStart: z.string(),
  windowEnd: z.string(),
  state: ConditionStateSchema,
  previousState: ConditionStateSchema.optional(),
  score: z.number().nullable(),
  threshold: z.number().nullable(),
  reason: z.string(),
  topChannels: z.array(ChannelContributionSchema),
  model: z.strictObject({ target: z.string(), version: z.string() }).nullable(),
  replay: ReplayInfoSchema.optional(),
});
export type PumpEventDetail = z.infer<typeof PumpEventDetailSchema>;

/** An event as stored in the outbox and published to the bus. */
export const PumpEventSchema = z.strictObject({
  eventId: z.string(),
  detailType: DetailTypeSchema,
  pumpId: z.string(),
  time: z.number().int(),
  detail: PumpEventDetailSchema,
});
export type PumpEvent = z.infer<typeof PumpEventSchema>;
