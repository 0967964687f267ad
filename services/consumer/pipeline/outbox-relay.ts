import { type EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { backoffDelay, type Clock, sleep } from '../../../shared/clock';
import type { Config } from '../../../shared/config';
import { isRetryableAwsError } from '../../../shared/errors';
import type { Logger } from '../../../shared/logging';
import { EVENT_SOURCE } from '../../../shared/names';
import { LIMITS } from '../../../shared/schemas/limits';
import type { PumpEvent } from '../../../shared/schemas/events';
import type { OutboxStore } from '../../../shared/stores/outbox-store';
import { SPARSE_INDEX_PARTITIONS } from '../../../shared/tables';

/** Per-entry error codes PutEvents may answer with that are worth retrying. */
const RETRYABLE_ENTRY_CODES = new Set(['ThrottlingException', 'InternalFailure', 'InternalException', 'ServiceUnavailable']);

export interface OutboxRelayOptions {
  readonly eventBusName: string;
  /** How often the sweep looks for events left unpublished (e.g. by a crashed worker). */
  readonly sweepIntervalMs: number;
  /** The sweep only takes events older than this, so it does not race the writer's own publish. */
  readonly sweepGraceMs: number;
  readonly maxAttempts: number;
  /** Longest pause the sweep leaves between attempts at an event that keeps failing. */
  readonly maxBackoffMs: number;
}

/** The EventBridge entry for an event: the same id and content every time it is (re)sent. */
export function toEntry(event: PumpEvent, eventBusName: string): PutEventsRequestEntry {
  return {
    EventBusName: eventBusName,
    Source: EVENT_SOURCE,
    DetailType: event.detailType,
    Time: new Date(event.time),
    Resources: [],
    Detail: JSON.stringify(event.detail),
  };
}

function entrySize(e: PutEventsRequestEntry): number {
  // PutEvents size: Time (14) + Source + DetailType + Detail + Resources, UTF-8 bytes.
  return 14 + Buffer.byteLength(e.Source ?? '') + Buffer.byteLength(e.DetailType ?? '') + Buffer.byteLength(e.Detail ?? '');
}

/** Splits entries into PutEvents batches: at most 10 entries and 256 KB each. */
export function batchEntries<T extends { entry: PutEventsRequestEntry }>(items: readonly T[]): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const item of items) {
    const s = entrySize(item.entry);
    if (current.length > 0 && (current.length >= LIMITS.putEventsMaxEntries || size + s > LIMITS.putEventsMaxBytes)) {
      batches.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += s;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * Publishes outbox events to EventBridge and marks them published. Only failed entries with a
 * retryable code are retried. A sweep re-publishes events a crashed worker left behind; an event
 * re-sent carries the same eventId, so subscribers see a duplicate, never a new alert.
 */
export class OutboxRelay {
  private readonly abort = new AbortController();
  private sweeping: Promise<void> | undefined;
  published = 0;

  constructor(
    private readonly outbox: OutboxStore,
    private readonly eventBridge: EventBridgeClient,
    private readonly clock: Clock,
    private readonly options: OutboxRelayOptions,
    private readonly log: Logger,
  ) {}

  /** Publishes events now (they are already in the outbox). Failures are left for the sweep. */
  async publish(events: readonly PumpEvent[]): Promise<void> {
    if (events.length === 0) return;
    const items = events.map((event) => ({ event, entry: toEntry(event, this.options.eventBusName) }));
    for (const batch of batchEntries(items)) await this.publishBatch(batch);
  }

  private async publishBatch(batch: { event: PumpEvent; entry: PutEventsRequestEntry }[]): Promise<void> {
    let pending = batch;
    for (let attempt = 0; attempt < this.options.maxAttempts && pending.length > 0; attempt++) {
      if (attempt > 0) await sleep(backoffDelay(attempt, 100, 3_000), this.abort.signal).catch(() => undefined);
      let results;
      try {
        results = (await this.eventBridge.send(new PutEventsCommand({ Entries: pending.map((p) => p.entry) }))).Entries ?? [];
      } catch (err) {
        if (!isRetryableAwsError(err)) {
          this.log.error({ err, count: pending.length }, 'PutEvents failed');
          await Promise.all(pending.map((p) => this.outbox.recordFailure(p.event.eventId, (err as Error).message, this.clock.now())));
          return;
        }
        this.log.warn({ err: (err as Error).name, attempt }, 'PutEvents throttled or failed; retrying');
        continue;
      }
      const retry: typeof pending = [];
      for (let i = 0; i < pending.length; i++) {
        const r = results[i];
        const p = pending[i]!;
        if (r && !r.ErrorCode) {
          await this.outbox.markPublished(p.event.eventId, this.clock.now());
          this.published += 1;
        } else if (r?.ErrorCode && RETRYABLE_ENTRY_CODES.has(r.ErrorCode)) {
          retry.push(p);
        } else {
          this.log.error({ eventId: p.event.eventId, code: r?.ErrorCode, message: r?.ErrorMessage }, 'event rejected by the bus');
          await this.outbox.recordFailure(p.event.eventId, `${r?.ErrorCode ?? 'NoResult'}: ${r?.ErrorMessage ?? ''}`, this.clock.now());
        }
      }
      pending = retry;
    }
    for (const p of pending) await this.outbox.recordFailure(p.event.eventId, 'retries exhausted', this.clock.now());
  }

  /** One sweep over every pending partition. */
  async sweepOnce(): Promise<number> {
    const cutoff = this.clock.now() - this.options.sweepGraceMs;
    let count = 0;
    for (let i = 0; i < SPARSE_INDEX_PARTITIONS; i++) {
      // Never given up on: an event that keeps failing is retried with a growing pause (up to the max).
      const now = this.clock.now();
      const items = (await this.outbox.listPending(`p${i}`)).filter(
        (it) => it.createdAt <= cutoff && (it.attempts === 0 || now - (it.lastAttemptAt ?? 0) >= Math.min(this.options.maxBackoffMs, 1_000 * 2 ** Math.min(it.attempts, 20))),
      );
      if (items.length === 0) continue;
      items.sort((a, b) => a.time - b.time);
      await this.publish(items.map(({ eventId, detailType, pumpId, time, detail }) => ({ eventId, detailType, pumpId, time, detail })));
      count += items.length;
    }
    if (count > 0) this.log.info({ count }, 'outbox sweep re-published events');
    return count;
  }

  /** Starts the periodic sweep. Idempotent. */
  start(): void {
    this.sweeping ??= (async () => {
      while (!this.abort.signal.aborted) {
        await sleep(this.options.sweepIntervalMs, this.abort.signal).catch(() => undefined);
        if (this.abort.signal.aborted) break;
        await this.sweepOnce().catch((err) => this.log.warn({ err }, 'outbox sweep failed'));
      }
    })();
  }

  async stop(): Promise<void> {
    this.abort.abort(new Error('stopping'));
    await this.sweeping;
  }
}

/** The relay a worker or a replay uses: the configuration's bus and sweep settings. */
export function createOutboxRelay(config: Pick<Config, 'names' | 'consumer'>, outbox: OutboxStore, eventBridge: EventBridgeClient, clock: Clock, log: Logger): OutboxRelay {
  return new OutboxRelay(
    outbox,
    eventBridge,
    clock,
    {
      eventBusName: config.names.eventBusName,
      sweepIntervalMs: config.consumer.outboxSweepMs,
      sweepGraceMs: 2 * config.consumer.outboxSweepMs,
      maxAttempts: 5,
      maxBackoffMs: 300_000,
    },
    log,
  );
}
