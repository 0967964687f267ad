import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Target } from './api-schemas';
import type { EventBridgeEnvelope } from './envelope';

/**
 * Where a target delivers, decided by its `Arn`:
 * - `arn:pumpwatch:local:listener:NAME` — an in-process listener registered with
 *   `server.addListener(NAME, fn)`;
 * - `http://…` / `https://…` — a webhook: the payload is POSTed as JSON (HttpParameters header and
 *   query-string parameters are applied);
 * - `file:///abs/path.jsonl` — a JSON-lines file: one payload per line, appended.
 */
export type TargetEndpoint =
  | { readonly kind: 'listener'; readonly name: string }
  | { readonly kind: 'webhook'; readonly url: URL }
  | { readonly kind: 'file'; readonly path: string };

/** The ARN prefix of in-process listener targets. */
export const LISTENER_ARN_PREFIX = 'arn:pumpwatch:local:listener:';
const LISTENER_NAME_RE = /^[A-Za-z0-9._-]{1,128}$/;

/** Builds the target ARN of an in-process listener. */
export function listenerArn(name: string): string {
  return `${LISTENER_ARN_PREFIX}${name}`;
}

/** A `file://` URL as an absolute path; an Error says why it is not one. */
export function fileUrlToPath(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`${text} is not a valid file:// URL`);
  }
  if (url.protocol !== 'file:') throw new Error(`${text} is not a file:// URL`);
  const p = fileURLToPath(url);
  if (!path.isAbsolute(p)) throw new Error(`${text} must name an absolute path`);
  return p;
}

/** Resolves a target ARN; throws an Error naming the supported kinds when it is none of them. */
export function resolveTargetArn(arn: string): TargetEndpoint {
  if (arn.startsWith(LISTENER_ARN_PREFIX)) {
    const name = arn.slice(LISTENER_ARN_PREFIX.length);
    if (!LISTENER_NAME_RE.test(name)) throw new Error(`listener name in ${arn} must be 1-128 of [A-Za-z0-9._-]`);
    return { kind: 'listener', name };
  }
  if (arn.startsWith('http://') || arn.startsWith('https://')) {
    try {
      return { kind: 'webhook', url: new URL(arn) };
    } catch {
      throw new Error(`${arn} is not a valid URL`);
    }
  }
  if (arn.startsWith('file:')) return { kind: 'file', path: fileUrlToPath(arn) };
  throw new Error(
    `the local bus cannot deliver to ${arn}: use ${LISTENER_ARN_PREFIX}NAME, an http(s):// URL or a file:///absolute/path.jsonl`,
  );
}

/**
 * A minimal JSONPath for `InputPath`: `$`, then `.name`, `['name']` / `["name"]` or `[index]` steps.
 * Returns the steps, or throws an Error for anything else (filters, wildcards, recursion).
 */
export function parseInputPath(text: string): (string | number)[] {
  if (!text.startsWith('$')) throw new Error(`InputPath ${text} must start with $`);
  const steps: (string | number)[] = [];
  const re = /\.([A-Za-z0-9_-]+)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\]/y;
  let pos = 1;
  while (pos < text.length) {
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) throw new Error(`InputPath ${text}: unsupported syntax at position ${pos} (only $.a.b, $['a'] and $.a[0] are supported locally)`);
    if (m[1] !== undefined) steps.push(m[1]);
    else if (m[2] !== undefined) steps.push(Number(m[2]));
    else steps.push(m[3] ?? m[4] ?? '');
    pos = re.lastIndex;
  }
  return steps;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function select(value: unknown, steps: readonly (string | number)[]): unknown {
  let current: unknown = value;
  for (const step of steps) {
    if (typeof step === 'number') {
      if (!Array.isArray(current)) return null;
      current = current[step] ?? null;
    } else {
      if (!isRecord(current)) return null;
      current = Object.hasOwn(current, step) ? current[step] : null;
    }
  }
  return current;
}

/**
 * Checks what the local bus supports of a target; returns the reason it cannot, or undefined.
 * InputTransformer is not supported: targets receive the whole event, `Input` or `InputPath`.
 */
export function checkTarget(target: Target): string | undefined {
  try {
    resolveTargetArn(target.Arn);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  const inputs = [target.Input, target.InputPath, target.InputTransformer].filter((v) => v !== undefined).length;
  if (inputs > 1) return 'Only one of Input, InputPath, or InputTransformer can be specified.';
  if (target.InputTransformer !== undefined) return 'InputTransformer is not supported by the local bus; use Input or InputPath.';
  if (target.Input !== undefined) {
    try {
      JSON.parse(target.Input);
    } catch {
      return 'Input is not valid JSON text.';
    }
  }
  if (target.InputPath !== undefined) {
    try {
      parseInputPath(target.InputPath);
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }
  const dlq = target.DeadLetterConfig?.Arn;
  if (dlq !== undefined) {
    try {
      fileUrlToPath(dlq);
    } catch (err) {
      return `DeadLetterConfig.Arn: the local bus writes dead letters to a file:///absolute/path.jsonl (${err instanceof Error ? err.message : String(err)})`;
    }
  }
  return undefined;
}

/** What the target receives for an event: the event itself, its `Input`, or the `InputPath` selection. */
export function targetPayload(target: Target, event: EventBridgeEnvelope): unknown {
  if (target.Input !== undefined) return JSON.parse(target.Input);
  if (target.InputPath !== undefined) return select(event, parseInputPath(target.InputPath));
  return event;
}
