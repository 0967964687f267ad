import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { systemClock, type Clock } from '../../../shared/clock';
import { getLogger, type Logger } from '../../../shared/logging';
import { EventBridgeApiError } from './api-errors';
import { Dispatcher, type DeadLetterRecord, type EventListener, type RetrySettings } from './delivery';
import { EventBridgeService, type PutEventsFault } from './operations';
import { StateStore } from './state-store';

/** Options of {@link startEventBridgeServer}. */
export interface EventBridgeServerOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Keeps buses, rules and targets in `eventbridge-state.json` here; in memory when absent. */
  dataDir?: string;
  /** Default us-east-1. */
  region?: string;
  /** Default 000000000000. */
  accountId?: string;
  /** Default `getLogger('eventbridge')`. */
  logger?: Logger;
  /**
   * Retries of failed deliveries (webhooks, and likewise listeners and files): total attempts and
   * full-jitter exponential backoff. Default { attempts: 5, baseDelayMs: 200, maxDelayMs: 5000 }.
   * A target's RetryPolicy.MaximumRetryAttempts overrides `attempts` (attempts = retries + 1).
   */
  webhookRetry?: { attempts: number; baseDelayMs: number; maxDelayMs: number };
  /** Per webhook call. Default 5000. */
  webhookTimeoutMs?: number;
  /**
   * Dead letters of targets without a DeadLetterConfig. Default `DATA_DIR/eventbridge-dead-letters.jsonl`
   * with a data dir; without one, dead letters are only logged (and kept by `deadLetters()`).
   */
  deadLetterPath?: string;
  /** How long `close()` waits for queued deliveries before dead-lettering them. Default 5000. */
  closeTimeoutMs?: number;
  /** Event times and retry ages. Default the system clock. */
  clock?: Clock;
}

/** A running local EventBridge. */
export interface EventBridgeServer {
  /** `http://host:port`, for the SDK client's `endpoint`. */
  readonly url: string;
  /** Registers the in-process target `arn:pumpwatch:local:listener:NAME` (replacing one of that name). */
  addListener(name: string, fn: EventListener): void;
  removeListener(name: string): void;
  /** Resolves when all queued deliveries are done; rejects with a TransientError after `timeoutMs`. */
  drain(timeoutMs?: number): Promise<void>;
  /** The latest dead letters (up to 1000), oldest first. */
  deadLetters(): readonly DeadLetterRecord[];
  /** Makes the next PutEvents calls fail (throttled, or some entries failed). For tests. */
  injectPutEventsFault(fault: PutEventsFault): void;
  clearFaults(): void;
  /** Stops accepting requests, drains deliveries (bounded by closeTimeoutMs), frees the port. Idempotent. */
  close(): Promise<void>;
}

const TARGET_PREFIX = 'AWSEvents.';
const MAX_BODY_BYTES = 10 * 1024 * 1024;
const DEFAULT_RETRY: RetrySettings = { attempts: 5, baseDelayMs: 200, maxDelayMs: 5000 };

function send(res: http.ServerResponse, status: number, body: unknown, requestId: string, errorType?: string): void {
  const text = JSON.stringify(body);
  const headers: http.OutgoingHttpHeaders = {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': requestId,
  };
  if (errorType !== undefined) headers['x-amzn-errortype'] = errorType;
  res.writeHead(status, headers);
  res.end(text);
}

