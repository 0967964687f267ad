import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { compileEventPattern, type CompiledEventPattern, InvalidEventPatternError } from '../../shared/event-pattern';
import { ConfigError } from '../../shared/errors';
import { formatPath } from '../../shared/schemas/issues';
import {
  type ConfiguredSubscription,
  STANDARD_SUBSCRIPTIONS,
  type Subscription,
  SubscriptionsFileSchema,
  type Topic,
} from '../../shared/subscriptions';
import { localTargets } from '../local/subscriptions';
import { ENV } from '../../shared/env';

/** The subscriptions file read from the working directory when no other is named. */
export const DEFAULT_SUBSCRIPTIONS_FILE = 'pumpwatch.subscriptions.json';

/** The local stack's subscriptions folder (`local up`'s default data folder + `subscriptions`). */
export const DEFAULT_SUBSCRIPTIONS_DIR = '.pumpwatch/data/subscriptions';

/** EventBridge's limit on the length of an event pattern. */
export const MAX_PATTERN_LENGTH = 4096;

/** Where a subscription comes from. */
export type SubscriptionOrigin = 'standard' | 'file';

/** A configured subscription with its compiled pattern. */
export interface AlertRule {
  readonly subscription: ConfiguredSubscription;
  readonly origin: SubscriptionOrigin;
  readonly pattern: CompiledEventPattern;
}

/** The alert subscriptions in force: the standard ones, then those of the subscriptions file. */
export interface AlertsConfig {
  /** The subscriptions file read, or undefined when there is none (standard subscriptions only). */
  readonly source: string | undefined;
  readonly rules: readonly AlertRule[];
  /** Subscribers of topics, by topic id (what `applySubscriptions` takes as `topics`). */
  readonly topics: Readonly<Record<string, Topic>>;
}

/** The subscriptions of a configuration, for `applySubscriptions`. */
export function subscriptionsOf(config: AlertsConfig): ConfiguredSubscription[] {
  return config.rules.map((r) => r.subscription);
}

/** A subscriptions file that cannot be used; the message names the file and, where it applies, the rule. */
export class SubscriptionsConfigError extends ConfigError {
  override readonly code: string = 'SUBSCRIPTIONS_INVALID';

