import { channelUnit } from '../../../shared/schemas/channels';
import type { ConditionState } from '../../../shared/schemas/condition';
import { DETAIL_TYPES, type DetailType, type PumpEvent, type PumpEventDetail } from '../../../shared/schemas/events';
import type { PumpRecord } from '../../../shared/schemas/pump';
import { eventIdFor } from '../../../shared/stores/outbox-store';
import type { WindowItem } from '../../../shared/stores/window-store';
import type { Evaluation } from '../core/condition';
import { zoneLevel } from '../core/condition';

/** Replay context: events of a replay carry it, and their ids differ from the live ones. */
export interface ReplayTag {
  readonly jobId: string;
  readonly startedAt: string;
}

/** The detail fields that depend on what happened (the rest identify the pump and the window). */
type EventSpecifics = Omit<PumpEventDetail, 'eventId' | 'pumpId' | 'tenantId' | 'siteId' | 'pumpType' | 'windowStart' | 'windowEnd'>;

/** A pump's event over [startMs, endMs] (its time is the end), its id derived from `idParts`. */
function pumpEvent(pump: PumpRecord, detailType: DetailType, idParts: readonly (string | number)[], startMs: number, endMs: number, specifics: EventSpecifics): PumpEvent {
  const eventId = eventIdFor(idParts);
  return {
    eventId,
    detailType,
    pumpId: pump.pumpId,
    time: endMs,
    detail: {
      eventId,
      pumpId: pump.pumpId,
      tenantId: pump.tenantId,
      siteId: pump.siteId,
      pumpType: pump.pumpType,
      windowStart: new Date(startMs).toISOString(),
      windowEnd: new Date(endMs).toISOString(),
      ...specifics,
    },
  };
}

function topChannels(item: WindowItem, limit = 3): PumpEventDetail['topChannels'] {
  const contributions = item.score?.contributions ?? {};
  return Object.entries(contributions)
    .filter(([, c]) => c > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, limit)
    .map(([channel, contribution]) => {
      const unit = channelUnit(channel);
      const value = item.features.channels[channel]?.mean;
      return { channel, contribution, ...(value === undefined ? {} : { value }), ...(unit ? { unit } : {}) };
    });
}

function describe(item: WindowItem, state: ConditionState, pump: PumpRecord, zonesText: string | undefined): string {
  if (state === 'NO_DATA') return 'no data received';
  const parts: string[] = [];
  if (item.score) {
    const top = topChannels(item)
      .map((c) => `${c.channel} ${Math.round(c.contribution * 100)}%`)
      .join(', ');
    parts.push(`score ${item.score.score.toFixed(2)} vs threshold ${item.score.threshold.toFixed(2)}${top ? ` (${top})` : ''}`);
  } else if (item.status === 'UNROUTED') {
    parts.push(`no approved model for ${pump.pumpId} or type ${pump.pumpType}`);
  }
  if (zonesText) parts.push(zonesText);
  return parts.join('; ') || `condition ${state}`;
}

function zoneText(item: WindowItem, pump: PumpRecord, policyZones: Parameters<typeof zoneLevel>[1]): string | undefined {
  if (!policyZones) return undefined;
  const level = zoneLevel(item.features, policyZones);
  if (level === 'NORMAL') return undefined;
  const ch = item.features.channels[policyZones.channel]!;
  const bound = level === 'ALARM' ? policyZones.cd : policyZones.bc;
  return `${policyZones.channel} ${ch.rms.toFixed(2)} ${channelUnit(policyZones.channel) ?? ''} in zone ${level === 'ALARM' ? 'D' : 'C'} (>= ${bound}) for ${pump.pumpType}`.replace('  ', ' ');
}

/** Builds the events a window's evaluation raises, with deterministic ids. */
export function buildWindowEvents(
  pump: PumpRecord,
  item: WindowItem,
  evaluation: Evaluation,
  zones: Parameters<typeof zoneLevel>[1],
  replay?: ReplayTag,
): PumpEvent[] {
  const events: PumpEvent[] = [];
  const state = evaluation.memory.state;
  const reason = describe(item, state, pump, zoneText(item, pump, zones));
  const make = (detailType: DetailType, previousState?: ConditionState, override?: string): PumpEvent =>
    pumpEvent(pump, detailType, [pump.pumpId, item.windowStart, detailType, ...(replay ? [replay.jobId] : [])], item.windowStart, item.windowEnd, {
      state,
      ...(previousState ? { previousState } : {}),
      score: item.score?.score ?? null,
      threshold: item.score?.threshold ?? null,
      reason: override ?? reason,
      topChannels: topChannels(item),
      model: item.model ? { target: item.model.target, version: item.model.version } : null,
      ...(replay ? { replay } : {}),
    });
  if (evaluation.changed) events.push(make(DETAIL_TYPES.conditionChanged, evaluation.changed.from));
  if (evaluation.anomalyStarted) events.push(make(DETAIL_TYPES.anomalyDetected));
  if (evaluation.qualityDegraded) {
    const q = item.features.quality;
    events.push(
      make(
        DETAIL_TYPES.dataQualityDegraded,
        undefined,
        `received ${q.receivedSamples} of ${q.expectedSamples} expected samples (longest gap ${Math.round(q.maxGapMs / 1000)} s, ${q.lateSamples} late, ${q.duplicateSamples} duplicate)`,
      ),
    );
  }
  return events;
}

/** A `Pump Enrolled` event (one per pump, ever). */
export function enrolledEvent(pump: PumpRecord): PumpEvent {
  return pumpEvent(pump, DETAIL_TYPES.pumpEnrolled, [pump.pumpId, 'enrolled'], pump.enrolledAt, pump.enrolledAt, {
    state: 'LEARNING',
    score: null,
    threshold: null,
    reason: 'first data from an unregistered pump; enrolled with defaults',
    topChannels: [],
    model: null,
  });
}

/** A `Pump Condition Changed` event to NO_DATA after silence. */
export function silenceEvent(pump: PumpRecord, lastWindowStart: number, lastWindowEnd: number, from: ConditionState): PumpEvent {
  return pumpEvent(pump, DETAIL_TYPES.conditionChanged, [pump.pumpId, lastWindowStart, 'NO_DATA'], lastWindowStart, lastWindowEnd, {
    state: 'NO_DATA',
    previousState: from,
    score: null,
    threshold: null,
    reason: `no data since ${new Date(lastWindowEnd).toISOString()}`,
    topChannels: [],
    model: null,
  });
}
