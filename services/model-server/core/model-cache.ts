import { z } from 'zod';
import { systemClock, type Clock } from '../../../shared/clock';
import { ConfigError, PumpwatchError } from '../../../shared/errors';
import type { Logger } from '../../../shared/logging';
import { describeIssues } from '../../../shared/schemas/issues';
import { InvalidArtifactError, unpackArtifact, type ModelArtifact } from './artifact';
import {
  ArtifactSourceError,
  CacheCapacityError,
  ModelAlreadyLoadedError,
  ModelCacheClosedError,
  ModelNotLoadedError,
  ModelNotReadyError,
} from './model-errors';
import { loadModel, type LoadedModel } from './scorer';

/**
 * Where `model.tar.gz` bytes come from. `location` is adapter-relative: an S3 key under the
 * endpoint's prefix (the SageMaker TargetModel), or a path under the container's model root.
 * Adapters map "absent" to {@link ArtifactNotFoundError} and store failures to
 * {@link ArtifactSourceError}.
 */
export interface ArtifactSource {
  get(location: string, signal?: AbortSignal): Promise<Uint8Array>;
  /** Full location for logs and messages (`s3://bucket/models/…`, a file path). */
  describe?(location: string): string;
}

/** Tunables of a {@link ModelCache}; plain data, so a CLI or config can pass them through (after coercing strings). */
export const ModelCacheConfigSchema = z.strictObject({
  /** Most models kept loaded at once. */
  maxModels: z.number().int().positive().default(1_000),
  /** Memory bound over the loaded models' estimated sizes. */
  maxBytes: z.number().int().positive().default(256 * 1024 * 1024),
  /** Largest compressed artifact accepted. */
  maxArtifactBytes: z.number().int().positive().default(64 * 1024 * 1024),
  /** Default for {@link AcquireOptions.wait}: block callers while a model loads, or answer not-ready. */
  waitForLoad: z.boolean().default(true),
  /**
   * `lru`: make room by evicting the least recently used models nobody is using (the local
   * endpoint). `reject`: never evict on its own; a load that does not fit fails with
   * {@link CacheCapacityError} (the SageMaker container contract: the platform unloads, then retries).
   */
  eviction: z.enum(['lru', 'reject']).default('lru'),
});
export type ModelCacheConfig = z.output<typeof ModelCacheConfigSchema>;
export type ModelCacheConfigInput = z.input<typeof ModelCacheConfigSchema>;

/** What happened in the cache; for stats and logs (listener errors are ignored). */
export type ModelCacheEvent =
  | { readonly type: 'hit' | 'miss'; readonly name: string }
  | { readonly type: 'load-started'; readonly name: string; readonly location: string }
  | { readonly type: 'loaded'; readonly name: string; readonly durationMs: number; readonly sizeBytes: number }
  | { readonly type: 'load-failed'; readonly name: string; readonly durationMs: number; readonly error: unknown }
  | { readonly type: 'evicted' | 'unloaded'; readonly name: string; readonly sizeBytes: number };

/** Dependencies and tunables of a {@link ModelCache}. */
export interface ModelCacheOptions extends ModelCacheConfigInput {
  readonly source: ArtifactSource;
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly onEvent?: (event: ModelCacheEvent) => void;
  /** Estimated resident size of a loaded model; default: the size of its JSON documents. */
  readonly sizeOf?: (artifact: ModelArtifact, artifactBytes: number) => number;
}

/** Per-call options of {@link ModelCache.acquire}. */
export interface AcquireOptions {
  /** Wait for a loading model (default: the cache's `waitForLoad`); false → ModelNotReadyError. */
  readonly wait?: boolean;
  /** `load` (default) starts a load on a miss; `fail` throws ModelNotLoadedError instead. */
  readonly ifMissing?: 'load' | 'fail';
  /** Source location when this call starts the load; default: the name. */
  readonly location?: string;
}

/** A loaded model held by a caller. While held it is not evicted; `release` is idempotent. */
export interface ModelLease {
  readonly name: string;
  readonly model: LoadedModel;
  release(): void;
}

/** What the cache knows about one model (ready or loading). */
export interface ModelInfo {
  readonly name: string;
  readonly location: string;
  readonly state: 'loading' | 'ready';
  readonly modelId?: string;
  readonly version?: string;
  readonly family?: string;
  readonly featureCount?: number;
  readonly sizeBytes?: number;
  /** Epoch ms (cache clock). */
  readonly loadedAt?: number;
  readonly lastUsedAt?: number;
  readonly uses?: number;
  readonly inUse?: number;
}

