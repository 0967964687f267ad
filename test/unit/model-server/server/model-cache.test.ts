import { gzipSync } from 'node:zlib';
import { packArtifact, InvalidArtifactError, type ModelArtifact } from '../../../../services/model-server/core/artifact';
import { ModelCache, type ArtifactSource, type ModelCacheOptions } from '../../../../services/model-server/core/model-cache';
import {
  ArtifactNotFoundError,
  ArtifactSourceError,
  CacheCapacityError,
  ModelAlreadyLoadedError,
  ModelCacheClosedError,
  ModelNotLoadedError,
  ModelNotReadyError,
} from '../../../../services/model-server/core/model-errors';
import type { InferenceRequest } from '../../../../shared/schemas/inference';

// ---- factories -------------------------------------------------------------------------------

const FEATURES = ['vibration.rms', 'pressure.mean'];

function zscoreArtifact(modelId: string, version = 'v1', overrides: Partial<ModelArtifact['document']> = {}): ModelArtifact {
  return {
    document: {
      format: 'pumpwatch-model/1',
      modelId,
      version,
      family: 'zscore',
      createdAt: 1_700_000_000_000,
      params: { means: [2, 5], stds: [0.5, 1], threshold: 6, warningThreshold: 4 },
      ...overrides,
    },
    featureSpec: { features: FEATURES, trainingPeriod: null, trainingWindows: 20, trainingMetrics: {} },
  };
}

function request(vibration: number, pressure: number): InferenceRequest {
  const channel = (v: number) => ({ count: 10, mean: v, std: 0, min: v, max: v, rms: v, last: v, slope: 0, kurtosis: 0, crest: 1 });
  return {
    pumpId: 'P-1',
    windows: [
      {
        pumpId: 'P-1',
        windowStart: 0,
        windowEnd: 10_000,
        sampleCount: 10,
        channels: { vibration: channel(vibration), pressure: channel(pressure) },
        quality: { expectedSamples: 10, receivedSamples: 10, duplicateSamples: 0, lateSamples: 0, maxGapMs: 1000 },
      },
    ],
  };
}

interface Deferred {
  promise: Promise<void>;
  resolve(): void;
}