  constructor(
    readonly source: string,
    detail: string,
    readonly rule?: string,
    cause?: unknown,
  ) {
    super(`${source}: ${rule === undefined ? '' : `subscription ${rule}: `}${detail}`, cause);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `name` of `subscriptions[i]` in the raw file, when it has one (to name the rule in errors). */
function rawRuleName(raw: unknown, index: number): string | undefined {
  if (!isRecord(raw) || !Array.isArray(raw.subscriptions)) return undefined;
  const entry: unknown = raw.subscriptions[index];
  return isRecord(entry) && typeof entry.name === 'string' ? entry.name : undefined;
}

function compile(sub: ConfiguredSubscription, source: string): CompiledEventPattern {
  const text = JSON.stringify(sub.pattern);
  if (text.length > MAX_PATTERN_LENGTH) {
    throw new SubscriptionsConfigError(source, `the event pattern is ${text.length} characters; EventBridge allows ${MAX_PATTERN_LENGTH}`, sub.name);
  }
  try {
    return compileEventPattern(sub.pattern);
  } catch (err) {
    if (err instanceof InvalidEventPatternError) throw new SubscriptionsConfigError(source, err.message, sub.name, err);
    throw err;
  }
}

/**
 * Validates a parsed subscriptions file and combines it with the standard subscriptions. Checks, each
 * failure naming the rule: the schema; unique names (standard names are taken); every pattern with the
 * EventBridge pattern engine (and its 4096-character limit); every topic a rule uses by id has
 * subscribers (or is a standard topic), and every configured topic is used; at most 5 local targets
 * per rule. Pure: no I/O.
 */
export function buildAlertsConfig(raw: unknown, source: string, standard: readonly Subscription[] = STANDARD_SUBSCRIPTIONS): AlertsConfig {
  const parsed = SubscriptionsFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const [head, index, ...rest] = issue.path;
    if (head === 'subscriptions' && typeof index === 'number') {
      const name = rawRuleName(raw, index);
      const where = `${formatPath(rest, `subscriptions[${index}]`)}`;
      throw new SubscriptionsConfigError(source, `${where}: ${issue.message}`, name, parsed.error);
    }
    throw new SubscriptionsConfigError(source, `${formatPath(issue.path)}: ${issue.message}`, undefined, parsed.error);
  }
  const file = parsed.data;

  const rules: AlertRule[] = standard.map((subscription) => ({ subscription, origin: 'standard', pattern: compile(subscription, 'standard subscriptions') }));
  const names = new Set(standard.map((s) => s.name));
  for (const sub of file.subscriptions) {
    if (names.has(sub.name)) {
      const standardName = standard.some((s) => s.name === sub.name);
      throw new SubscriptionsConfigError(source, standardName ? 'the name is taken by a standard subscription' : 'defined twice', sub.name);
    }
    names.add(sub.name);
    rules.push({ subscription: sub, origin: 'file', pattern: compile(sub, source) });
  }

  const standardTopics = new Set(standard.flatMap((s) => s.targets.filter((t) => t.kind === 'topic').map((t) => t.id)));
  const usedTopics = new Set<string>();
  for (const { subscription: sub, origin } of rules) {
    for (const t of sub.targets) {
      if (t.kind !== 'topic') continue;
      usedTopics.add(t.id);
      if (origin === 'file' && !standardTopics.has(t.id) && file.topics[t.id] === undefined) {
        throw new SubscriptionsConfigError(source, `topic ${t.id} has no subscribers: add it under "topics" with its webhooks`, sub.name);
      }
    }
    try {
      // Where the local stack's limits bite: more targets than a rule may have.
      localTargets(sub, { dir: '/', topics: file.topics });
    } catch (err) {
      if (err instanceof ConfigError) throw new SubscriptionsConfigError(source, err.message, undefined, err);
      throw err;
    }
  }
  for (const id of Object.keys(file.topics)) {
    if (!usedTopics.has(id)) {
      throw new SubscriptionsConfigError(source, `topics.${id}: no subscription delivers to topic ${id} (topics in use: ${[...usedTopics].sort().join(', ') || 'none'})`);
    }
  }
  return { source, rules, topics: file.topics };
}

/** Parses the text of a subscriptions file (JSON) and validates it with {@link buildAlertsConfig}. */
export function parseAlertsConfig(text: string, source: string, standard: readonly Subscription[] = STANDARD_SUBSCRIPTIONS): AlertsConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new SubscriptionsConfigError(source, `not valid JSON (${err instanceof Error ? err.message : String(err)})`, undefined, err);
  }
  return buildAlertsConfig(raw, source, standard);
}

/** The standard subscriptions alone. */
export function standardAlertsConfig(): AlertsConfig {
  return { ...buildAlertsConfig({}, 'standard subscriptions'), source: undefined };
}

/** Where the subscriptions come from. */
export interface AlertsConfigSource {
  /** An explicit file (`--subscriptions`); it must exist. */
  readonly file?: string;
  /** The command's environment: `PUMPWATCH_SUBSCRIPTIONS_FILE` names a file that must exist. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Where `pumpwatch.subscriptions.json` is looked for (default the working directory). */
  readonly cwd?: string;
}

/**
 * Reads the alert subscriptions: the standard ones plus the subscriptions file — the one named by
 * `file`, else by `PUMPWATCH_SUBSCRIPTIONS_FILE`, else `pumpwatch.subscriptions.json` in the working
 * directory when it exists. Throws {@link SubscriptionsConfigError} naming the file and the rule.
 */
export function readAlertsConfig(from: AlertsConfigSource = {}): AlertsConfig {
  const cwd = from.cwd ?? process.cwd();
  const named = from.file ?? (from.env?.[ENV.subscriptionsFile] || undefined);
  let path: string;
  if (named !== undefined) {
    path = resolve(cwd, named);
    if (!existsSync(path)) {
      const how = from.file !== undefined ? '--subscriptions' : ENV.subscriptionsFile;
      throw new SubscriptionsConfigError(named, `the subscriptions file does not exist (named by ${how})`);
    }
  } else {
    path = resolve(cwd, DEFAULT_SUBSCRIPTIONS_FILE);
    if (!existsSync(path)) return standardAlertsConfig();
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SubscriptionsConfigError(path, `cannot read the subscriptions file (${err instanceof Error ? err.message : String(err)})`, undefined, err);
  }
  return parseAlertsConfig(text, path);
}
