import { z } from 'zod';
import { LIMITS } from './limits';
import { describeIssues } from './issues';

/** Earliest accepted event time (2000-01-01T00:00:00Z); anything older is a unit mistake. */
export const MIN_EVENT_TIME_MS = Date.UTC(2000, 0, 1);

const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/;

/** ISO-8601 date-time (a missing zone means UTC) to epoch ms; NaN when it cannot be read. */
export function parseIsoTimestamp(value: string): number {
  if (!ISO_DATETIME.test(value)) return Number.NaN;
  const normalized = value.replace(' ', 'T');
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/.test(normalized);
  return Date.parse(hasZone ? normalized : `${normalized}Z`);
}

export const PumpIdSchema = z
  .string()
  .min(1)
  .max(LIMITS.maxPumpIdLength)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'pumpId may hold letters, digits and . _ : - and must start with a letter or digit');

/** Event time: epoch milliseconds or an ISO-8601 string; always stored as epoch ms UTC. */
export const TimestampSchema = z
  .union([z.number().int(), z.string().max(40)])
  .transform((v, ctx) => {
    const ms = typeof v === 'number' ? v : parseIsoTimestamp(v);
    if (!Number.isFinite(ms)) {
      ctx.addIssue({ code: 'custom', message: 'ts must be epoch milliseconds or an ISO-8601 date-time' });
      return z.NEVER;
    }
    if (ms < MIN_EVENT_TIME_MS) {
      ctx.addIssue({ code: 'custom', message: 'ts is before 2000-01-01 (seconds instead of milliseconds?)' });
      return z.NEVER;
    }
    return ms;
  });

/** Channel name → finite reading. Unknown channel names are kept. */
export const MetricsSchema = z
  .record(z.string().min(1).max(LIMITS.maxChannelNameLength).regex(/^[A-Za-z0-9_.-]+$/), z.number())
  .refine((m) => Object.keys(m).length > 0, 'metrics must hold at least one channel')
  .refine((m) => Object.keys(m).length <= LIMITS.maxChannelsPerSample, `at most ${LIMITS.maxChannelsPerSample} channels`);

export const SampleSchema = z.strictObject({
  ts: TimestampSchema,
  seq: z.number().int().nonnegative().optional(),
  metrics: MetricsSchema,
});

/** A single sample record. */
export const SingleTelemetrySchema = z.strictObject({
  pumpId: PumpIdSchema,
  ts: TimestampSchema,
  seq: z.number().int().nonnegative().optional(),
  metrics: MetricsSchema,
});

/** A batch record: several samples of one pump. */
export const BatchTelemetrySchema = z.strictObject({
  pumpId: PumpIdSchema,
  samples: z.array(SampleSchema).min(1).max(LIMITS.maxSamplesPerBatch),
});

export type Sample = z.output<typeof SampleSchema>;
export type SingleTelemetry = z.output<typeof SingleTelemetrySchema>;
export type BatchTelemetry = z.output<typeof BatchTelemetrySchema>;
/** What producers may send (timestamps as ISO strings or epoch ms). */
export type TelemetryInput = z.input<typeof SingleTelemetrySchema> | z.input<typeof BatchTelemetrySchema>;

/** Both shapes normalised to one: a pump and its samples, ts in epoch ms. */
export interface Telemetry {
  readonly pumpId: string;
  readonly samples: readonly Sample[];
}

/** Why a record was rejected. Stable codes: quarantine, metrics and alerts key on them. */
export type RejectReason =
  | 'too_large'
  | 'malformed_json'
  | 'schema_violation'
  | 'non_finite_value'
  | 'future_timestamp'
  | 'late'
  | 'processing_failed';

export type DecodeResult =
  | { readonly ok: true; readonly telemetry: Telemetry }
  | { readonly ok: false; readonly reason: RejectReason; readonly detail: string; readonly pumpId?: string };

function findNonFinite(raw: unknown): string | undefined {
  const check = (metrics: unknown, where: string): string | undefined => {
    if (metrics === null || typeof metrics !== 'object') return undefined;
    for (const [k, v] of Object.entries(metrics)) {
      const bad =
        v === null ||
        (typeof v === 'number' && !Number.isFinite(v)) ||
        (typeof v === 'string' && /^[+-]?(nan|inf|infinity)$/i.test(v.trim()));
      if (bad) return `${where}.metrics.${k}: ${v === null ? 'null' : String(v)} is not a finite number`;
    }
    return undefined;
  };
  if (raw === null || typeof raw !== 'object') return undefined;
  const r = raw as { metrics?: unknown; samples?: unknown };
  if (Array.isArray(r.samples)) {
    for (let i = 0; i < r.samples.length; i++) {
      const s = r.samples[i] as { metrics?: unknown } | null;
      const hit = check(s?.metrics, `samples[${i}]`);
      if (hit) return hit;
    }
    return undefined;
  }
  const hit = check(r.metrics, '');
  return hit?.replace(/^\./, '');
}

function pumpIdOf(raw: unknown): string | undefined {
  if (raw !== null && typeof raw === 'object' && 'pumpId' in raw) {
    const id = (raw as { pumpId: unknown }).pumpId;
    if (typeof id === 'string' && id.length <= LIMITS.maxPumpIdLength) return id;
  }
  return undefined;
}

const PUMP_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;
const CHANNEL_RE = /^[A-Za-z0-9_.-]+$/;

