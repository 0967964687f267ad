import { type Command, InvalidArgumentError } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type CompiledEventPattern, compileEventPattern, InvalidEventPatternError } from '../../../shared/event-pattern';
import { ENV } from '../../../shared/env';
import { PumpwatchError } from '../../../shared/errors';
import { PumpEventDetailSchema } from '../../../shared/schemas/events';
import type { ConfiguredTarget } from '../../../shared/subscriptions';
import { type RuleStatus, localBusReachable, ruleStatuses } from '../../alerts/bus-status';
import { type AlertRule, type AlertsConfig, DEFAULT_SUBSCRIPTIONS_DIR, MAX_PATTERN_LENGTH, readAlertsConfig, subscriptionsOf } from '../../alerts/config';
import { SubscriptionTail, planTail, type TailedEvent } from '../../alerts/tail';
import { matchingRules, toEventBridgeEvent } from '../../alerts/test-event';
import { type CliContext, commandEnv, type GlobalOptions } from '../context';
import { iso, paint, printJson } from '../output';
import { formatEventLine } from './events';

/** `alerts test` exit codes (DESIGN.md §8), like grep's: match, no match, error. */
export const ALERTS_TEST_EXIT = { match: 0, noMatch: 1, invalid: 2 } as const;

const SUBSCRIPTIONS_HELP = `the subscriptions file (default: $${ENV.subscriptionsFile}, else ./pumpwatch.subscriptions.json when it exists)`;

/** A URL without its path and query, which often carry a secret (chat webhooks, tokens). */
function redactUrl(text: string): string {
  const url = new URL(text);
  return url.pathname === '/' && url.search === '' ? url.origin : `${url.origin}/…`;
}

/** A target for output: secrets left out (URL paths and queries, header values). */
function targetView(t: ConfiguredTarget, config: AlertsConfig): Record<string, unknown> {
  switch (t.kind) {
    case 'topic': {
      const topic = config.topics[t.id];
      return { kind: t.kind, id: t.id, webhooks: (topic?.webhooks ?? []).map((w) => redactUrl(w.url)) };
    }
    case 'queue':
    case 'log':
      return { kind: t.kind, id: t.id };
    case 'webhook':
      return {
        kind: t.kind,
        url: redactUrl(t.url),
        ...(t.headers ? { headers: Object.keys(t.headers) } : {}),
        ...(t.retry ? { retry: t.retry } : {}),
        ...(t.deadLetterFile ? { deadLetterFile: t.deadLetterFile } : {}),
      };
    case 'file':
      return { kind: t.kind, path: t.path };
  }
}

function describeTarget(t: ConfiguredTarget, config: AlertsConfig): string {
  switch (t.kind) {
    case 'topic': {
      const n = config.topics[t.id]?.webhooks.length ?? 0;
      return `topic ${t.id} (AWS: SNS topic; local: ${n === 0 ? 'console' : `${n} webhook${n === 1 ? '' : 's'} + console`})`;
    }
    case 'queue':
      return `queue ${t.id} (AWS: SQS queue; local: queues/${t.id}.jsonl)`;
    case 'log':
      return `log ${t.id} (AWS: CloudWatch Logs group; local: logs/${t.id}.jsonl + console)`;
    case 'webhook': {
      const retries = t.retry?.maximumRetryAttempts;
      return `webhook ${redactUrl(t.url)} (local only${retries === undefined ? '' : `; ${retries} retries`}${t.deadLetterFile ? `; dead letters ${t.deadLetterFile}` : ''})`;
    }
    case 'file':
      return `file ${t.path} (local only)`;
  }
}

function subscriptionView(rule: AlertRule, config: AlertsConfig, bus?: RuleStatus | null): Record<string, unknown> {
  const s = rule.subscription;
  return {
    name: s.name,
    origin: rule.origin,
    description: s.description,
    pattern: s.pattern,
    targets: s.targets.map((t) => targetView(t, config)),
    ...(bus === undefined ? {} : { bus }),
  };
}

function busColor(status: RuleStatus): string {
  return status === 'present' ? 'green' : status === 'missing' ? 'red' : 'yellow';
}

