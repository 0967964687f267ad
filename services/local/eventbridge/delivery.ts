import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { backoffDelay, sleep, type Clock } from '../../../shared/clock';
import { PumpwatchError, TransientError } from '../../../shared/errors';
import type { Logger } from '../../../shared/logging';
import type { Target } from './api-schemas';
import type { EventBridgeEnvelope } from './envelope';
import { fileUrlToPath, resolveTargetArn, type TargetEndpoint } from './targets';

/** Retry settings for deliveries (the name is historical: every target kind uses them). */
export interface RetrySettings {
  /** Total attempts, including the first. A target's RetryPolicy.MaximumRetryAttempts overrides it. */
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/** What an in-process listener receives besides the event. */
export interface DeliveryInfo {
  readonly ruleArn: string;
  readonly ruleName: string;
  readonly targetId: string;
  /** What the target is configured to receive: the event, its `Input`, or its `InputPath` selection. */
  readonly payload: unknown;
  /** 1 for the first attempt. */
  readonly attempt: number;
}

/** An in-process listener (target ARN `arn:pumpwatch:local:listener:NAME`). */
export type EventListener = (event: EventBridgeEnvelope, info: DeliveryInfo) => void | Promise<void>;

/** One event for one target of one rule. */
export interface DeliveryJob {
  readonly ruleArn: string;
  readonly ruleName: string;
  readonly busName: string;
  readonly target: Target;
  readonly event: EventBridgeEnvelope;
  readonly payload: unknown;
  /** When the event was accepted (for RetryPolicy.MaximumEventAgeInSeconds). */
  readonly acceptedAtMs: number;
}

/** Why the retries ended, as EventBridge names it in dead-letter messages. */
export type ExhaustedCondition = 'MaximumRetryAttempts' | 'MaximumEventAgeInSeconds' | 'NonRetryable' | 'Shutdown';

/** One line of a dead-letter file. */
export interface DeadLetterRecord {
  readonly deadLetteredAt: string;
  readonly ruleArn: string;
  readonly ruleName: string;
  readonly eventBusName: string;
  readonly targetId: string;
  readonly targetArn: string;
  readonly errorCode: string;
  readonly errorMessage: string;
  readonly exhaustedRetryCondition: ExhaustedCondition;
  readonly retryAttempts: number;
  readonly event: EventBridgeEnvelope;
  readonly payload: unknown;
}

/** A failed delivery attempt; `retryable` says whether another attempt may succeed. */
export class DeliveryError extends PumpwatchError {
  constructor(code: string, message: string, retryable: boolean, cause?: unknown) {
    super(message, { code, retryable, cause });
  }
}

interface TargetQueue {
  readonly jobs: DeliveryJob[];
  running: boolean;
}

/** Settings of a {@link Dispatcher}. */
export interface DispatcherOptions {
  readonly retry: RetrySettings;
  readonly webhookTimeoutMs: number;
  /** Dead letters of targets without their own DeadLetterConfig; none: logged only. */
  readonly defaultDeadLetterPath: string | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly random?: () => number;
}

const MAX_KEPT_DEAD_LETTERS = 1000;

/**
 * Delivers matched events to targets: at least once, in event order per target (one queue per
 * rule target, one delivery at a time), retrying failures with full-jitter exponential backoff,
 * then writing a dead letter. Webhook 4xx answers other than 429 are not retried.
 */
export class Dispatcher {
  private readonly queues = new Map<string, TargetQueue>();
  private readonly listeners = new Map<string, EventListener>();
  private readonly abort = new AbortController();
  private readonly idleWaiters = new Set<() => void>();
  private readonly fileWrites = new Map<string, Promise<void>>();
  private readonly kept: DeadLetterRecord[] = [];
  private readonly httpAgent = new http.Agent({ keepAlive: false });
  private readonly httpsAgent = new https.Agent({ keepAlive: false });
  private pending = 0;
  private closed = false;

  constructor(private readonly opts: DispatcherOptions) {}

  addListener(name: string, fn: EventListener): void {
    this.listeners.set(name, fn);
  }

  removeListener(name: string): void {
    this.listeners.delete(name);
  }

  /** The latest dead letters (up to 1000), oldest first. */
  deadLetters(): readonly DeadLetterRecord[] {
    return [...this.kept];
  }

  /** Queues a delivery behind the earlier ones of the same rule target. */
  enqueue(job: DeliveryJob): void {
    if (this.closed) {
      void this.deadLetter(job, new DeliveryError('SHUTDOWN', 'the bus is shutting down', false), 0, 'Shutdown');
      return;
    }
    const key = `${job.ruleArn}\u0000${job.target.Id}`;
    let queue = this.queues.get(key);
    if (!queue) {
      queue = { jobs: [], running: false };
      this.queues.set(key, queue);
    }
    queue.jobs.push(job);
    this.pending++;
    if (!queue.running) {
      queue.running = true;
      void this.run(key, queue);
    }
  }