function fastTimestamp(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) && v >= MIN_EVENT_TIME_MS ? v : undefined;
  if (typeof v === 'string' && v.length <= 40) {
    const ms = parseIsoTimestamp(v);
    return Number.isFinite(ms) && ms >= MIN_EVENT_TIME_MS ? ms : undefined;
  }
  return undefined;
}

function fastMetrics(v: unknown): Record<string, number> | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  let n = 0;
  for (const k in v) {
    if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
    n += 1;
    const x = (v as Record<string, unknown>)[k];
    if (typeof x !== 'number' || !Number.isFinite(x) || k.length > LIMITS.maxChannelNameLength || !CHANNEL_RE.test(k)) return undefined;
  }
  return n > 0 && n <= LIMITS.maxChannelsPerSample ? (v as Record<string, number>) : undefined;
}

function fastSample(v: unknown, allowPumpId: boolean): Sample | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  for (const k in o) {
    if (k !== 'ts' && k !== 'seq' && k !== 'metrics' && !(allowPumpId && k === 'pumpId')) return undefined;
  }
  const ts = fastTimestamp(o.ts);
  const metrics = fastMetrics(o.metrics);
  if (ts === undefined || metrics === undefined) return undefined;
  if (o.seq === undefined) return { ts, metrics };
  return typeof o.seq === 'number' && Number.isInteger(o.seq) && o.seq >= 0 ? { ts, seq: o.seq, metrics } : undefined;
}

/**
 * The common case without zod: a structural check equivalent to the schemas for valid input.
 * Anything it does not accept goes through the zod schemas, which produce the precise error.
 */
function fastValidate(raw: unknown): Telemetry | undefined {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const o = raw as Record<string, unknown>;
  const pumpId = o.pumpId;
  if (typeof pumpId !== 'string' || pumpId.length === 0 || pumpId.length > LIMITS.maxPumpIdLength || !PUMP_ID_RE.test(pumpId)) return undefined;
  if ('samples' in o) {
    for (const k in o) if (k !== 'pumpId' && k !== 'samples') return undefined;
    const list = o.samples;
    if (!Array.isArray(list) || list.length === 0 || list.length > LIMITS.maxSamplesPerBatch) return undefined;
    const samples: Sample[] = new Array(list.length);
    for (let i = 0; i < list.length; i++) {
      const s = fastSample(list[i], false);
      if (!s) return undefined;
      samples[i] = s;
    }
    return { pumpId, samples };
  }
  const s = fastSample(o, true);
  return s ? { pumpId, samples: [s] } : undefined;
}

/**
 * Validates a parsed record of either shape. `nowMs` and `maxFutureSkewMs` bound event time from
 * above: a sample further in the future than the skew is rejected as `future_timestamp`.
 */
export function validateTelemetry(raw: unknown, nowMs: number, maxFutureSkewMs: number): DecodeResult {
  const isBatch = raw !== null && typeof raw === 'object' && 'samples' in raw;
  let telemetry: Telemetry | undefined = fastValidate(raw);
  if (telemetry) return checkFuture(telemetry, isBatch, nowMs, maxFutureSkewMs);
  const pumpId = pumpIdOf(raw);
  const nonFinite = findNonFinite(raw);
  if (nonFinite) return { ok: false, reason: 'non_finite_value', detail: nonFinite, pumpId };
  if (isBatch) {
    const parsed = BatchTelemetrySchema.safeParse(raw);
    if (!parsed.success) return { ok: false, reason: 'schema_violation', detail: describeIssues(parsed.error), pumpId };
    telemetry = parsed.data;
  } else {
    const parsed = SingleTelemetrySchema.safeParse(raw);
    if (!parsed.success) return { ok: false, reason: 'schema_violation', detail: describeIssues(parsed.error), pumpId };
    const { pumpId: id, ts, seq, metrics } = parsed.data;
    telemetry = { pumpId: id, samples: [seq === undefined ? { ts, metrics } : { ts, seq, metrics }] };
  }
  return checkFuture(telemetry, isBatch, nowMs, maxFutureSkewMs);
}

function checkFuture(telemetry: Telemetry, isBatch: boolean, nowMs: number, maxFutureSkewMs: number): DecodeResult {
  const limit = nowMs + maxFutureSkewMs;
  for (let i = 0; i < telemetry.samples.length; i++) {
    const ts = telemetry.samples[i]!.ts;
    if (ts > limit) {
      const where = isBatch ? `samples[${i}].ts` : 'ts';
      return {
        ok: false,
        reason: 'future_timestamp',
        detail: `${where}: ${new Date(ts).toISOString()} is ${ts - nowMs} ms ahead of now (max skew ${maxFutureSkewMs} ms)`,
        pumpId: telemetry.pumpId,
      };
    }
  }
  return { ok: true, telemetry };
}

/** Decodes one Kinesis record payload: size limit, JSON, then {@link validateTelemetry}. */
export function decodeTelemetry(data: Uint8Array, nowMs: number, maxFutureSkewMs: number): DecodeResult {
  if (data.byteLength > LIMITS.maxRecordBytes) {
    return { ok: false, reason: 'too_large', detail: `record is ${data.byteLength} bytes (max ${LIMITS.maxRecordBytes})` };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
  } catch (err) {
    return { ok: false, reason: 'malformed_json', detail: err instanceof Error ? err.message : String(err) };
  }
  return validateTelemetry(raw, nowMs, maxFutureSkewMs);
}
