import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { sleep } from '../../../shared/clock';
import { ValidationError as PumpwatchValidationError } from '../../../shared/errors';
import { getLogger, type Logger } from '../../../shared/logging';
import { S3_PREFIXES } from '../../../shared/names';
import { describeIssues } from '../../../shared/schemas/issues';
import { S3ArtifactSource } from '../../model-server/adapters/s3-artifact-source';
import { InvalidArtifactError } from '../../model-server/core/artifact';
import { invokeModel, type ModelReply } from '../../model-server/core/invoke';
import { ModelCache, type ModelCacheConfigInput, type ModelCacheEvent, type ModelCacheStats, type ModelLease } from '../../model-server/core/model-cache';
import {
  ArtifactNotFoundError,
  ArtifactSourceError,
  CacheCapacityError,
  ModelCacheClosedError,
  ModelNotReadyError,
} from '../../model-server/core/model-errors';
import { HttpServerLifecycle, PayloadTooLargeError, pathSegments, readBody, send, sendJson } from '../../model-server/http';
import { modelError, renderSageMakerError, SageMakerApiError, type SageMakerErrorName } from './errors';
import { FaultInjector, type ActiveFault, type Fault, type FaultSpec } from './faults';

/** One multi-model endpoint: where its TargetModels live (`s3://bucket/prefix + TargetModel`). */
export const SageMakerEndpointConfigSchema = z.strictObject({
  bucket: z.string().min(3),
  /** The `ModelDataUrl` prefix of the endpoint's model, relative to the bucket. */
  prefix: z.string().default(S3_PREFIXES.models),
  /** Reported in `x-Amzn-Invoked-Production-Variant`. */
  variantName: z.string().min(1).default('AllTraffic'),
});
export type SageMakerEndpointConfig = z.input<typeof SageMakerEndpointConfigSchema>;

/** SageMaker endpoint names: alphanumerics and single hyphens, up to 63 characters. */
const EndpointNameSchema = z.string().regex(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/, 'not a SageMaker endpoint name');

/** A TargetModel: a relative S3 key under the endpoint's prefix (printable, no `.`/`..` segments). */
export const TargetModelSchema = z
  .string()
  .min(1)
  .max(1024)
  .regex(/^\S[\x20-\x7e]*$/, 'must be printable ASCII and not start with a space')
  .refine((t) => !t.startsWith('/'), 'must be relative to the endpoint prefix (no leading /)')
  .refine((t) => !t.split('/').some((s) => s === '.' || s === '..'), 'must not contain . or .. segments');

/** Options of {@link startSageMakerRuntimeServer}. */
export interface SageMakerRuntimeServerOptions {
  /** Default 0 (a free port). */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Endpoint name → where its models live. */
  readonly endpoints: Readonly<Record<string, SageMakerEndpointConfig>>;
  /** S3 client the artifacts are read with (pointed at s3rver locally). Not destroyed on close. */
  readonly s3: S3Client;
  /** Per-endpoint model cache bounds (each endpoint is its own "instance"). */
  readonly cache?: Omit<ModelCacheConfigInput, 'waitForLoad'>;
  /** Block an invocation while its model loads (default true) or answer ModelNotReadyException. */
  readonly waitForLoad?: boolean;
  /** Region and account used in messages and `LogStreamArn`. */
  readonly region?: string;
  readonly accountId?: string;
  /** Largest request body; default 6 MiB (the real-time InvokeEndpoint limit). */
  readonly maxPayloadBytes?: number;
  /** How long `close()` lets in-flight requests finish; default 2 s. */
  readonly drainMs?: number;
  readonly logger?: Logger;
}

/** Invocation counters of one TargetModel. Every call that named the target counts, faults included. */
export interface TargetStats {
  invocations: number;
  succeeded: number;
  /** By SageMaker error name. */
  errors: Partial<Record<SageMakerErrorName, number>>;
  /** Artifact loads started (a cache hit loads nothing). */
  loads: number;
  loadFailures: number;
  /** Invocations an injected fault applied to. */
  faults: number;
}

/** Invocation counters of one endpoint, per TargetModel, plus its model cache. */
export interface EndpointStats {
  invocations: number;
  succeeded: number;
  errors: Partial<Record<SageMakerErrorName, number>>;
  targets: Record<string, TargetStats>;
  cache: ModelCacheStats;
}

/** A snapshot of {@link SageMakerRuntimeServer.stats}. */
export interface SageMakerRuntimeStats {
  endpoints: Record<string, EndpointStats>;
  /** Invocations of endpoint names that are not configured. */
  unknownEndpointInvocations: number;
}

