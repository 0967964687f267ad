import {
  type EventBridgeClient,
  ListTargetsByRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
  type RetryPolicy as SdkRetryPolicy,
  type Target,
} from '@aws-sdk/client-eventbridge';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../../shared/errors';
import type { ConfiguredSubscription, ConfiguredTarget, RetryPolicy, SubscriptionTarget, Topic } from '../../shared/subscriptions';
import { type DeliveryInfo, type EventBridgeEnvelope, listenerArn } from './eventbridge/index';

/** How the local stack realises the subscription targets. */
export interface LocalTargetOptions {
  /** Folder for queue, log and (relative) file targets, and the dead letters. */
  readonly dir: string;
  /** Webhooks per topic id (the SNS-like fan-out), as plain URLs. */
  readonly webhooks?: Readonly<Record<string, readonly string[]>>;
  /** Topic subscribers from the subscriptions file (webhooks with headers, retry policy, dead-letter file). */
  readonly topics?: Readonly<Record<string, Topic>>;
  /** Also deliver topic and log events to an in-process listener named after the target. */
  readonly listeners?: boolean;
}

/** EventBridge allows 5 targets per rule; the local bus enforces it too. */
export const MAX_LOCAL_TARGETS_PER_RULE = 5;

/** The local retry policy of a target unless configured: 8 retries within an hour. */
export const DEFAULT_LOCAL_RETRY = { maximumRetryAttempts: 8, maximumEventAgeSeconds: 3600 } as const;

/** The in-process listener name of a logical target. */
export function listenerName(target: SubscriptionTarget): string {
  return `${target.kind}-${target.id}`;
}

/**
 * The JSON-lines file a target writes to locally, or undefined for targets without one (topics and
 * webhooks). Queue and log targets write `<dir>/queues/<id>.jsonl` and `<dir>/logs/<id>.jsonl`;
 * a file target's relative path is resolved against `dir`.
 */
export function localTargetFile(target: ConfiguredTarget, dir: string): string | undefined {
  switch (target.kind) {
    case 'queue':
    case 'log':
      return join(dir, `${target.kind}s`, `${target.id}.jsonl`);
    case 'file':
      return resolve(dir, target.path);
    default:
      return undefined;
  }
}

/** The dead-letter file of a rule's targets unless a target names its own. */
export function defaultDeadLetterFile(ruleName: string, dir: string): string {
  return join(dir, 'dead-letters', `${ruleName}.jsonl`);
}

function retryPolicy(retry: RetryPolicy | undefined): SdkRetryPolicy {
  return {
    MaximumRetryAttempts: retry?.maximumRetryAttempts ?? DEFAULT_LOCAL_RETRY.maximumRetryAttempts,
    MaximumEventAgeInSeconds: retry?.maximumEventAgeSeconds ?? DEFAULT_LOCAL_RETRY.maximumEventAgeSeconds,
  };
}

function fileArn(path: string): string {
  return pathToFileURL(path).href;
}

/**
 * The local bus targets of one subscription:
 * - queue / log: a JSON-lines file ({@link localTargetFile}); log also an in-process listener;
 * - topic: one webhook target per subscriber (SNS-like fan-out: each has its own queue, retries
 *   and dead letters, so one failing subscriber holds back no other) and an in-process listener;
 * - webhook: the URL, with its headers, retry policy and dead-letter file;
 * - file: a JSON-lines file.
 * Throws a ConfigError when the rule would need more than 5 targets (EventBridge's limit), rather
 * than dropping some.
 */