/** Reads a JSON file ('-' = standard input); errors name the file. */
function readText(file: string): string {
  try {
    return file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (err) {
    throw new PumpwatchError(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`, { code: 'READ_FAILED', cause: err });
  }
}

function parseJson(text: string, file: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new PumpwatchError(`${what} ${file} is not valid JSON (${err instanceof Error ? err.message : String(err)})`, { code: 'INVALID_JSON', cause: err });
  }
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

function tailLine(e: TailedEvent): string {
  const detail = PumpEventDetailSchema.safeParse(e.event.detail);
  if (detail.success) {
    return `[${e.rule}] ${formatEventLine({ time: Date.parse(e.event.time), detailType: e.event['detail-type'], pumpId: detail.data.pumpId, detail: detail.data })}`;
  }
  return `[${e.rule}] ${iso(Date.parse(e.event.time))}  ${e.event.source}  ${e.event['detail-type']}  ${e.event.id}`;
}

interface TestOptions {
  event: string;
  pattern?: string;
  subscriptions?: string;
  json?: boolean;
}

/**
 * `pumpwatch alerts list|test|tail`: the alert subscriptions (standard plus the subscriptions file),
 * checking events against patterns, and following what the local subscribers receive.
 */
export function registerAlerts(program: Command, ctx: () => CliContext): void {
  const env = (): Record<string, string | undefined> => commandEnv(program.opts<GlobalOptions>());
  const loadConfig = (file: string | undefined): AlertsConfig => readAlertsConfig({ file, env: env() });

  const alerts = program
    .command('alerts')
    .description('alert subscriptions: EventBridge rules with their patterns and targets (standard + pumpwatch.subscriptions.json)');

  alerts
    .command('list')
    .description('the configured subscriptions: name, description, pattern, targets; with a local bus running, whether each rule is on it')
    .option('--subscriptions <file>', SUBSCRIPTIONS_HELP)
    .option('--json', 'machine-readable output')
    .action(async (opts: { subscriptions?: string; json?: boolean }) => {
      const config = loadConfig(opts.subscriptions);
      const statuses = await busStatuses(config);
      if (opts.json) {
        printJson(config.rules.map((r) => subscriptionView(r, config, statuses ? (statuses.get(r.subscription.name) ?? null) : null)));
        return;
      }
      const lines = [`subscriptions: standard${config.source ? ` + ${config.source}` : ' (no subscriptions file)'}`, ''];
      for (const rule of config.rules) {
        const s = rule.subscription;
        const status = statuses?.get(s.name);
        lines.push(`${paint('bold', s.name)} (${rule.origin})${status ? `  on the bus: ${paint(busColor(status), status)}` : ''}`);
        if (s.description) lines.push(`  ${s.description}`);
        lines.push(`  pattern  ${JSON.stringify(s.pattern)}`);
        s.targets.forEach((t, i) => lines.push(`  ${i === 0 ? 'targets' : '       '}  ${describeTarget(t, config)}`));
        lines.push('');
      }
      process.stdout.write(lines.join('\n'));
    });

  alerts
    .command('test')
    .description('check an event against a pattern (exit 0 match, 1 no match, 2 invalid pattern), or list the configured subscriptions it would reach')
    .requiredOption('--event <file>', "the event: an EventBridge event, or a pumpwatch event as in the outbox ({detailType, detail}); '-' reads standard input")
    .option('--pattern <file>', 'an EventBridge event pattern (JSON); without it, every configured subscription is tried')
    .option('--subscriptions <file>', SUBSCRIPTIONS_HELP)
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      [
        '',
        'Exit status: 0 the pattern matches (without --pattern: at least one subscription matches),',
        '1 it does not (no subscription matches), 2 the pattern is invalid or a file cannot be used.',
        '',
        'The event file holds one event, either',
        '  an EventBridge event, matched exactly as given:',
        '    {"version":"0","id":"…","detail-type":"Pump Condition Changed","source":"pumpwatch","account":"…",',
        '     "time":"2026-01-01T00:00:00Z","region":"us-east-1","resources":[],"detail":{…}}',
        '  or a pumpwatch event as in the outbox (`pumpwatch events list --json` prints them):',
        '    {"eventId":"…","detailType":"Pump Condition Changed","time":1767225600000,"detail":{…}}',
        '  which is wrapped as the bus delivers it: source "pumpwatch", account 000000000000, the region',
        '  of AWS_REGION (default us-east-1), time from `time` (epoch ms or ISO-8601; default now).',
        '',
        'Examples:',
        '  pumpwatch alerts test --pattern alarm-pattern.json --event event.json && echo matches',
        "  pumpwatch events list --json --limit 1 | jq '.[0]' | pumpwatch alerts test --event -",
      ].join('\n'),
    )
    .action((opts: TestOptions) => {
      process.exitCode = runTest(opts, env(), loadConfig);
    });

  alerts
    .command('tail')
    .description('follow events live as the subscribers of the LOCAL stack receive them (its queue, log and file targets); Ctrl-C to stop')
    .option('--rule <name>', 'only this subscription (repeatable)', (v: string, p: string[]) => [...p, v], [] as string[])
    .option('--dir <dir>', `the local subscriptions folder (default: $${ENV.subscriptionsDir}, else ${DEFAULT_SUBSCRIPTIONS_DIR}; with \`local up --data DIR\`: DIR/subscriptions)`)
    .option('--from-beginning', 'first show what the files already hold')
    .option('--no-follow', 'stop after showing what is there (use with --from-beginning)')
    .option('--interval <ms>', 'poll interval', positiveInt, 500)
    .option('--subscriptions <file>', SUBSCRIPTIONS_HELP)
    .option('--json', 'one JSON object per line: {rule, file, event}')
    .addHelpText(
      'after',
      [
        '',
        'tail follows the local stack only: there, queue targets write <dir>/queues/<id>.jsonl, log targets',
        '<dir>/logs/<id>.jsonl and file targets their path (relative paths are under <dir>). A subscription',
        'without such a target (a topic or webhooks only) is shown from the events in the other files that',
        'match its pattern. Dead letters are in <dir>/dead-letters/<rule>.jsonl.',
        '',
        'On AWS the same subscriptions deliver to an SQS queue (pumpwatch-<stage>-<id>: receive with',
        '`aws sqs receive-message`), a CloudWatch Logs group (/aws/events/pumpwatch-<stage>-<id>: follow with',
        '`aws logs tail --follow`) and an SNS topic (pumpwatch-<stage>-<id>: subscribe an endpoint).',
      ].join('\n'),
    )
    .action(
      async (opts: { rule: string[]; dir?: string; fromBeginning?: boolean; follow: boolean; interval: number; subscriptions?: string; json?: boolean }) => {
        const config = loadConfig(opts.subscriptions);
        const dir = resolve(opts.dir ?? (env()[ENV.subscriptionsDir] || DEFAULT_SUBSCRIPTIONS_DIR));
        const plan = planTail(config, dir, opts.rule);
        const note = (text: string): void => {
          process.stderr.write(`${text}\n`);
        };
        if (plan.files.length === 0) throw new PumpwatchError('no configured subscription writes a local file to follow', { code: 'NOTHING_TO_TAIL' });
        if (!existsSync(dir)) note(`note: ${dir} does not exist yet (is \`pumpwatch local up\` running? with --data DIR, use --dir DIR/subscriptions)`);
        if (plan.borrowed.length > 0) {
          note(`note: ${plan.borrowed.join(', ')} write${plan.borrowed.length === 1 ? 's' : ''} no local file; showing the events in the other subscription files that match`);
        }
        const tail = new SubscriptionTail(plan, { onInvalidLine: (file, reason) => note(`warning: ${file}: ${reason}; such lines are skipped`) });
        await tail.start(opts.fromBeginning === true);
        const show = (e: TailedEvent): void => {
          process.stdout.write(opts.json ? `${JSON.stringify({ rule: e.rule, file: e.file, event: e.event })}\n` : `${tailLine(e)}\n`);
        };
        if (!opts.follow) {
          for (const e of await tail.poll()) show(e);
          return;
        }
        const stop = new AbortController();
        const onSignal = (): void => stop.abort();
        process.once('SIGINT', onSignal);
        process.once('SIGTERM', onSignal);
        try {
          await tail.follow({ signal: stop.signal, intervalMs: opts.interval, onEvent: show });
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
      },
    );

  /** Rule statuses on the local bus; undefined (with a note) when there is none to ask. */
  async function busStatuses(config: AlertsConfig): Promise<Map<string, RuleStatus> | undefined> {
    let context: CliContext;
    try {
      context = ctx();
    } catch (err) {
      process.stderr.write(`note: rules not checked on the bus (${err instanceof Error ? err.message : String(err)})\n`);
      return undefined;
    }
    const endpoint = context.config.endpoints.eventBridge;
    // Only the local bus: its rule names are the subscription names (the CDK app prefixes them).
    if (endpoint === undefined) return undefined;
    if (!(await localBusReachable(endpoint))) {
      process.stderr.write(`note: the local bus at ${endpoint} is not reachable; rules not checked\n`);
      return undefined;
    }
    try {
      return await ruleStatuses(context.clients.eventBridge, context.config.names.eventBusName, subscriptionsOf(config), AbortSignal.timeout(5000));
    } catch (err) {
      process.stderr.write(`note: rules not checked on the bus (${err instanceof Error ? err.message : String(err)})\n`);
      return undefined;
    }
  }
}

/** `alerts test`: returns the exit code; problems are reported on stderr. */
function runTest(opts: TestOptions, env: Record<string, string | undefined>, loadConfig: (file: string | undefined) => AlertsConfig): number {
  const fail = (message: string): number => {
    process.stderr.write(`error: ${message}\n`);
    return ALERTS_TEST_EXIT.invalid;
  };
  const readEvent = (): Record<string, unknown> =>
    toEventBridgeEvent(parseJson(readText(opts.event), opts.event, 'event file'), { nowMs: Date.now(), region: env[ENV.region] || 'us-east-1' });
  try {
    if (opts.pattern !== undefined) {
      // The pattern first: an invalid pattern is reported as such whatever the event.
      let pattern: CompiledEventPattern;
      try {
        pattern = compileEventPattern(readText(opts.pattern));
      } catch (err) {
        if (err instanceof InvalidEventPatternError) return fail(`${opts.pattern}: ${err.message}`);
        throw err;
      }
      const compact = JSON.stringify(pattern.pattern).length;
      if (compact > MAX_PATTERN_LENGTH) return fail(`${opts.pattern}: the event pattern is ${compact} characters; EventBridge allows ${MAX_PATTERN_LENGTH}`);
      const match = pattern.matches(readEvent());
      if (opts.json) printJson({ match });
      else process.stdout.write(match ? 'match\n' : 'no match\n');
      return match ? ALERTS_TEST_EXIT.match : ALERTS_TEST_EXIT.noMatch;
    }
    const event = readEvent();
    const config = loadConfig(opts.subscriptions);
    const matched = matchingRules(config, event);
    if (opts.json) {
      printJson({ matches: matched.map((r) => subscriptionView(r, config)) });
    } else if (matched.length === 0) {
      process.stdout.write(`no configured subscription matches (${config.rules.length} tried)\n`);
    } else {
      const width = Math.max(...matched.map((r) => r.subscription.name.length));
      for (const r of matched) {
        const targets = r.subscription.targets.map((t) => `${t.kind} ${t.kind === 'webhook' ? redactUrl(t.url) : t.kind === 'file' ? t.path : t.id}`).join(', ');
        process.stdout.write(`${r.subscription.name.padEnd(width)}  (${r.origin})  → ${targets}\n`);
      }
    }
    return matched.length > 0 ? ALERTS_TEST_EXIT.match : ALERTS_TEST_EXIT.noMatch;
  } catch (err) {
    if (err instanceof PumpwatchError) return fail(err.message);
    throw err;
  }
}