/** Counters since the cache was created. */
export interface ModelCacheStats {
  readonly models: number;
  readonly loading: number;
  readonly bytes: number;
  readonly maxModels: number;
  readonly maxBytes: number;
  readonly hits: number;
  readonly misses: number;
  readonly loads: number;
  readonly loadFailures: number;
  readonly evictions: number;
}

interface LoadingEntry {
  readonly state: 'loading';
  readonly name: string;
  readonly location: string;
  readonly promise: Promise<ReadyEntry>;
  readonly controller: AbortController;
  /** Started by a caller that did not wait: a failure is kept for the next caller to see. */
  readonly background: boolean;
  waiters: number;
}

interface ReadyEntry {
  readonly state: 'ready';
  readonly name: string;
  readonly location: string;
  readonly model: LoadedModel;
  readonly sizeBytes: number;
  readonly loadedAt: number;
  lastUsedAt: number;
  lastUsedSeq: number;
  refs: number;
  uses: number;
}

interface FailedEntry {
  readonly state: 'failed';
  readonly name: string;
  readonly error: unknown;
}

type Entry = LoadingEntry | ReadyEntry | FailedEntry;

const noop = (): void => undefined;

/** Default size estimate: the JSON the model was built from, as UTF-16 in memory. */
function defaultSizeOf(artifact: ModelArtifact): number {
  return 2 * (JSON.stringify(artifact.document).length + JSON.stringify(artifact.featureSpec).length);
}

/**
 * Loaded models by name, with a memory bound, LRU eviction of unused models, and single-flight
 * loading: concurrent callers of a model being loaded share one load. A model is `loading` until
 * its artifact is fetched, unpacked and validated, then `ready`; callers that must not block
 * (`wait: false`) get {@link ModelNotReadyError} meanwhile, and the load goes on in the background.
 * Failed loads are not cached (the next call tries again), except that a failure of a background
 * load nobody waited for is reported once to the next caller.
 *
 * ```
 *  absent ──acquire/load──▶ loading ──ok──▶ ready ──evict/unload──▶ absent
 *                              │                 (LRU, refs = 0)
 *                              └─fail─▶ absent (or failed, reported once, for background loads)
 * ```
 */
export class ModelCache {
  private readonly config: ModelCacheConfig;
  private readonly source: ArtifactSource;
  private readonly logger: Logger | undefined;
  private readonly clock: Clock;
  private readonly onEvent: ((event: ModelCacheEvent) => void) | undefined;
  private readonly sizeOf: (artifact: ModelArtifact, artifactBytes: number) => number;
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private seq = 0;
  private closed = false;
  private counters = { hits: 0, misses: 0, loads: 0, loadFailures: 0, evictions: 0 };

  constructor(options: ModelCacheOptions) {
    const { source, logger, clock, onEvent, sizeOf, ...config } = options;
    const parsed = ModelCacheConfigSchema.safeParse(config);
    if (!parsed.success) throw new ConfigError(`invalid model cache options: ${describeIssues(parsed.error)}`, parsed.error);
    this.config = parsed.data;
    this.source = source;
    this.logger = logger;
    this.clock = clock ?? systemClock;
    this.onEvent = onEvent;
    this.sizeOf = sizeOf ?? defaultSizeOf;
  }

  /**
   * A ready model, loading it on a miss (single-flight). Throws {@link ModelNotReadyError} when
   * the model is loading and the caller does not wait, {@link ModelNotLoadedError} on a miss with
   * `ifMissing: 'fail'`, and the load's typed error (ArtifactNotFoundError, InvalidArtifactError,
   * ArtifactSourceError, CacheCapacityError) when loading fails.
   */
  async acquire(name: string, options: AcquireOptions = {}): Promise<ModelLease> {
    this.assertOpen();
    const wait = options.wait ?? this.config.waitForLoad;
    let entry = this.entries.get(name);
    if (entry?.state === 'failed') {
      this.entries.delete(name);
      throw entry.error;
    }
    if (entry?.state === 'ready') {
      this.counters.hits++;
      this.emit({ type: 'hit', name });
      return this.lease(entry);
    }
    if (entry === undefined) {
      if (options.ifMissing === 'fail') throw new ModelNotLoadedError(name);
      this.counters.misses++;
      this.emit({ type: 'miss', name });
      entry = this.startLoad(name, options.location ?? name, !wait);
    }
    if (!wait) throw new ModelNotReadyError(name);
    entry.waiters++;
    return this.lease(await entry.promise);
  }

  /** Runs `fn` with the model held, and releases it afterwards. */
  async withModel<T>(name: string, fn: (model: LoadedModel) => T | Promise<T>, options: AcquireOptions = {}): Promise<T> {
    const lease = await this.acquire(name, options);
    try {
      return await fn(lease.model);
    } finally {
      lease.release();
    }
  }

