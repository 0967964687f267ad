import {
  type EventBridgeClient,
  ListTargetsByRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
  type Target,
} from '@aws-sdk/client-eventbridge';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Subscription, SubscriptionTarget } from '../../shared/subscriptions';
import { listenerArn } from './eventbridge/index';

/** How the local stack realises the logical subscription targets. */
export interface LocalTargetOptions {
  /** Folder for queue and log targets (JSON lines) and the dead letters. */
  readonly dir: string;
  /** Webhooks per topic id (the SNS-like fan-out). */
  readonly webhooks?: Readonly<Record<string, readonly string[]>>;
  /** Also deliver topic and log events to an in-process listener named after the target. */
  readonly listeners?: boolean;
}

/** The in-process listener name of a logical target. */
export function listenerName(target: SubscriptionTarget): string {
  return `${target.kind}-${target.id}`;
}

function localTargets(sub: Subscription, options: LocalTargetOptions): Target[] {
  const out: Target[] = [];
  const deadLetter = { Arn: pathToFileURL(join(options.dir, 'dead-letters', `${sub.name}.jsonl`)).href };
  const retry = { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 3600 };
  for (const t of sub.targets) {
    const base = `${t.kind}-${t.id}`;
    if (t.kind === 'queue' || t.kind === 'log') {
      out.push({ Id: `${base}-file`, Arn: pathToFileURL(join(options.dir, `${t.kind}s`, `${t.id}.jsonl`)).href, DeadLetterConfig: deadLetter, RetryPolicy: retry });
    }
    if (t.kind === 'topic') {
      (options.webhooks?.[t.id] ?? []).forEach((url, i) => out.push({ Id: `${base}-webhook-${i}`, Arn: url, DeadLetterConfig: deadLetter, RetryPolicy: retry }));
    }
    if (options.listeners !== false && (t.kind === 'topic' || t.kind === 'log')) {
      out.push({ Id: `${base}-listener`, Arn: listenerArn(listenerName(t)), DeadLetterConfig: deadLetter, RetryPolicy: retry });
    }
  }
  // EventBridge allows 5 targets per rule.
  return out.slice(0, 5);
}

/**
 * Creates (or updates) the subscription rules on the local bus with the same names and patterns
 * the CDK alerts stack deploys, and points their targets at local equivalents. Idempotent: stale
 * targets of a rule are removed.
 */
export async function applySubscriptions(
  client: EventBridgeClient,
  eventBusName: string,
  subscriptions: readonly Subscription[],
  options: LocalTargetOptions,
): Promise<void> {
  for (const sub of subscriptions) {
    await client.send(
      new PutRuleCommand({ Name: sub.name, EventBusName: eventBusName, EventPattern: JSON.stringify(sub.pattern), Description: sub.description, State: 'ENABLED' }),
    );
    const targets = localTargets(sub, options);
    const existing = (await client.send(new ListTargetsByRuleCommand({ Rule: sub.name, EventBusName: eventBusName }))).Targets ?? [];
    const stale = existing.map((t) => t.Id!).filter((id) => !targets.some((t) => t.Id === id));
    if (stale.length > 0) await client.send(new RemoveTargetsCommand({ Rule: sub.name, EventBusName: eventBusName, Ids: stale }));
    if (targets.length > 0) await client.send(new PutTargetsCommand({ Rule: sub.name, EventBusName: eventBusName, Targets: targets }));
  }
}
