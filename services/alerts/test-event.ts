import { z } from 'zod';
import { prepareEvent } from '../../shared/event-pattern';
import { ValidationError } from '../../shared/errors';
import { EVENT_SOURCE } from '../../shared/names';
import { describeIssues } from '../../shared/schemas/issues';
import { buildEnvelope } from '../local/eventbridge/envelope';
import type { AlertRule, AlertsConfig } from './config';

/** The account id the local bus stamps on events (and test events get when they have none). */
export const LOCAL_ACCOUNT_ID = '000000000000';

/** An event file that holds neither an EventBridge event nor a pumpwatch event. */
export class InvalidTestEventError extends ValidationError {
  override readonly code: string = 'INVALID_TEST_EVENT';
}

/** A pumpwatch event as the outbox stores it (`events list --json` prints these). */
const PumpwatchEventInputSchema = z.looseObject({
  detailType: z.string().min(1),
  detail: z.record(z.string(), z.unknown()),
  eventId: z.string().optional(),
  /** Epoch ms (as in the outbox) or ISO-8601. */
  time: z.union([z.number().finite(), z.string()]).optional(),
});

/** What an event file's pumpwatch event is completed with. */
export interface TestEventDefaults {
  /** Event time when the pumpwatch event has no `time`. */
  readonly nowMs: number;
  readonly region: string;
  readonly account?: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The event to match from an event file. Two shapes are accepted:
 * - an EventBridge event (it has `detail-type` and `source`): used exactly as given, as
 *   TestEventPattern would;
 * - a pumpwatch event as in the outbox, `{detailType, detail, eventId?, time?}`: wrapped in the
 *   envelope PutEvents would deliver — `version` "0", `id` = eventId, `source` "pumpwatch",
 *   `account`, `time` (from `time`, else now), `region`, `resources` [] and the detail.
 * Throws {@link InvalidTestEventError} for anything else.
 */
export function toEventBridgeEvent(raw: unknown, defaults: TestEventDefaults): Record<string, unknown> {
  if (!isRecord(raw)) {
    throw new InvalidTestEventError(`expected one event as a JSON object, got ${Array.isArray(raw) ? 'an array' : raw === null ? 'null' : typeof raw}`);
  }
  if ('detail-type' in raw) {
    // Matched exactly as given, as TestEventPattern does: fields it lacks stay absent, and odd
    // values (an array detail-type, a string detail) are the pattern's business.
    if (!('source' in raw)) throw new InvalidTestEventError('not a valid EventBridge event: it has "detail-type" but no "source"');
    return raw;
  }
  if ('detailType' in raw) {
    const parsed = PumpwatchEventInputSchema.safeParse(raw);
    if (!parsed.success) throw new InvalidTestEventError(`not a valid pumpwatch event: ${describeIssues(parsed.error)}`, parsed.error);
    const e = parsed.data;
    const timeMs = e.time === undefined ? defaults.nowMs : typeof e.time === 'number' ? e.time : Date.parse(e.time);
    if (!Number.isFinite(timeMs)) throw new InvalidTestEventError(`not a valid pumpwatch event: time ${JSON.stringify(e.time)} is neither epoch ms nor ISO-8601`);
    const detailId = e.detail.eventId;
    return buildEnvelope({
      id: e.eventId ?? (typeof detailId === 'string' ? detailId : 'test-event'),
      detailType: e.detailType,
      source: EVENT_SOURCE,
      account: defaults.account ?? LOCAL_ACCOUNT_ID,
      timeMs,
      region: defaults.region,
      resources: [],
      detail: e.detail,
    });
  }
  throw new InvalidTestEventError(
    'expected an EventBridge event (with "source", "detail-type" and "detail") or a pumpwatch event as in the outbox (with "detailType" and "detail")',
  );
}

/** The configured rules whose patterns match the event, in configuration order. */
export function matchingRules(config: AlertsConfig, event: object): AlertRule[] {
  const prepared = prepareEvent(event);
  return config.rules.filter((r) => r.pattern.matches(prepared));
}