  /**
   * Loads a model under `name` from `location` and waits for it (the container's `POST /models`).
   * Throws {@link ModelAlreadyLoadedError} when the name is loaded or loading.
   */
  async load(name: string, location: string = name): Promise<ModelInfo> {
    this.assertOpen();
    const existing = this.entries.get(name);
    if (existing && existing.state !== 'failed') throw new ModelAlreadyLoadedError(name);
    if (existing) this.entries.delete(name);
    this.counters.misses++;
    const entry = this.startLoad(name, location, false);
    entry.waiters++;
    return this.info(await entry.promise);
  }

  /** Drops a model (a load in progress is cancelled). False when the name was not known. */
  unload(name: string): boolean {
    const entry = this.entries.get(name);
    if (!entry) return false;
    this.entries.delete(name);
    if (entry.state === 'loading') {
      entry.controller.abort();
      return true;
    }
    if (entry.state === 'ready') {
      this.bytes -= entry.sizeBytes;
      this.emit({ type: 'unloaded', name, sizeBytes: entry.sizeBytes });
      this.logger?.info({ model: name, sizeBytes: entry.sizeBytes }, 'model unloaded');
      return true;
    }
    return false;
  }

  /** `absent`, `loading` or `ready` (a failed background load reads as `absent`). */
  state(name: string): 'absent' | 'loading' | 'ready' {
    const entry = this.entries.get(name);
    return entry === undefined || entry.state === 'failed' ? 'absent' : entry.state;
  }

  /** The model's info, or undefined when it is neither ready nor loading. */
  describe(name: string): ModelInfo | undefined {
    const entry = this.entries.get(name);
    return entry === undefined || entry.state === 'failed' ? undefined : this.info(entry);
  }