function sendError(res: http.ServerResponse, err: EventBridgeApiError, requestId: string): void {
  send(res, err.statusCode, { __type: err.awsType, message: err.message }, requestId, err.awsType);
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new EventBridgeApiError('ValidationException', `Request body is larger than ${MAX_BODY_BYTES} bytes.`, { statusCode: 413 }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * Starts a local, EventBridge-API-compatible bus (JSON 1.1 protocol, the operations the real
 * `@aws-sdk/client-eventbridge` client needs for buses, rules, targets, PutEvents and
 * TestEventPattern) and delivers matched events to listener, webhook and JSON-lines file targets.
 */
export async function startEventBridgeServer(opts: EventBridgeServerOptions = {}): Promise<EventBridgeServer> {
  const logger = opts.logger ?? getLogger('eventbridge');
  const clock = opts.clock ?? systemClock;
  const region = opts.region ?? 'us-east-1';
  const accountId = opts.accountId ?? '000000000000';
  const store = StateStore.open(opts.dataDir, clock.now());
  const dispatcher = new Dispatcher({
    retry: opts.webhookRetry ?? DEFAULT_RETRY,
    webhookTimeoutMs: opts.webhookTimeoutMs ?? 5000,
    defaultDeadLetterPath: opts.deadLetterPath ?? (opts.dataDir === undefined ? undefined : path.join(opts.dataDir, 'eventbridge-dead-letters.jsonl')),
    clock,
    logger,
  });
  const service = new EventBridgeService(store, dispatcher, { region, accountId, clock, logger });
  let closing = false;

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const requestId = randomUUID();
    if (closing) res.setHeader('connection', 'close');
    if (req.method === 'GET' && (req.url === '/health' || req.url === '/')) {
      send(res, 200, { status: 'ok' }, requestId);
      return;
    }
    const target = req.headers['x-amz-target'];
    const operationName = typeof target === 'string' && target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : undefined;
    const operation = operationName === undefined ? undefined : service.operations[operationName];
    try {
      if (req.method !== 'POST') throw new EventBridgeApiError('UnknownOperationException', `Only POST is supported (got ${req.method ?? '?'}).`, { statusCode: 405 });
      if (!operation) throw new EventBridgeApiError('UnknownOperationException', `Unknown or unsupported operation ${typeof target === 'string' ? target : '(no X-Amz-Target)'}.`);
      const raw = await readBody(req);
      let body: unknown = {};
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch (err) {
          throw new EventBridgeApiError('SerializationException', 'Request body is not valid JSON.', { cause: err });
        }
      }
      const result = operation(body);
      logger.debug({ operation: operationName, requestId }, 'eventbridge request');
      send(res, 200, result, requestId);
    } catch (err) {
      if (err instanceof EventBridgeApiError) {
        logger.debug({ operation: operationName, requestId, errorType: err.awsType, error: err.message }, 'eventbridge request rejected');
        sendError(res, err, requestId);
      } else {
        logger.error({ err, operation: operationName, requestId }, 'eventbridge request failed');
        sendError(res, new EventBridgeApiError('InternalException', 'Internal error.', { cause: err }), requestId);
      }
    }
  };

  const server = http.createServer((req, res) => {
    void handle(req, res);
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('eventbridge: server has no TCP address');
  const { address: host, port, family }: AddressInfo = address;
  const url = `http://${family === 'IPv6' ? `[${host}]` : host}:${port}`;
  logger.info({ url, dataDir: opts.dataDir ?? null, region, accountId }, 'eventbridge local bus listening');

  let closed: Promise<void> | undefined;
  const closeTimeoutMs = opts.closeTimeoutMs ?? 5000;
  const closeHttp = (): Promise<void> =>
    new Promise<void>((resolve) => {
      const force = setTimeout(() => server.closeAllConnections(), closeTimeoutMs);
      server.close(() => {
        clearTimeout(force);
        resolve();
      });
      server.closeIdleConnections();
    });

  return {
    url,
    addListener: (name, fn) => dispatcher.addListener(name, fn),
    removeListener: (name) => dispatcher.removeListener(name),
    drain: (timeoutMs) => dispatcher.drain(timeoutMs),
    deadLetters: () => dispatcher.deadLetters(),
    injectPutEventsFault: (fault) => service.injectPutEventsFault(fault),
    clearFaults: () => service.clearPutEventsFaults(),
    close: () => {
      closed ??= (async () => {
        closing = true;
        await closeHttp();
        await dispatcher.close(closeTimeoutMs);
        logger.info({ url }, 'eventbridge local bus stopped');
      })();
      return closed;
    },
  };
}