function deferred(): Deferred {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** The ArtifactSource port, in memory: objects by location, gates to hold loads, injected failures. */
class InMemoryArtifactSource implements ArtifactSource {
  readonly objects = new Map<string, Uint8Array>();
  readonly calls: string[] = [];
  private readonly gates = new Map<string, Deferred>();
  private readonly failures = new Map<string, unknown>();

  async put(location: string, artifact: ModelArtifact): Promise<void> {
    this.objects.set(location, await packArtifact(artifact));
  }

  /** Holds loads of `location` until the returned function is called. */
  hold(location: string): () => void {
    const d = deferred();
    this.gates.set(location, d);
    return () => {
      this.gates.delete(location);
      d.resolve();
    };
  }

  failWith(location: string, err: unknown): void {
    this.failures.set(location, err);
  }

  async get(location: string, signal?: AbortSignal): Promise<Uint8Array> {
    this.calls.push(location);
    const gate = this.gates.get(location);
    if (gate) {
      await new Promise<void>((resolve, reject) => {
        signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
        void gate.promise.then(resolve);
      });
    }
    const failure = this.failures.get(location);
    if (failure !== undefined) throw failure;
    const bytes = this.objects.get(location);
    if (!bytes) throw new ArtifactNotFoundError(location, `no artifact at ${location}`);
    return bytes;
  }
}

/** Lets pending loads (tar parsing, promise chains) finish. */
async function settle(cache: ModelCache, name: string): Promise<void> {
  for (let i = 0; i < 200 && cache.state(name) === 'loading'; i++) await new Promise((r) => setTimeout(r, 5));
}

function newCache(source: ArtifactSource, options: Partial<ModelCacheOptions> = {}): ModelCache {
  return new ModelCache({ source, ...options });
}

// ---- tests -----------------------------------------------------------------------------------

describe('ModelCache', () => {
  describe('loading and hits', () => {
    it('loads on a miss, then serves hits without touching the source', async () => {
      // prepare
      const source = new InMemoryArtifactSource();
      await source.put('pumps/P-1/v1/model.tar.gz', zscoreArtifact('P-1'));
      const cache = newCache(source);

      // act
      const first = await cache.withModel('pumps/P-1/v1/model.tar.gz', (m) => m.score(request(2, 5)));
      const second = await cache.withModel('pumps/P-1/v1/model.tar.gz', (m) => m.score(request(4.5, 5)));

      // assess
      expect(source.calls).toEqual(['pumps/P-1/v1/model.tar.gz']);
      expect(first.results[0]?.score).toBeCloseTo(0);
      expect(second.results[0]?.score).toBeCloseTo(5);
      expect(cache.stats()).toMatchObject({ models: 1, loading: 0, hits: 1, misses: 1, loads: 1, loadFailures: 0 });
      expect(cache.describe('pumps/P-1/v1/model.tar.gz')).toMatchObject({ state: 'ready', modelId: 'P-1', version: 'v1', family: 'zscore', uses: 2 });
    });

    it('shares one load between concurrent callers (single flight)', async () => {
      const source = new InMemoryArtifactSource();
      await source.put('m', zscoreArtifact('M'));
      const release = source.hold('m');
      const cache = newCache(source);

      const pending = Array.from({ length: 5 }, () => cache.acquire('m'));
      expect(cache.state('m')).toBe('loading');
      release();
      const leases = await Promise.all(pending);

      expect(source.calls).toEqual(['m']);
      expect(new Set(leases.map((l) => l.model)).size).toBe(1);
      expect(cache.stats()).toMatchObject({ loads: 1, misses: 1 });
      for (const l of leases) l.release();
    });

    it('takes the source location from the first acquire that starts the load', async () => {
      const source = new InMemoryArtifactSource();
      await source.put('dir/model.tar.gz', zscoreArtifact('M'));
      const cache = newCache(source);

      await cache.withModel('model-a', () => undefined, { location: 'dir/model.tar.gz' });

      expect(source.calls).toEqual(['dir/model.tar.gz']);
      expect(cache.describe('model-a')).toMatchObject({ location: 'dir/model.tar.gz', state: 'ready' });
    });
  });

  describe('not-ready state', () => {
    it('answers ModelNotReadyError while loading when not waiting, and loads in the background', async () => {
      const source = new InMemoryArtifactSource();
      await source.put('m', zscoreArtifact('M'));
      const release = source.hold('m');
      const cache = newCache(source, { waitForLoad: false });

      await expect(cache.acquire('m')).rejects.toBeInstanceOf(ModelNotReadyError);
      await expect(cache.acquire('m')).rejects.toMatchObject({ code: 'MODEL_NOT_READY', retryable: true });
      expect(cache.state('m')).toBe('loading');
      release();
      await settle(cache, 'm');
      const lease = await cache.acquire('m');

      expect(lease.model.modelId).toBe('M');
      expect(source.calls).toEqual(['m']);
      lease.release();
    });

    it('lets one call wait even when the cache default is not to', async () => {
      const source = new InMemoryArtifactSource();
      await source.put('m', zscoreArtifact('M'));
      const cache = newCache(source, { waitForLoad: false });

      const lease = await cache.acquire('m', { wait: true });

      expect(lease.model.modelId).toBe('M');
    });

    it('reports a failed background load once to the next caller, then tries again', async () => {
      const source = new InMemoryArtifactSource();
      const cache = newCache(source, { waitForLoad: false });

      await expect(cache.acquire('missing')).rejects.toBeInstanceOf(ModelNotReadyError);
      await settle(cache, 'missing');
      await expect(cache.acquire('missing')).rejects.toBeInstanceOf(ArtifactNotFoundError);
      await expect(cache.acquire('missing')).rejects.toBeInstanceOf(ModelNotReadyError);

      expect(cache.stats()).toMatchObject({ loads: 2 });
    });

    it('fails fast for a missing model with ifMissing: fail', async () => {
      const cache = newCache(new InMemoryArtifactSource());

      await expect(cache.acquire('m', { ifMissing: 'fail' })).rejects.toBeInstanceOf(ModelNotLoadedError);
      expect(cache.stats().loads).toBe(0);
    });
  });

  describe('memory bound and LRU eviction', () => {
    async function sourceWith(...names: string[]): Promise<InMemoryArtifactSource> {
      const source = new InMemoryArtifactSource();
      for (const n of names) await source.put(n, zscoreArtifact(n));
      return source;
    }

    it('evicts the least recently used model when maxModels is reached', async () => {
      const cache = newCache(await sourceWith('a', 'b', 'c'), { maxModels: 2 });
      await cache.withModel('a', () => undefined);
      await cache.withModel('b', () => undefined);
      await cache.withModel('a', () => undefined); // a is now more recent than b

      await cache.withModel('c', () => undefined);

      expect(cache.list().map((m) => m.name)).toEqual(['a', 'c']);
      expect(cache.state('b')).toBe('absent');
      expect(cache.stats()).toMatchObject({ models: 2, evictions: 1 });
    });

    it('evicts by estimated bytes when maxBytes is reached', async () => {
      const cache = newCache(await sourceWith('a', 'b', 'c', 'd'), { maxBytes: 250, sizeOf: () => 100 });
      for (const n of ['a', 'b', 'c', 'd']) await cache.withModel(n, () => undefined);

      expect(cache.list().map((m) => m.name)).toEqual(['c', 'd']);
      expect(cache.stats()).toMatchObject({ models: 2, bytes: 200, evictions: 2 });
    });

    it('never evicts a model in use; fails retryably when everything is in use', async () => {
      const cache = newCache(await sourceWith('a', 'b', 'c'), { maxModels: 2 });
      const a = await cache.acquire('a');
      const b = await cache.acquire('b');

      const err = await cache.acquire('c').catch((e: unknown) => e);

      expect(err).toBeInstanceOf(CacheCapacityError);
      expect(err).toMatchObject({ retryable: true, code: 'MODEL_CACHE_FULL' });
      expect(cache.list().map((m) => m.name)).toEqual(['a', 'b']);
      b.release();
      await cache.withModel('c', () => undefined);
      expect(cache.list().map((m) => m.name)).toEqual(['a', 'c']);
      a.release();
    });

    it('rejects a model larger than the whole bound, not retryably', async () => {
      const cache = newCache(await sourceWith('big'), { maxBytes: 10, sizeOf: () => 11 });

      await expect(cache.acquire('big')).rejects.toMatchObject({ name: 'CacheCapacityError', retryable: false });
      expect(cache.state('big')).toBe('absent');
    });

    it('with eviction "reject", refuses a load that does not fit instead of evicting', async () => {
      const cache = newCache(await sourceWith('a', 'b'), { maxModels: 1, eviction: 'reject' });
      await cache.load('a');

      await expect(cache.load('b')).rejects.toBeInstanceOf(CacheCapacityError);
      expect(cache.list().map((m) => m.name)).toEqual(['a']);
    });
  });

  describe('error typing', () => {
    const cases: { name: string; prepare(source: InMemoryArtifactSource): Promise<void> | void; error: new (...args: never[]) => Error; retryable: boolean }[] = [
      { name: 'no artifact', prepare: () => undefined, error: ArtifactNotFoundError, retryable: false },
      {
        name: 'bytes that are not gzip',
        prepare: (s) => void s.objects.set('m', Buffer.from('definitely not a model')),
        error: InvalidArtifactError,
        retryable: false,
      },
      {
        name: 'gzip that is not a tar archive',
        prepare: (s) => void s.objects.set('m', gzipSync(Buffer.from('still not a model'))),
        error: InvalidArtifactError,
        retryable: false,
      },
      { name: 'an unknown model family', prepare: (s) => s.put('m', zscoreArtifact('M', 'v1', { family: 'no-such-family' })), error: InvalidArtifactError, retryable: false },
      { name: 'params that do not fit the family', prepare: (s) => s.put('m', zscoreArtifact('M', 'v1', { params: { means: 'x' } })), error: InvalidArtifactError, retryable: false },
      { name: 'a store failure', prepare: (s) => s.failWith('m', new Error('socket hang up')), error: ArtifactSourceError, retryable: true },
      {
        name: 'an artifact over the size limit',
        prepare: (s) => void s.objects.set('m', Buffer.alloc(2048)),
        error: InvalidArtifactError,
        retryable: false,
      },
    ];

    it.each(cases)('types a load failure from $name', async ({ prepare, error, retryable }) => {
      const source = new InMemoryArtifactSource();
      await prepare(source);
      const cache = newCache(source, { maxArtifactBytes: 1024 });

      const err = await cache.acquire('m').catch((e: unknown) => e);

      expect(err).toBeInstanceOf(error);
      expect(err).toMatchObject({ retryable });
      expect(cache.state('m')).toBe('absent');
      expect(cache.stats().loadFailures).toBe(1);
    });

    it('does not cache a failure: the next call loads again', async () => {
      const source = new InMemoryArtifactSource();
      const cache = newCache(source);
      await expect(cache.acquire('m')).rejects.toBeInstanceOf(ArtifactNotFoundError);

      await source.put('m', zscoreArtifact('M'));
      const lease = await cache.acquire('m');

      expect(lease.model.modelId).toBe('M');
      expect(source.calls).toEqual(['m', 'm']);
    });
  });

  describe('explicit load and unload (container contract)', () => {
    it('refuses to load a name twice, including while it is loading', async () => {
      const source = new InMemoryArtifactSource();
      await source.put('m', zscoreArtifact('M'));
      const release = source.hold('m');
      const cache = newCache(source);

      const first = cache.load('m');
      await expect(cache.load('m')).rejects.toBeInstanceOf(ModelAlreadyLoadedError);
      release();
      await expect(first).resolves.toMatchObject({ name: 'm', state: 'ready', modelId: 'M' });
      await expect(cache.load('m')).rejects.toBeInstanceOf(ModelAlreadyLoadedError);
    });

    it('unloads a model and reports unknown names', async () => {
      const source = new InMemoryArtifactSource();
      await source.put('m', zscoreArtifact('M'));
      const cache = newCache(source);
      await cache.load('m');

      expect(cache.unload('m')).toBe(true);
      expect(cache.unload('m')).toBe(false);
      expect(cache.stats()).toMatchObject({ models: 0, bytes: 0 });
    });

    it('cancels a load in progress on unload', async () => {
      const source = new InMemoryArtifactSource();
      await source.put('m', zscoreArtifact('M'));
      source.hold('m');
      const cache = newCache(source);

      const pending = cache.load('m');
      cache.unload('m');

      await expect(pending).rejects.toBeInstanceOf(ModelNotLoadedError);
      expect(cache.state('m')).toBe('absent');
    });
  });

  it('rejects invalid bounds with a ConfigError', () => {
    expect(() => newCache(new InMemoryArtifactSource(), { maxModels: 0 })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringMatching(/maxModels/) }));
  });

  describe('close', () => {
    it('cancels pending loads and refuses later calls', async () => {
      const source = new InMemoryArtifactSource();
      await source.put('m', zscoreArtifact('M'));
      source.hold('m');
      const cache = newCache(source);
      const pending = cache.acquire('m');

      cache.close();
      cache.close();

      await expect(pending).rejects.toBeInstanceOf(ModelCacheClosedError);
      await expect(cache.acquire('m')).rejects.toBeInstanceOf(ModelCacheClosedError);
      expect(cache.stats()).toMatchObject({ models: 0, loading: 0 });
    });
  });
});
