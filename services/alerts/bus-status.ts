import { type EventBridgeClient, ListRulesCommand, type Rule } from '@aws-sdk/client-eventbridge';
import { isDeepStrictEqual } from 'node:util';
import { TransientError } from '../../shared/errors';
import type { ConfiguredSubscription } from '../../shared/subscriptions';

/**
 * A configured subscription's rule on the bus: there with the configured pattern (`present`), there
 * but disabled, there with another pattern (`differs`: re-run `local up` to apply the
 * configuration), or `missing`.
 */
export type RuleStatus = 'present' | 'disabled' | 'differs' | 'missing';

/** Every rule of a bus, following ListRules pages. */
async function listRules(client: EventBridgeClient, eventBusName: string, signal?: AbortSignal): Promise<Rule[]> {
  const rules: Rule[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListRulesCommand({ EventBusName: eventBusName, NextToken: token }), { abortSignal: signal });
    rules.push(...(page.Rules ?? []));
    token = page.NextToken;
  } while (token !== undefined);
  return rules;
}

function parsePattern(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The status of each subscription's rule on the bus (local rule names are the subscription names).
 * Throws TransientError when the bus cannot be asked.
 */
export async function ruleStatuses(
  client: EventBridgeClient,
  eventBusName: string,
  subscriptions: readonly ConfiguredSubscription[],
  signal?: AbortSignal,
): Promise<Map<string, RuleStatus>> {
  let rules: Rule[];
  try {
    rules = await listRules(client, eventBusName, signal);
  } catch (err) {
    throw new TransientError(`cannot list the rules of bus ${eventBusName}: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  const byName = new Map(rules.map((r) => [r.Name, r]));
  const out = new Map<string, RuleStatus>();
  for (const sub of subscriptions) {
    const rule = byName.get(sub.name);
    if (!rule) out.set(sub.name, 'missing');
    else if (!isDeepStrictEqual(parsePattern(rule.EventPattern), sub.pattern)) out.set(sub.name, 'differs');
    else out.set(sub.name, rule.State === 'DISABLED' ? 'disabled' : 'present');
  }
  return out;
}

/** True when a local bus answers its health check at `endpoint` within `timeoutMs`. */
export async function localBusReachable(endpoint: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const res = await fetch(new URL('/health', endpoint), { signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}