  /** Ready and loading models, sorted by name. */
  list(): ModelInfo[] {
    const out: ModelInfo[] = [];
    for (const entry of this.entries.values()) if (entry.state !== 'failed') out.push(this.info(entry));
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Counters and current occupancy. */
  stats(): ModelCacheStats {
    let models = 0;
    let loading = 0;
    for (const e of this.entries.values()) {
      if (e.state === 'ready') models++;
      else if (e.state === 'loading') loading++;
    }
    return { models, loading, bytes: this.bytes, maxModels: this.config.maxModels, maxBytes: this.config.maxBytes, ...this.counters };
  }

  /** Cancels loads in progress and drops every model. Idempotent; later calls fail with ModelCacheClosedError. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const entry of this.entries.values()) if (entry.state === 'loading') entry.controller.abort();
    this.entries.clear();
    this.bytes = 0;
  }

  private assertOpen(): void {
    if (this.closed) throw new ModelCacheClosedError();
  }

  private startLoad(name: string, location: string, background: boolean): LoadingEntry {
    let resolve: (ready: ReadyEntry) => void = noop;
    let reject: (err: unknown) => void = noop;
    const promise = new Promise<ReadyEntry>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Waiters handle the rejection; a background load nobody awaits must not be "unhandled".
    promise.catch(noop);
    const entry: LoadingEntry = { state: 'loading', name, location, promise, controller: new AbortController(), background, waiters: 0 };
    this.entries.set(name, entry);
    this.counters.loads++;
    this.emit({ type: 'load-started', name, location });
    this.runLoad(entry).then(resolve, reject);
    return entry;
  }

  private async runLoad(entry: LoadingEntry): Promise<ReadyEntry> {
    const { name, location, controller } = entry;
    const startedAt = this.clock.now();
    const where = this.source.describe?.(location) ?? location;
    try {
      const bytes = await this.fetch(location, where, controller.signal);
      const artifact = await this.decode(bytes, where);
      let model: LoadedModel;
      try {
        model = loadModel(artifact);
      } catch (err) {
        throw err instanceof PumpwatchError ? err : new InvalidArtifactError(`${where}: ${String(err)}`, err);
      }
      const sizeBytes = Math.max(1, Math.ceil(this.sizeOf(artifact, bytes.byteLength)));
      this.throwIfCancelled(entry);
      this.makeRoom(name, sizeBytes);
      const now = this.clock.now();
      const ready: ReadyEntry = {
        state: 'ready',
        name,
        location,
        model,
        sizeBytes,
        loadedAt: now,
        lastUsedAt: now,
        lastUsedSeq: ++this.seq,
        refs: 0,
        uses: 0,
      };
      this.entries.set(name, ready);
      this.bytes += sizeBytes;
      const durationMs = now - startedAt;
      this.emit({ type: 'loaded', name, durationMs, sizeBytes });
      this.logger?.info(
        { model: name, location: where, modelId: model.modelId, version: model.version, family: model.familyName, sizeBytes, durationMs },
        'model loaded',
      );
      return ready;
    } catch (caught) {
      const err = controller.signal.aborted ? this.cancellationError(name) : caught;
      if (this.entries.get(name) === entry) {
        if (entry.background && entry.waiters === 0) this.entries.set(name, { state: 'failed', name, error: err });
        else this.entries.delete(name);
      }
      this.counters.loadFailures++;
      const durationMs = this.clock.now() - startedAt;
      this.emit({ type: 'load-failed', name, durationMs, error: err });
      this.logger?.warn({ model: name, location: where, durationMs, err }, 'model load failed');
      throw err;
    }
  }

  private async fetch(location: string, where: string, signal: AbortSignal): Promise<Uint8Array> {
    let bytes: Uint8Array;
    try {
      bytes = await this.source.get(location, signal);
    } catch (err) {
      if (signal.aborted || err instanceof PumpwatchError) throw err;
      throw new ArtifactSourceError(`reading ${where} failed: ${String(err)}`, { retryable: true, cause: err });
    }
    if (bytes.byteLength > this.config.maxArtifactBytes) {
      throw new InvalidArtifactError(`${where} is ${bytes.byteLength} bytes, over the ${this.config.maxArtifactBytes}-byte artifact limit`);
    }
    return bytes;
  }

  private async decode(bytes: Uint8Array, where: string): Promise<ModelArtifact> {
    try {
      return await unpackArtifact(bytes);
    } catch (err) {
      if (err instanceof InvalidArtifactError) throw new InvalidArtifactError(`${where}: ${err.message}`, err);
      throw new InvalidArtifactError(`${where}: unreadable artifact (${String(err)})`, err);
    }
  }

  private throwIfCancelled(entry: LoadingEntry): void {
    if (entry.controller.signal.aborted || this.entries.get(entry.name) !== entry) throw this.cancellationError(entry.name);
  }

  private cancellationError(name: string): PumpwatchError {
    return this.closed ? new ModelCacheClosedError() : new ModelNotLoadedError(name, `model ${name} was unloaded while loading`);
  }

  /** Evicts least recently used idle models until `sizeBytes` more fits, or throws CacheCapacityError. */
  private makeRoom(name: string, sizeBytes: number): void {
    const { maxBytes, maxModels, eviction } = this.config;
    if (sizeBytes > maxBytes) {
      throw new CacheCapacityError(`model ${name} needs about ${sizeBytes} bytes, more than the cache bound of ${maxBytes}`, false);
    }
    for (;;) {
      const ready = [...this.entries.values()].filter((e): e is ReadyEntry => e.state === 'ready');
      if (ready.length + 1 <= maxModels && this.bytes + sizeBytes <= maxBytes) return;
      const idle = ready.filter((e) => e.refs === 0);
      if (eviction === 'reject' || idle.length === 0) {
        throw new CacheCapacityError(
          `no room for model ${name} (${sizeBytes} bytes): ${ready.length}/${maxModels} models, ${this.bytes}/${maxBytes} bytes loaded` +
            (eviction === 'reject' ? '; unload a model first' : ', all in use'),
          true,
        );
      }
      const victim = idle.reduce((a, b) => (b.lastUsedSeq < a.lastUsedSeq ? b : a));
      this.entries.delete(victim.name);
      this.bytes -= victim.sizeBytes;
      this.counters.evictions++;
      this.emit({ type: 'evicted', name: victim.name, sizeBytes: victim.sizeBytes });
      this.logger?.info({ model: victim.name, sizeBytes: victim.sizeBytes, for: name }, 'model evicted');
    }
  }

  private lease(entry: ReadyEntry): ModelLease {
    entry.refs++;
    entry.uses++;
    entry.lastUsedSeq = ++this.seq;
    entry.lastUsedAt = this.clock.now();
    let released = false;
    return {
      name: entry.name,
      model: entry.model,
      release: () => {
        if (released) return;
        released = true;
        entry.refs--;
      },
    };
  }

  private info(entry: LoadingEntry | ReadyEntry): ModelInfo {
    if (entry.state === 'loading') return { name: entry.name, location: entry.location, state: 'loading' };
    return {
      name: entry.name,
      location: entry.location,
      state: 'ready',
      modelId: entry.model.modelId,
      version: entry.model.version,
      family: entry.model.familyName,
      featureCount: entry.model.features.length,
      sizeBytes: entry.sizeBytes,
      loadedAt: entry.loadedAt,
      lastUsedAt: entry.lastUsedAt,
      uses: entry.uses,
      inUse: entry.refs,
    };
  }

  private emit(event: ModelCacheEvent): void {
    if (!this.onEvent) return;
    try {
      this.onEvent(event);
    } catch (err) {
      this.logger?.warn({ err, event: event.type }, 'model cache listener failed');
    }
  }
}