  /** Resolves when every queued delivery (and its dead letter, if any) is done. */
  async drain(timeoutMs?: number): Promise<void> {
    if (this.pending === 0) return;
    let onIdle: () => void = () => undefined;
    const idle = new Promise<void>((resolve) => {
      onIdle = resolve;
      this.idleWaiters.add(resolve);
    });
    if (timeoutMs === undefined) return idle;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.idleWaiters.delete(onIdle);
        reject(new TransientError(`eventbridge: ${this.pending} deliveries still pending after ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      await Promise.race([idle, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Stops: waits up to `timeoutMs` for queued deliveries, then aborts retries and in-flight
   * webhook calls and dead-letters what is left (reason `Shutdown`), so nothing is dropped silently.
   */
  async close(timeoutMs: number): Promise<void> {
    if (this.closed) return this.drain();
    this.closed = true;
    try {
      await this.drain(timeoutMs);
    } catch {
      this.opts.logger.warn({ pending: this.pending }, 'eventbridge deliveries cut short by shutdown');
      this.abort.abort(new DeliveryError('SHUTDOWN', 'the bus is shutting down', false));
      await this.drain();
    }
    await Promise.all(this.fileWrites.values());
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private async run(key: string, queue: TargetQueue): Promise<void> {
    for (let job = queue.jobs[0]; job !== undefined; job = queue.jobs[0]) {
      try {
        await this.deliverWithRetries(job);
      } catch (err) {
        // deliverWithRetries dead-letters its own failures; this is a bug or a failing dead-letter write.
        this.opts.logger.error({ err, ruleArn: job.ruleArn, targetId: job.target.Id, eventId: job.event.id }, 'eventbridge delivery lost');
      }
      queue.jobs.shift();
      this.pending--;
    }
    queue.running = false;
    this.queues.delete(key);
    if (this.pending === 0) {
      for (const resolve of this.idleWaiters) resolve();
      this.idleWaiters.clear();
    }
  }

  private maxAttempts(target: Target): number {
    const retries = target.RetryPolicy?.MaximumRetryAttempts;
    return Math.max(1, retries === undefined ? this.opts.retry.attempts : retries + 1);
  }

  private async deliverWithRetries(job: DeliveryJob): Promise<void> {
    const attempts = this.maxAttempts(job.target);
    const maxAgeMs = (job.target.RetryPolicy?.MaximumEventAgeInSeconds ?? Number.POSITIVE_INFINITY) * 1000;
    const log = { ruleArn: job.ruleArn, targetId: job.target.Id, eventId: job.event.id };
    for (let attempt = 1; ; attempt++) {
      if (this.abort.signal.aborted) {
        return this.deadLetter(job, new DeliveryError('SHUTDOWN', 'the bus shut down before delivery', false), attempt - 1, 'Shutdown');
      }
      let failure: DeliveryError;
      try {
        await this.deliver(job, attempt);
        this.opts.logger.debug({ ...log, attempt }, 'eventbridge event delivered');
        return;
      } catch (err) {
        failure = err instanceof DeliveryError ? err : new DeliveryError('TARGET_ERROR', err instanceof Error ? err.message : String(err), true, err);
      }
      if (!failure.retryable) return this.deadLetter(job, failure, attempt, 'NonRetryable');
      if (attempt >= attempts) return this.deadLetter(job, failure, attempt, 'MaximumRetryAttempts');
      const delay = backoffDelay(attempt - 1, this.opts.retry.baseDelayMs, this.opts.retry.maxDelayMs, this.opts.random);
      if (this.opts.clock.now() + delay - job.acceptedAtMs > maxAgeMs) {
        return this.deadLetter(job, failure, attempt, 'MaximumEventAgeInSeconds');
      }
      this.opts.logger.warn({ ...log, attempt, delayMs: delay, errorCode: failure.code, error: failure.message }, 'eventbridge delivery failed, retrying');
      try {
        await sleep(delay, this.abort.signal);
      } catch {
        return this.deadLetter(job, failure, attempt, 'Shutdown');
      }
    }
  }

  private async deliver(job: DeliveryJob, attempt: number): Promise<void> {
    let endpoint: TargetEndpoint;
    try {
      endpoint = resolveTargetArn(job.target.Arn);
    } catch (err) {
      throw new DeliveryError('INVALID_TARGET', err instanceof Error ? err.message : String(err), false, err);
    }
    switch (endpoint.kind) {
      case 'listener':
        return this.callListener(endpoint.name, job, attempt);
      case 'file':
        return this.appendLine(endpoint.path, job.payload);
      case 'webhook':
        return this.post(endpoint.url, job);
    }
  }

  private async callListener(name: string, job: DeliveryJob, attempt: number): Promise<void> {
    const fn = this.listeners.get(name);
    if (!fn) throw new DeliveryError('LISTENER_NOT_REGISTERED', `no listener named ${name} is registered`, true);
    try {
      await fn(job.event, { ruleArn: job.ruleArn, ruleName: job.ruleName, targetId: job.target.Id, payload: job.payload, attempt });
    } catch (err) {
      throw new DeliveryError('LISTENER_ERROR', err instanceof Error ? err.message : String(err), true, err);
    }
  }

  /** Appends one JSON line; writes to one file are serialized so lines keep their order. */
  private appendLine(file: string, value: unknown): Promise<void> {
    const previous = this.fileWrites.get(file) ?? Promise.resolve();
    const write = previous
      .catch(() => undefined)
      .then(async () => {
        await fs.promises.mkdir(path.dirname(file), { recursive: true });
        await fs.promises.appendFile(file, `${JSON.stringify(value)}\n`);
      });
    const settled = write.catch(() => undefined);
    this.fileWrites.set(file, settled);
    void settled.then(() => {
      if (this.fileWrites.get(file) === settled) this.fileWrites.delete(file);
    });
    return write.catch((err: unknown) => {
      throw new DeliveryError('FILE_WRITE_FAILED', `cannot append to ${file}: ${err instanceof Error ? err.message : String(err)}`, true, err);
    });
  }

  private post(url: URL, job: DeliveryJob): Promise<void> {
    const target = new URL(url.href);
    for (const [k, v] of Object.entries(job.target.HttpParameters?.QueryStringParameters ?? {})) target.searchParams.append(k, v);
    const body = Buffer.from(JSON.stringify(job.payload));
    const headers: Record<string, string> = {
      ...job.target.HttpParameters?.HeaderParameters,
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(body.length),
      'user-agent': 'pumpwatch-local-eventbridge',
      'x-pumpwatch-event-id': job.event.id,
      'x-pumpwatch-rule-arn': job.ruleArn,
    };
    const client = target.protocol === 'https:' ? https : http;
    const agent = target.protocol === 'https:' ? this.httpsAgent : this.httpAgent;
    return new Promise<void>((resolve, reject) => {
      const req = client.request(
        target,
        { method: 'POST', headers, agent, timeout: this.opts.webhookTimeoutMs, signal: this.abort.signal },
        (res) => {
          res.resume();
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else reject(new DeliveryError(`HTTP_${status}`, `webhook ${target.origin} answered ${status}`, status === 429 || status >= 500 || status === 408));
        },
      );
      req.on('timeout', () => req.destroy(new DeliveryError('TIMEOUT', `webhook ${target.origin} did not answer within ${this.opts.webhookTimeoutMs} ms`, true)));
      req.on('error', (err) => {
        if (err instanceof DeliveryError) reject(err);
        else reject(new DeliveryError('CONNECTION_FAILED', `webhook ${target.origin}: ${err.message}`, true, err));
      });
      req.end(body);
    });
  }

  private async deadLetter(job: DeliveryJob, error: DeliveryError, attempts: number, condition: ExhaustedCondition): Promise<void> {
    const record: DeadLetterRecord = {
      deadLetteredAt: new Date(this.opts.clock.now()).toISOString(),
      ruleArn: job.ruleArn,
      ruleName: job.ruleName,
      eventBusName: job.busName,
      targetId: job.target.Id,
      targetArn: job.target.Arn,
      errorCode: error.code,
      errorMessage: error.message,
      exhaustedRetryCondition: condition,
      retryAttempts: Math.max(0, attempts - 1),
      event: job.event,
      payload: job.payload,
    };
    this.kept.push(record);
    if (this.kept.length > MAX_KEPT_DEAD_LETTERS) this.kept.shift();
    const dlqArn = job.target.DeadLetterConfig?.Arn;
    const file = dlqArn !== undefined ? fileUrlToPath(dlqArn) : this.opts.defaultDeadLetterPath;
    const log = { ruleArn: job.ruleArn, targetId: job.target.Id, eventId: job.event.id, errorCode: error.code, error: error.message, attempts, condition };
    if (file === undefined) {
      this.opts.logger.error(log, 'eventbridge delivery failed; no dead-letter file configured');
      return;
    }
    this.opts.logger.error({ ...log, deadLetterFile: file }, 'eventbridge delivery dead-lettered');
    await this.appendLine(file, record);
  }
}
