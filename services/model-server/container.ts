import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { z } from 'zod';
import { PumpwatchError, ValidationError } from '../../shared/errors';
import { getLogger, type Logger } from '../../shared/logging';
import { describeIssues } from '../../shared/schemas/issues';
import { DirectoryArtifactSource } from './adapters/directory-artifact-source';
import { InvalidArtifactError } from './core/artifact';
import { errorReply, invokeModel, type ModelReply } from './core/invoke';
import { ModelCache, type ArtifactSource, type ModelCacheConfigInput, type ModelInfo } from './core/model-cache';
import {
  ArtifactNotFoundError,
  ArtifactSourceError,
  CacheCapacityError,
  ModelAlreadyLoadedError,
  ModelCacheClosedError,
  ModelNotLoadedError,
  ModelNotReadyError,
} from './core/model-errors';
import { HttpServerLifecycle, PayloadTooLargeError, pathSegments, readBody, send, sendJson } from './http';

/** SageMaker's multi-model model root; `POST /models` passes `url`s under it. */
export const SAGEMAKER_MODEL_ROOT = '/opt/ml/models';
/** The port SageMaker talks to a serving container on. */
export const SAGEMAKER_CONTAINER_PORT = 8080;

const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1_000;

/** Options of {@link startModelContainer}. */
export interface ModelContainerOptions {
  /** Default 8080 (SageMaker); 0 picks a free port. */
  readonly port?: number;
  /** Default `0.0.0.0` (reachable from the SageMaker host agent). */
  readonly host?: string;
  /** Directory model `url`s must lie under; default `/opt/ml/models`. */
  readonly modelRoot?: string;
  /** Where artifacts come from; default a {@link DirectoryArtifactSource} over `modelRoot`. */
  readonly source?: ArtifactSource;
  /** Cache bounds. Eviction defaults to `reject`: SageMaker unloads models itself after a 507. */
  readonly cache?: ModelCacheConfigInput;
  /** Largest invocation body; default 25 MiB. */
  readonly maxBodyBytes?: number;
  /** How long `close()` lets in-flight requests finish; default 10 s. */
  readonly drainMs?: number;
  readonly logger?: Logger;
}

/** A running container server. */
export interface ModelContainer {
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  readonly port: number;
  /** The loaded models (for tests, metrics and the CLI). */
  readonly cache: ModelCache;
  /** Stops accepting, drains in-flight requests, drops the models. Idempotent. */
  close(): Promise<void>;
}

/** `POST /models` body. SageMaker may add fields over time, so unknown keys are ignored. */
export const LoadModelRequestSchema = z.object({
  model_name: z.string().min(1).max(1024),
  url: z.string().min(1).max(4096),
});

/** `GET /models` query. `limit` is accepted as an alias of `max_results` (MMS / TorchServe spelling). */
const ListModelsQuerySchema = z.object({
  next_page_token: z.string().min(1).max(2048).optional(),
  max_results: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).optional(),
});

/** A model as the container contract lists it, plus what this container knows about it. */
export interface ContainerModelDescription {
  readonly modelName: string;
  readonly modelUrl: string;
  readonly modelId?: string;
  readonly modelVersion?: string;
  readonly family?: string;
  readonly featureCount?: number;
  readonly sizeBytes?: number;
  readonly loadedAt?: string;
  readonly invocations?: number;
}

function describeModel(info: ModelInfo): ContainerModelDescription {
  return {
    modelName: info.name,
    modelUrl: info.location,
    modelId: info.modelId,
    modelVersion: info.version,
    family: info.family,
    featureCount: info.featureCount,
    sizeBytes: info.sizeBytes,
    loadedAt: info.loadedAt === undefined ? undefined : new Date(info.loadedAt).toISOString(),
    invocations: info.uses,
  };
}

/** An HTTP answer the router turns a failure into. */
class HttpProblem extends Error {
  constructor(
    readonly reply: ModelReply,
    readonly headers: Record<string, string> = {},
  ) {
    super(reply.body);
  }
}

function problem(status: number, type: string, message: string, headers: Record<string, string> = {}): HttpProblem {
  return new HttpProblem(errorReply(status, type, message), headers);
}

