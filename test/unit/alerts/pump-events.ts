import { eventIdFor } from '../../../shared/stores/outbox-store';
import { DETAIL_TYPES, type DetailType, type PumpEvent, type PumpEventDetail, PumpEventSchema } from '../../../shared/schemas/events';

/** Test factory: a pumpwatch event as the pipeline writes it to the outbox (validated by PumpEventSchema). */
export function pumpEvent(options: {
  detailType?: DetailType;
  pumpId?: string;
  siteId?: string;
  windowStart?: number;
  state?: PumpEventDetail['state'];
  previousState?: PumpEventDetail['state'];
  replay?: { jobId: string; startedAt: string };
}): PumpEvent {
  const detailType = options.detailType ?? DETAIL_TYPES.conditionChanged;
  const pumpId = options.pumpId ?? 'P-0001';
  const windowStart = options.windowStart ?? Date.UTC(2026, 0, 1, 0, 0, 0);
  const state = options.state ?? 'ALARM';
  const eventId = eventIdFor([pumpId, windowStart, detailType, ...(options.replay ? [options.replay.jobId] : [])]);
  const scored = state === 'ALARM' || state === 'WARNING';
  return PumpEventSchema.parse({
    eventId,
    detailType,
    pumpId,
    time: windowStart + 10_000,
    detail: {
      eventId,
      pumpId,
      tenantId: 'tenant-1',
      siteId: options.siteId ?? 'site-a',
      pumpType: 'centrifugal',
      windowStart: new Date(windowStart).toISOString(),
      windowEnd: new Date(windowStart + 10_000).toISOString(),
      state,
      ...(options.previousState ? { previousState: options.previousState } : {}),
      score: scored ? 4.2 : 0.4,
      threshold: 1.5,
      reason: scored ? 'score 4.20 vs threshold 1.50 (vibration_rms 71%, bearing_temp 20%)' : 'score 0.40 vs threshold 1.50',
      topChannels: scored
        ? [
            { channel: 'vibration_rms', contribution: 0.71, value: 9.8, unit: 'mm/s' },
            { channel: 'bearing_temp', contribution: 0.2, value: 81, unit: '°C' },
          ]
        : [],
      model: { target: `pumps/${pumpId}/v3/model.tar.gz`, version: 'v3' },
      ...(options.replay ? { replay: options.replay } : {}),
    },
  });
}