export function localTargets(sub: ConfiguredSubscription, options: LocalTargetOptions): Target[] {
  const out: Target[] = [];
  const deadLetter = (file: string | undefined) => ({ Arn: fileArn(file === undefined ? defaultDeadLetterFile(sub.name, options.dir) : resolve(options.dir, file)) });
  const listeners = options.listeners !== false;
  sub.targets.forEach((t, index) => {
    switch (t.kind) {
      case 'queue':
      case 'log': {
        const base = `${t.kind}-${t.id}`;
        out.push({ Id: `${base}-file`, Arn: fileArn(localTargetFile(t, options.dir)!), DeadLetterConfig: deadLetter(undefined), RetryPolicy: retryPolicy(undefined) });
        if (listeners && t.kind === 'log') out.push({ Id: `${base}-listener`, Arn: listenerArn(listenerName(t)), DeadLetterConfig: deadLetter(undefined), RetryPolicy: retryPolicy(undefined) });
        break;
      }
      case 'topic': {
        const base = `${t.kind}-${t.id}`;
        const topic = options.topics?.[t.id];
        const subscribers = [...(options.webhooks?.[t.id] ?? []).map((url) => ({ url, headers: undefined })), ...(topic?.webhooks ?? [])];
        subscribers.forEach((w, i) =>
          out.push({
            Id: `${base}-webhook-${i}`,
            Arn: w.url,
            ...(w.headers ? { HttpParameters: { HeaderParameters: { ...w.headers } } } : {}),
            DeadLetterConfig: deadLetter(topic?.deadLetterFile),
            RetryPolicy: retryPolicy(topic?.retry),
          }),
        );
        if (listeners) out.push({ Id: `${base}-listener`, Arn: listenerArn(listenerName(t)), DeadLetterConfig: deadLetter(undefined), RetryPolicy: retryPolicy(undefined) });
        break;
      }
      case 'webhook':
        out.push({
          Id: `webhook-${index}`,
          Arn: t.url,
          ...(t.headers ? { HttpParameters: { HeaderParameters: { ...t.headers } } } : {}),
          DeadLetterConfig: deadLetter(t.deadLetterFile),
          RetryPolicy: retryPolicy(t.retry),
        });
        break;
      case 'file':
        out.push({ Id: `file-${index}`, Arn: fileArn(localTargetFile(t, options.dir)!), DeadLetterConfig: deadLetter(undefined), RetryPolicy: retryPolicy(undefined) });
        break;
    }
  });
  if (out.length > MAX_LOCAL_TARGETS_PER_RULE) {
    throw new ConfigError(
      `subscription ${sub.name} needs ${out.length} local targets (${out.map((t) => t.Id).join(', ')}); EventBridge allows ${MAX_LOCAL_TARGETS_PER_RULE} per rule: use fewer webhooks or split the rule`,
    );
  }
  return out;
}

/**
 * Creates (or updates) the subscription rules on the local bus with the same names and patterns
 * the CDK alerts stack deploys, and points their targets at local equivalents (see
 * {@link localTargets}). Idempotent: stale targets of a rule are removed. All targets are checked
 * before the first rule is written, so a bad configuration changes nothing.
 */
export async function applySubscriptions(
  client: EventBridgeClient,
  eventBusName: string,
  subscriptions: readonly ConfiguredSubscription[],
  options: LocalTargetOptions,
): Promise<void> {
  const planned = subscriptions.map((sub) => ({ sub, targets: localTargets(sub, options) }));
  for (const { sub, targets } of planned) {
    await client.send(
      new PutRuleCommand({ Name: sub.name, EventBusName: eventBusName, EventPattern: JSON.stringify(sub.pattern), Description: sub.description, State: 'ENABLED' }),
    );
    const existing = (await client.send(new ListTargetsByRuleCommand({ Rule: sub.name, EventBusName: eventBusName }))).Targets ?? [];
    const stale = existing.map((t) => t.Id!).filter((id) => !targets.some((t) => t.Id === id));
    if (stale.length > 0) await client.send(new RemoveTargetsCommand({ Rule: sub.name, EventBusName: eventBusName, Ids: stale }));
    if (targets.length === 0) continue;
    const put = await client.send(new PutTargetsCommand({ Rule: sub.name, EventBusName: eventBusName, Targets: targets }));
    const failed = put.FailedEntries ?? [];
    if (failed.length > 0) {
      throw new ConfigError(`subscription ${sub.name}: the bus refused ${failed.map((f) => `target ${f.TargetId ?? '?'} (${f.ErrorCode ?? 'error'}: ${f.ErrorMessage ?? ''})`).join(', ')}`);
    }
  }
}

/**
 * Registers one in-process listener per topic/log target of the subscriptions on the local bus;
 * `onEvent` receives each delivery with the rule it came through (several rules may share a target).
 */
export function listenToSubscriptions(
  bus: { addListener(name: string, fn: (event: EventBridgeEnvelope, info: DeliveryInfo) => void | Promise<void>): void },
  subscriptions: readonly ConfiguredSubscription[],
  onEvent: (ruleName: string, event: EventBridgeEnvelope) => void,
): void {
  const names = new Set<string>();
  for (const sub of subscriptions) {
    for (const t of sub.targets) if (t.kind === 'topic' || t.kind === 'log') names.add(listenerName(t));
  }
  for (const name of names) bus.addListener(name, (event, info) => onEvent(info.ruleName, event));
}