/** Maps a load failure to the status the multi-model contract expects. */
function loadProblem(err: unknown): HttpProblem {
  if (err instanceof ModelAlreadyLoadedError) return problem(409, 'ModelAlreadyLoaded', err.message);
  if (err instanceof CacheCapacityError) return problem(507, 'InsufficientStorage', err.message);
  if (err instanceof ArtifactNotFoundError) return problem(404, 'ArtifactNotFound', err.message);
  if (err instanceof InvalidArtifactError) return problem(500, 'InvalidArtifact', err.message);
  if (err instanceof ValidationError) return problem(400, 'BadRequest', err.message);
  if (err instanceof ModelNotLoadedError) return problem(409, 'ModelUnloaded', err.message);
  if (err instanceof ModelCacheClosedError) return problem(503, 'ShuttingDown', err.message);
  if (err instanceof ArtifactSourceError) return problem(err.retryable ? 503 : 500, 'ArtifactSourceError', err.message);
  return problem(500, 'InternalError', err instanceof Error ? err.message : String(err));
}

function encodeToken(lastName: string): string {
  return Buffer.from(JSON.stringify({ after: lastName }), 'utf8').toString('base64url');
}

function decodeToken(token: string): string {
  const parsed = z.object({ after: z.string() }).safeParse(safeJson(Buffer.from(token, 'base64url').toString('utf8')));
  if (!parsed.success) throw problem(400, 'BadRequest', 'next_page_token is not a token this container issued');
  return parsed.data.after;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The SageMaker multi-model endpoint container contract over HTTP
 * (https://docs.aws.amazon.com/sagemaker/latest/dg/mms-container-apis.html):
 *
 * | route                          | success                                  | failures |
 * |--------------------------------|------------------------------------------|----------|
 * | `GET /ping`                    | 200 `{"status":"Healthy"}`               | 503 while shutting down |
 * | `POST /models`                 | 200 model description                    | 400 bad body or url outside the model root, 404 no artifact at url, 409 already loaded, 500 invalid artifact, 507 no room |
 * | `GET /models`                  | 200 `{models:[{modelName,modelUrl}], nextPageToken?}`; query `max_results` (alias `limit`, 1–1000, default 100) and `next_page_token` | 400 bad query/token |
 * | `GET /models/{name}`           | 200 model description                    | 404 not loaded |
 * | `DELETE /models/{name}`        | 200                                      | 404 not loaded |
 * | `POST /models/{name}/invoke`   | 200 InferenceResponse JSON               | 404 not loaded, 503 still loading, 400 input the model cannot score (not JSON, schema, missing features), 406 Accept, 413 body too large, 415 Content-Type not JSON, 500 model failure |
 *
 * Error bodies are `{"code": status, "type": "...", "message": "..."}`; SageMaker passes them on to
 * the caller as `ModelError.OriginalStatusCode` / `OriginalMessage`. Only loaded models are listed
 * or described; one being loaded is not yet "loaded" in the contract's sense.
 */
export async function startModelContainer(options: ModelContainerOptions = {}): Promise<ModelContainer> {
  const logger = options.logger ?? getLogger('model-container');
  const modelRoot = options.modelRoot ?? SAGEMAKER_MODEL_ROOT;
  const source = options.source ?? new DirectoryArtifactSource({ root: modelRoot });
  const cache = new ModelCache({ eviction: 'reject', ...options.cache, source, logger });
  const maxBodyBytes = options.maxBodyBytes ?? 25 * 1024 * 1024;
  let shuttingDown = false;

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://container');
    const segments = pathSegments(url);
    if (segments === undefined) throw problem(400, 'BadRequest', 'malformed percent-encoding in path');
    const method = req.method ?? 'GET';
    const allow = (methods: string[]): void => {
      if (!methods.includes(method)) throw problem(405, 'MethodNotAllowed', `${method} is not allowed on ${url.pathname}`, { Allow: methods.join(', ') });
    };

    if (segments.length === 1 && segments[0] === 'ping') {
      allow(['GET', 'HEAD']);
      if (shuttingDown) throw problem(503, 'ShuttingDown', 'container is shutting down');
      sendJson(res, 200, { status: 'Healthy' });
      return;
    }
    if (segments[0] !== 'models') throw problem(404, 'NotFound', `no route ${method} ${url.pathname}`);

    if (segments.length === 1) {
      allow(['GET', 'POST']);
      if (method === 'POST') await loadRoute(req, res);
      else listRoute(url, res);
      return;
    }
    const name = segments[1] ?? '';
    if (name === '') throw problem(404, 'NotFound', `no route ${method} ${url.pathname}`);
    if (segments.length === 2) {
      allow(['GET', 'DELETE']);
      if (method === 'GET') {
        const info = cache.describe(name);
        if (info?.state !== 'ready') throw problem(404, 'ModelNotFound', `model ${name} is not loaded`);
        sendJson(res, 200, describeModel(info));
      } else {
        if (cache.state(name) === 'absent') throw problem(404, 'ModelNotFound', `model ${name} is not loaded`);
        cache.unload(name);
        sendJson(res, 200, { status: 'Unloaded', message: `model ${name} unloaded` });
      }
      return;
    }
    if (segments.length === 3 && segments[2] === 'invoke') {
      allow(['POST']);
      await invokeRoute(name, req, res);
      return;
    }
    throw problem(404, 'NotFound', `no route ${method} ${url.pathname}`);
  }

  async function loadRoute(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJsonBody(req, 64 * 1024);
    const parsed = LoadModelRequestSchema.safeParse(body);
    if (!parsed.success) throw problem(400, 'BadRequest', `invalid load request: ${describeIssues(parsed.error)}`);
    const { model_name: name, url } = parsed.data;
    try {
      const info = await cache.load(name, url);
      sendJson(res, 200, describeModel(info));
    } catch (err) {
      throw loadProblem(err);
    }
  }

  function listRoute(url: URL, res: ServerResponse): void {
    const parsed = ListModelsQuerySchema.safeParse(Object.fromEntries(url.searchParams));
    if (!parsed.success) throw problem(400, 'BadRequest', `invalid list query: ${describeIssues(parsed.error)}`);
    const pageSize = parsed.data.max_results ?? parsed.data.limit ?? DEFAULT_PAGE_SIZE;
    const after = parsed.data.next_page_token === undefined ? undefined : decodeToken(parsed.data.next_page_token);
    // Sorted by name, resumed after the last name returned: stable while models come and go.
    const ready = cache.list().filter((m) => m.state === 'ready' && (after === undefined || m.name > after));
    const page = ready.slice(0, pageSize);
    const last = page[page.length - 1];
    sendJson(res, 200, {
      models: page.map((m) => ({ modelName: m.name, modelUrl: m.location })),
      ...(ready.length > page.length && last ? { nextPageToken: encodeToken(last.name) } : {}),
    });
  }

  async function invokeRoute(name: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = headerValue(req, 'x-amzn-sagemaker-target-model');
    let lease;
    try {
      lease = await cache.acquire(name, { ifMissing: 'fail', wait: false });
    } catch (err) {
      if (err instanceof ModelNotLoadedError) throw problem(404, 'ModelNotFound', `model ${name} is not loaded`);
      if (err instanceof ModelNotReadyError) throw problem(503, 'ModelNotReady', err.message, { 'Retry-After': '1' });
      throw loadProblem(err);
    }
    try {
      const body = await readBody(req, maxBodyBytes);
      const started = process.hrtime.bigint();
      const reply = invokeModel(lease.model, {
        body,
        contentType: headerValue(req, 'content-type'),
        accept: headerValue(req, 'accept'),
      });
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      const context = { model: name, targetModel: target, status: reply.status, durationMs };
      if (reply.status >= 500) logger.error({ ...context, error: reply.body }, 'model invocation failed');
      else if (reply.status >= 400) logger.info({ ...context, error: reply.body }, 'model invocation rejected');
      else logger.debug(context, 'model invoked');
      send(res, reply.status, reply.contentType, reply.body);
    } finally {
      lease.release();
    }
  }

  async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
    const raw = await readBody(req, limit);
    try {
      return JSON.parse(raw.toString('utf8'));
    } catch (err) {
      throw problem(400, 'BadRequest', `request body is not JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      let p: HttpProblem;
      if (err instanceof HttpProblem) p = err;
      else if (err instanceof PayloadTooLargeError) p = problem(413, 'PayloadTooLarge', err.message, { Connection: 'close' });
      else {
        logger.error({ err, method: req.method, url: req.url }, 'container request failed');
        p = problem(500, 'InternalError', err instanceof PumpwatchError ? err.message : 'internal error');
      }
      send(res, p.reply.status, p.reply.contentType, p.reply.body, p.headers);
    });
  });
  const lifecycle = new HttpServerLifecycle(server);
  const drainMs = options.drainMs ?? 10_000;
  const { url, port } = await lifecycle.listen(options.port ?? SAGEMAKER_CONTAINER_PORT, options.host ?? '0.0.0.0');
  logger.info({ url, modelRoot }, 'model container listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    cache,
    close(): Promise<void> {
      closing ??= (async () => {
        shuttingDown = true;
        await lifecycle.close(drainMs);
        cache.close();
        logger.info({ url }, 'model container stopped');
      })();
      return closing;
    },
  };
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}