/** A running local SageMaker Runtime. */
export interface SageMakerRuntimeServer {
  /** Base URL for the SDK's `endpoint` option, e.g. `http://127.0.0.1:43121`. */
  readonly url: string;
  readonly port: number;
  /** Makes invocations of `target` (or `*`) fail or slow down; see {@link FaultSpec}. */
  injectFault(target: string, spec: FaultSpec): void;
  /** Removes the faults of one target, or all. */
  clearFaults(target?: string): void;
  /** Faults still waiting to fire. */
  activeFaults(): ActiveFault[];
  /** Counters since start (or the last reset). */
  stats(): SageMakerRuntimeStats;
  /** Zeroes the invocation counters (the caches' own counters keep running). */
  resetStats(): void;
  /** Stops serving, cancels delays and loads, drops the models. Idempotent. */
  close(): Promise<void>;
}

interface Endpoint {
  readonly name: string;
  readonly bucket: string;
  readonly variantName: string;
  readonly source: S3ArtifactSource;
  readonly cache: ModelCache;
  stats: Omit<EndpointStats, 'cache'>;
}

function emptyTargetStats(): TargetStats {
  return { invocations: 0, succeeded: 0, errors: {}, loads: 0, loadFailures: 0, faults: 0 };
}

function emptyEndpointStats(): Omit<EndpointStats, 'cache'> {
  return { invocations: 0, succeeded: 0, errors: {}, targets: {} };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/**
 * A SageMaker-Runtime-compatible server for multi-model endpoints, callable by the real
 * `@aws-sdk/client-sagemaker-runtime` (`InvokeEndpointCommand` with `endpoint` pointed here).
 * `POST /endpoints/{EndpointName}/invocations` with `X-Amzn-SageMaker-Target-Model` loads
 * `s3://bucket/prefix + TargetModel` through the model cache (single-flight, LRU, bounded) and
 * scores with the same core as the container. Answers, in SageMaker's error shapes:
 * - ValidationError 400: unknown endpoint, missing or invalid TargetModel, no object at the
 *   TargetModel ("Failed to download model data…"), body too large;
 * - ModelError 424: the model could not answer — corrupt artifact (OriginalStatusCode 500), input
 *   it cannot score (400: not JSON, schema, missing features), content type (415), or injected;
 * - ModelNotReadyException 429: the model is loading and `waitForLoad` is false, or injected;
 * - ServiceUnavailable 503: S3 failing transiently, no room in the cache, shutting down, or injected;
 * - InternalFailure 500: anything unexpected, or injected.
 * Successful calls carry `Content-Type: application/json`, `x-Amzn-Invoked-Production-Variant`
 * and `x-amzn-RequestId`. `GET /ping` answers 200 for readiness checks (not a SageMaker API).
 */
export async function startSageMakerRuntimeServer(options: SageMakerRuntimeServerOptions): Promise<SageMakerRuntimeServer> {
  const logger = options.logger ?? getLogger('sagemaker-runtime');
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const waitForLoad = options.waitForLoad ?? true;
  const maxPayloadBytes = options.maxPayloadBytes ?? 6 * 1024 * 1024;
  const faults = new FaultInjector();
  const closeController = new AbortController();
  let unknownEndpointInvocations = 0;

  const endpoints = new Map<string, Endpoint>();
  for (const [name, raw] of Object.entries(options.endpoints)) {
    const nameOk = EndpointNameSchema.safeParse(name);
    if (!nameOk.success) throw new PumpwatchValidationError(`endpoint ${JSON.stringify(name)}: ${describeIssues(nameOk.error)}`);
    const parsed = SageMakerEndpointConfigSchema.safeParse(raw);
    if (!parsed.success) throw new PumpwatchValidationError(`endpoint ${name}: ${describeIssues(parsed.error)}`, parsed.error);
    const config = parsed.data;
    const source = new S3ArtifactSource({ client: options.s3, bucket: config.bucket, prefix: config.prefix });
    const endpoint: Endpoint = {
      name,
      bucket: config.bucket,
      variantName: config.variantName,
      source,
      stats: emptyEndpointStats(),
      cache: new ModelCache({
        ...options.cache,
        waitForLoad,
        source,
        logger: logger.child({ endpoint: name }),
        onEvent: (event: ModelCacheEvent) => {
          if (event.type === 'load-started') targetStats(endpoint, event.name).loads++;
          else if (event.type === 'load-failed') targetStats(endpoint, event.name).loadFailures++;
        },
      }),
    };
    endpoints.set(name, endpoint);
  }

  function targetStats(endpoint: Endpoint, target: string): TargetStats {
    let t = endpoint.stats.targets[target];
    if (!t) {
      t = emptyTargetStats();
      endpoint.stats.targets[target] = t;
    }
    return t;
  }

  /** The SageMaker answer to a failed model load. */
  function loadFailure(endpoint: Endpoint, target: string, err: unknown): SageMakerApiError {
    if (err instanceof SageMakerApiError) return err;
    if (err instanceof ModelNotReadyError) {
      return new SageMakerApiError('ModelNotReadyException', `Model ${target} is still being loaded on endpoint ${endpoint.name}. Retry the request.`);
    }
    const downloadFailed = (): SageMakerApiError =>
      new SageMakerApiError(
        'ValidationError',
        `Failed to download model data(bucket: ${endpoint.bucket}, key: ${endpoint.source.key(target)}). Please ensure that there is an ` +
          'object located at the URL and that the role passed to CreateModel has permissions to download the model.',
        { cause: err },
      );
    if (err instanceof ArtifactNotFoundError) return downloadFailed();
    if (err instanceof ArtifactSourceError) {
      return err.retryable ? new SageMakerApiError('ServiceUnavailable', `Model data for ${target} could not be read; retry.`, { cause: err }) : downloadFailed();
    }
    const fromModel = (status: number, type: string, message: string): SageMakerApiError =>
      modelError({
        region,
        accountId,
        endpointName: endpoint.name,
        variantName: endpoint.variantName,
        originalStatusCode: status,
        originalMessage: JSON.stringify({ code: status, type, message }),
        cause: err,
      });
    if (err instanceof InvalidArtifactError) return fromModel(500, 'InvalidArtifact', `failed to load model ${target}: ${err.message}`);
    if (err instanceof CacheCapacityError) {
      return err.retryable
        ? new SageMakerApiError('ServiceUnavailable', `No capacity to load model ${target}; retry.`, { cause: err })
        : fromModel(507, 'InsufficientStorage', err.message);
    }
    if (err instanceof ModelCacheClosedError) return new SageMakerApiError('ServiceUnavailable', 'The endpoint is shutting down.', { cause: err });
    if (err instanceof PumpwatchValidationError) return new SageMakerApiError('ValidationError', err.message, { cause: err });
    return new SageMakerApiError('InternalFailure', 'An internal error occurred.', { cause: err });
  }

  function faultError(endpoint: Endpoint, target: string, fault: Fault): SageMakerApiError {
    switch (fault.kind) {
      case 'ModelError': {
        const status = fault.originalStatusCode ?? 500;
        return modelError({
          region,
          accountId,
          endpointName: endpoint.name,
          variantName: endpoint.variantName,
          originalStatusCode: status,
          originalMessage: JSON.stringify({ code: status, type: 'InjectedFault', message: fault.message ?? `injected fault for ${target}` }),
        });
      }
      case 'ModelNotReady':
        return new SageMakerApiError('ModelNotReadyException', fault.message ?? `Model ${target} is still being loaded (injected). Retry the request.`);
      case 'ServiceUnavailable':
        return new SageMakerApiError('ServiceUnavailable', fault.message ?? 'Service unavailable (injected).');
      case 'InternalFailure':
      case 'delay':
        return new SageMakerApiError('InternalFailure', fault.message ?? 'Internal failure (injected).');
    }
  }

  async function invoke(endpoint: Endpoint, target: string, body: Buffer, req: IncomingMessage): Promise<ModelReply> {
    const fault = faults.take(endpoint.name, target);
    if (fault) {
      targetStats(endpoint, target).faults++;
      logger.info({ endpoint: endpoint.name, model: target, fault: fault.kind, delayMs: fault.delayMs }, 'injected fault applied');
      if (fault.delayMs !== undefined && fault.delayMs > 0) {
        try {
          await sleep(fault.delayMs, closeController.signal);
        } catch {
          throw new SageMakerApiError('ServiceUnavailable', 'The endpoint is shutting down.');
        }
      }
      if (fault.kind !== 'delay') throw faultError(endpoint, target, fault);
    }
    let lease: ModelLease;
    try {
      lease = await endpoint.cache.acquire(target, { wait: waitForLoad });
    } catch (err) {
      throw loadFailure(endpoint, target, err);
    }
    let reply: ModelReply;
    try {
      reply = invokeModel(lease.model, { body, contentType: header(req, 'content-type'), accept: header(req, 'accept') });
    } finally {
      lease.release();
    }
    if (reply.status !== 200) {
      throw modelError({
        region,
        accountId,
        endpointName: endpoint.name,
        variantName: endpoint.variantName,
        originalStatusCode: reply.status,
        originalMessage: reply.body,
      });
    }
    return reply;
  }

  async function handle(req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://runtime');
    const segments = pathSegments(url);
    if (req.method === 'GET' && segments?.length === 1 && segments[0] === 'ping') {
      sendJson(res, 200, { status: 'Healthy' });
      return;
    }
    if (req.method !== 'POST' || segments?.length !== 3 || segments[0] !== 'endpoints' || segments[2] !== 'invocations') {
      throw new SageMakerApiError('UnknownOperationException', `No operation ${req.method ?? ''} ${url.pathname} on the local SageMaker runtime.`);
    }
    const endpointName = segments[1] ?? '';
    const endpoint = endpoints.get(endpointName);
    if (!endpoint) {
      unknownEndpointInvocations++;
      throw new SageMakerApiError('ValidationError', `Endpoint ${endpointName} of account ${accountId} not found.`);
    }
    endpoint.stats.invocations++;
    let target: string | undefined;
    const started = process.hrtime.bigint();
    try {
      let body: Buffer;
      try {
        body = await readBody(req, maxPayloadBytes);
      } catch (err) {
        if (err instanceof PayloadTooLargeError) {
          throw new SageMakerApiError('ValidationError', `Request payload exceeds the limit of ${maxPayloadBytes} bytes.`, { cause: err });
        }
        throw err;
      }
      const rawTarget = header(req, 'x-amzn-sagemaker-target-model');
      if (rawTarget === undefined || rawTarget === '') {
        throw new SageMakerApiError('ValidationError', `Endpoint ${endpointName} is a multi-model endpoint; the TargetModel header is required.`);
      }
      const parsedTarget = TargetModelSchema.safeParse(rawTarget);
      if (!parsedTarget.success) {
        throw new SageMakerApiError('ValidationError', `Invalid TargetModel ${JSON.stringify(rawTarget)}: ${describeIssues(parsedTarget.error)}`);
      }
      target = parsedTarget.data;
      targetStats(endpoint, target).invocations++;
      const reply = await invoke(endpoint, target, body, req);
      endpoint.stats.succeeded++;
      targetStats(endpoint, target).succeeded++;
      logger.debug({ endpoint: endpointName, model: target, durationMs: Number(process.hrtime.bigint() - started) / 1e6 }, 'endpoint invoked');
      send(res, 200, reply.contentType, reply.body, { 'x-Amzn-Invoked-Production-Variant': endpoint.variantName, 'x-amzn-RequestId': requestId });
    } catch (caught) {
      const err = caught instanceof SageMakerApiError ? caught : new SageMakerApiError('InternalFailure', 'An internal error occurred.', { cause: caught });
      endpoint.stats.errors[err.errorName] = (endpoint.stats.errors[err.errorName] ?? 0) + 1;
      if (target !== undefined) {
        const t = targetStats(endpoint, target);
        t.errors[err.errorName] = (t.errors[err.errorName] ?? 0) + 1;
      }
      const context = { endpoint: endpointName, model: target, error: err.errorName, durationMs: Number(process.hrtime.bigint() - started) / 1e6 };
      if (err.errorName === 'InternalFailure') logger.error({ ...context, err: err.cause ?? err }, 'endpoint invocation failed');
      else logger.info({ ...context, message: err.message }, 'endpoint invocation failed');
      throw err;
    }
  }

  const server = createServer((req, res) => {
    const requestId = randomUUID();
    handle(req, res, requestId).catch((caught: unknown) => {
      const err = caught instanceof SageMakerApiError ? caught : new SageMakerApiError('InternalFailure', 'An internal error occurred.', { cause: caught });
      if (!(caught instanceof SageMakerApiError)) logger.error({ err: caught, url: req.url }, 'runtime request failed');
      const out = renderSageMakerError(err, requestId);
      // The body may be unread (e.g. too large): close rather than reuse the connection.
      const headers = req.complete ? out.headers : { ...out.headers, Connection: 'close' };
      send(res, out.status, 'application/json', out.body, headers);
    });
  });
  const lifecycle = new HttpServerLifecycle(server);
  const { url, port } = await lifecycle.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  logger.info({ url, endpoints: [...endpoints.keys()] }, 'local SageMaker runtime listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    injectFault: (target, spec) => faults.inject(target, spec),
    clearFaults: (target) => faults.clear(target),
    activeFaults: () => faults.list(),
    stats(): SageMakerRuntimeStats {
      const out: Record<string, EndpointStats> = {};
      for (const e of endpoints.values()) out[e.name] = { ...structuredClone(e.stats), cache: e.cache.stats() };
      return { endpoints: out, unknownEndpointInvocations };
    },
    resetStats(): void {
      unknownEndpointInvocations = 0;
      for (const e of endpoints.values()) e.stats = emptyEndpointStats();
    },
    close(): Promise<void> {
      closing ??= (async () => {
        closeController.abort();
        for (const e of endpoints.values()) e.cache.close();
        await lifecycle.close(options.drainMs ?? 2_000);
        faults.clear();
        logger.info({ url }, 'local SageMaker runtime stopped');
      })();
      return closing;
    },
  };
}
