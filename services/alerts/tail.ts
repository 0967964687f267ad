import * as fs from 'node:fs';
import { sleep } from '../../shared/clock';
import { prepareEvent } from '../../shared/event-pattern';
import { NotFoundError } from '../../shared/errors';
import { type EventBridgeEnvelope, EventBridgeEnvelopeSchema } from '../local/eventbridge/index';
import { localTargetFile } from '../local/subscriptions';
import type { AlertRule, AlertsConfig } from './config';

/** A line appended to a followed file. */
export interface FollowedLine {
  readonly file: string;
  readonly line: string;
}

interface FileState {
  offset: number;
  ino: number | undefined;
  partial: Buffer;
}

const READ_CHUNK = 1 << 20;

async function statOrUndefined(file: string): Promise<fs.Stats | undefined> {
  try {
    return await fs.promises.stat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Follows JSON-lines files by polling, like `tail -F`: complete lines only (a partly written last
 * line waits for its newline), files that do not exist yet are read from their start once they
 * appear, and a file that shrinks or is replaced is read again from its start.
 */
export class JsonLinesFollower {
  private readonly state = new Map<string, FileState>();

  constructor(private readonly files: readonly string[]) {}

  /** Sets the start: the beginning of each file, or its current end. */
  async start(fromBeginning: boolean): Promise<void> {
    for (const file of this.files) {
      const st = await statOrUndefined(file);
      this.state.set(file, { offset: fromBeginning || !st ? 0 : st.size, ino: st?.ino, partial: Buffer.alloc(0) });
    }
  }

  /** The complete lines appended since the last poll, file by file, in file order. */
  async poll(): Promise<FollowedLine[]> {
    const out: FollowedLine[] = [];
    for (const file of this.files) {
      let s = this.state.get(file);
      if (!s) {
        s = { offset: 0, ino: undefined, partial: Buffer.alloc(0) };
        this.state.set(file, s);
      }
      const st = await statOrUndefined(file);
      if (!st) {
        s.offset = 0;
        s.ino = undefined;
        s.partial = Buffer.alloc(0);
        continue;
      }
      if (st.size < s.offset || (s.ino !== undefined && st.ino !== s.ino)) {
        s.offset = 0;
        s.partial = Buffer.alloc(0);
      }
      s.ino = st.ino;
      if (st.size === s.offset) continue;
      const handle = await fs.promises.open(file, 'r');
      try {
        while (s.offset < st.size) {
          const buf = Buffer.alloc(Math.min(READ_CHUNK, st.size - s.offset));
          const { bytesRead } = await handle.read(buf, 0, buf.length, s.offset);
          if (bytesRead === 0) break;
          s.offset += bytesRead;
          const text = Buffer.concat([s.partial, buf.subarray(0, bytesRead)]);
          const lastNewline = text.lastIndexOf(0x0a);
          if (lastNewline < 0) {
            s.partial = text;
            continue;
          }
          s.partial = Buffer.from(text.subarray(lastNewline + 1));
          for (const line of text.subarray(0, lastNewline).toString('utf8').split('\n')) {
            const trimmed = line.replace(/\r$/, '');
            if (trimmed !== '') out.push({ file, line: trimmed });
          }
        }
      } finally {
        await handle.close();
      }
    }
    return out;
  }
}

/** What `alerts tail` follows: the selected rules and the files their events are read from. */
export interface TailPlan {
  readonly rules: readonly AlertRule[];
  readonly files: readonly string[];
  /** Selected rules that write no local file (topic and webhook targets only): their events are taken from the other subscriptions' files. */
  readonly borrowed: readonly string[];
}

/**
 * Plans a tail of the local subscription files under `dir`. A selected rule's events are read from
 * its own queue, log and file targets; a rule without any is followed through every subscription
 * file (all rules see every event on the bus, so an event in any file that matches the rule's
 * pattern is an event the rule received). Throws NotFoundError for an unknown rule name.
 */
export function planTail(config: AlertsConfig, dir: string, ruleNames: readonly string[] = []): TailPlan {
  for (const name of ruleNames) {
    if (!config.rules.some((r) => r.subscription.name === name)) {
      throw new NotFoundError(`no subscription named ${name} (configured: ${config.rules.map((r) => r.subscription.name).join(', ')})`);
    }
  }
  const rules = ruleNames.length === 0 ? config.rules : config.rules.filter((r) => ruleNames.includes(r.subscription.name));
  const filesOf = (r: AlertRule): string[] => r.subscription.targets.flatMap((t) => localTargetFile(t, dir) ?? []);
  const all = [...new Set(config.rules.flatMap(filesOf))];
  const borrowed = rules.filter((r) => filesOf(r).length === 0).map((r) => r.subscription.name);
  const files = borrowed.length > 0 ? all : [...new Set(rules.flatMap(filesOf))];
  return { rules, files, borrowed };
}

/** One event as one subscription saw it. */
export interface TailedEvent {
  readonly rule: string;
  readonly file: string;
  readonly event: EventBridgeEnvelope;
}

/** Options of a {@link SubscriptionTail}. */
export interface SubscriptionTailOptions {
  /** Called for a line that is not an EventBridge event (once per file). */
  readonly onInvalidLine?: (file: string, reason: string) => void;
}

const MAX_REMEMBERED = 10_000;

/**
 * Follows the local subscription files of a {@link TailPlan} and yields each event once per
 * selected rule whose pattern matches it. The same event reaches several files when several
 * targets receive it; it is shown once per rule (by the EventBridge event id).
 */
export class SubscriptionTail {
  private readonly follower: JsonLinesFollower;
  private readonly seen = new Set<string>();
  private readonly warned = new Set<string>();

  constructor(
    private readonly plan: TailPlan,
    private readonly options: SubscriptionTailOptions = {},
  ) {
    this.follower = new JsonLinesFollower(plan.files);
  }

  /** Sets the start: what the files already hold (`fromBeginning`), or only what is appended from now on. */
  start(fromBeginning: boolean): Promise<void> {
    return this.follower.start(fromBeginning);
  }

  /** The events appended since the last poll. */
  async poll(): Promise<TailedEvent[]> {
    const out: TailedEvent[] = [];
    for (const { file, line } of await this.follower.poll()) {
      const event = this.parse(file, line);
      if (!event) continue;
      const prepared = prepareEvent(event);
      for (const rule of this.plan.rules) {
        const name = rule.subscription.name;
        if (!rule.pattern.matches(prepared)) continue;
        const key = `${name}\u0000${event.id}`;
        if (this.seen.has(key)) continue;
        this.remember(key);
        out.push({ rule: name, file, event });
      }
    }
    return out;
  }

  /** Polls every `intervalMs` until the signal aborts, handing each event to `onEvent`. */
  async follow(options: { signal: AbortSignal; intervalMs: number; onEvent: (e: TailedEvent) => void }): Promise<void> {
    while (!options.signal.aborted) {
      for (const e of await this.poll()) options.onEvent(e);
      await sleep(options.intervalMs, options.signal).catch(() => undefined);
    }
  }

  private parse(file: string, line: string): EventBridgeEnvelope | undefined {
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      this.warn(file, 'a line is not JSON');
      return undefined;
    }
    const parsed = EventBridgeEnvelopeSchema.safeParse(value);
    if (!parsed.success) {
      this.warn(file, 'a line is not an EventBridge event');
      return undefined;
    }
    return parsed.data;
  }

  private warn(file: string, reason: string): void {
    if (this.warned.has(file)) return;
    this.warned.add(file);
    this.options.onInvalidLine?.(file, reason);
  }

  private remember(key: string): void {
    this.seen.add(key);
    if (this.seen.size > MAX_REMEMBERED) {
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }
}
