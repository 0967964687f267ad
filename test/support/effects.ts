import type { LocalStack } from '../../services/local/stack';
import { DynamoDbWindowStore, type WindowItem } from '../../shared/stores/window-store';
import { waitFor } from './waiting';

/** Every live window in the history for these pumps. */
export async function allWindows(stack: LocalStack, pumpIds: Iterable<string>): Promise<WindowItem[]> {
  const store = new DynamoDbWindowStore(stack.clients.doc, stack.config.names.tables.windows);
  const out: WindowItem[] = [];
  for (const p of pumpIds) out.push(...(await store.query(p)));
  return out;
}

/** Differences between expected samples per (pump, window) and what the history holds. */
export function windowDiff(expected: ReadonlyMap<string, number>, windows: readonly WindowItem[]): string[] {
  const got = new Map<string, number>();
  const problems: string[] = [];
  for (const w of windows) {
    const key = `${w.pumpId}|${w.windowStart}`;
    if (got.has(key)) problems.push(`duplicate window ${key}`);
    got.set(key, w.features.quality.receivedSamples);
  }
  for (const [key, n] of expected) {
    if (!got.has(key)) problems.push(`missing window ${key} (${n} samples sent)`);
    else if (got.get(key) !== n) problems.push(`window ${key}: ${got.get(key)} samples stored, ${n} sent`);
  }
  for (const key of got.keys()) if (!expected.has(key)) problems.push(`unexpected window ${key}`);
  return problems;
}

/** Waits until the history holds exactly the expected windows; returns the remaining differences on timeout. */
export async function waitForWindows(stack: LocalStack, expected: ReadonlyMap<string, number>, timeoutMs: number): Promise<string[]> {
  const pumps = new Set([...expected.keys()].map((k) => k.split('|')[0]!));
  let last: string[] = [];
  try {
    await waitFor(
      'window history to match what was sent',
      async () => {
        last = windowDiff(expected, await allWindows(stack, pumps));
        return last.length === 0;
      },
      timeoutMs,
      500,
    );
  } catch {
    return last;
  }
  return [];
}
