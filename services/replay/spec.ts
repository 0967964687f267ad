import { createHash } from 'node:crypto';
import type { WindowConfig } from '../../shared/config';
import { ValidationError } from '../../shared/errors';
import { describeIssues } from '../../shared/schemas/issues';
import {
  ReplayJobIdSchema,
  type ReplayEventMode,
  type ReplaySource,
  type ReplaySpec,
  ReplaySpecSchema,
} from '../../shared/stores/replay-store';
import { parseModelChoice } from './routing';

/** What a user asks for (`pumpwatch replay start`, or the ECS task's command). */
export interface ReplayRequest {
  /** Omitted: derived from the inputs, so issuing the same request again resumes (or no-ops). */
  readonly jobId?: string;
  /** Event-time range [from, to), epoch ms; widened to whole window hops. */
  readonly fromMs: number;
  readonly toMs: number;
  readonly pumps?: readonly string[];
  readonly source: ReplaySource;
  /** `approved` (default), a version number, or `<modelGroup>:<version>`. */
  readonly model?: string;
  /** `none` (default) or `tagged`. */
  readonly events?: ReplayEventMode;
}

/**
 * The job's spec: the range widened to whole hops of the window (so the windows a replay writes are
 * the live windows' keys), pumps sorted and unique, and the model choice checked.
 */
export function buildSpec(request: ReplayRequest, window: Pick<WindowConfig, 'hopMs'>, nowMs: number): ReplaySpec {
  const hop = window.hopMs;
  const fromMs = Math.floor(request.fromMs / hop) * hop;
  const toMs = Math.ceil(request.toMs / hop) * hop;
  if (!(request.fromMs < request.toMs)) throw new ValidationError('replay: --from must be before --to');
  if (fromMs >= nowMs) throw new ValidationError(`replay: --from ${new Date(request.fromMs).toISOString()} is in the future`);
  const model = request.model ?? 'approved';
  parseModelChoice(model);
  const pumps = request.pumps && request.pumps.length > 0 ? [...new Set(request.pumps)].sort() : undefined;
  const parsed = ReplaySpecSchema.safeParse({ fromMs, toMs, ...(pumps ? { pumps } : {}), source: request.source, model, events: request.events ?? 'none' });
  if (!parsed.success) throw new ValidationError(`replay: ${describeIssues(parsed.error)}`, parsed.error);
  return parsed.data;
}

/** A job id from the spec: the same inputs make the same job. */
export function defaultJobId(spec: ReplaySpec): string {
  const hash = createHash('sha256').update(JSON.stringify(canonicalSpec(spec))).digest('hex').slice(0, 12);
  return `replay-${new Date(spec.fromMs).toISOString().slice(0, 10).replace(/-/g, '')}-${hash}`;
}

/** Validates a user-given job id. */
export function checkJobId(jobId: string): string {
  const parsed = ReplayJobIdSchema.safeParse(jobId);
  if (!parsed.success) throw new ValidationError(`replay: job id ${JSON.stringify(jobId)}: ${describeIssues(parsed.error)}`, parsed.error);
  return parsed.data;
}

function canonicalSpec(spec: ReplaySpec): unknown[] {
  return [spec.fromMs, spec.toMs, spec.pumps ?? null, spec.source, spec.model, spec.events];
}

/** Whether two specs describe the same job. */
export function sameSpec(a: ReplaySpec, b: ReplaySpec): boolean {
  return JSON.stringify(canonicalSpec(a)) === JSON.stringify(canonicalSpec(b));
}

/** The spec in words, for messages. */
export function describeSpec(spec: ReplaySpec): string {
  const iso = (ms: number): string => new Date(ms).toISOString();
  return `${iso(spec.fromMs)} .. ${iso(spec.toMs)} from ${spec.source}, pumps ${spec.pumps ? spec.pumps.join(',') : 'all'}, model ${spec.model}, events ${spec.events}`;
}
