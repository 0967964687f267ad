import { z } from 'zod';

/**
 * The event as EventBridge delivers it to targets. `detail` is the parsed JSON object from the
 * PutEvents entry's `Detail` string.
 */
export const EventBridgeEnvelopeSchema = z.object({
  version: z.string(),
  id: z.string(),
  'detail-type': z.string(),
  source: z.string(),
  account: z.string(),
  time: z.string(),
  region: z.string(),
  resources: z.array(z.string()),
  detail: z.record(z.string(), z.unknown()),
});
export type EventBridgeEnvelope = z.infer<typeof EventBridgeEnvelopeSchema>;

/** EventBridge event times are ISO-8601 UTC to the second: `2017-12-22T18:43:48Z`. */
export function formatEventTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Builds the delivered event; key order as EventBridge writes it. */
export function buildEnvelope(input: {
  id: string;
  detailType: string;
  source: string;
  account: string;
  timeMs: number;
  region: string;
  resources: readonly string[];
  detail: Record<string, unknown>;
}): EventBridgeEnvelope {
  return {
    version: '0',
    id: input.id,
    'detail-type': input.detailType,
    source: input.source,
    account: input.account,
    time: formatEventTime(input.timeMs),
    region: input.region,
    resources: [...input.resources],
    detail: input.detail,
  };
}
