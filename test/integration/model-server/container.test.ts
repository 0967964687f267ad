import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { extract as tarExtract } from 'tar-stream';
import { startModelContainer, type ModelContainer } from '../../../services/model-server/container';
import { runModelContainer } from '../../../services/model-server/main';
import { InferenceResponseSchema } from '../../../shared/schemas/inference';
import { inferenceRequest, zscoreModelTarGz } from './fixtures';

interface Reply {
  status: number;
  headers: Headers;
  json: unknown;
}

async function call(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers = { 'Content-Type': 'application/json', ...headers };
  }
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, json };
}

/** Files of a model.tar.gz, to lay out an "extracted" model directory the way SageMaker does. */
async function untar(bytes: Buffer): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const ex = tarExtract();
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(Buffer.from(c instanceof Uint8Array ? c : String(c))));
      stream.on('end', () => {
        files.set(header.name, Buffer.concat(chunks));
        next();
      });
    });
    ex.on('finish', resolve);
    ex.on('error', reject);
  });
  ex.end(gunzipSync(bytes));
  await done;
  return files;
}

describe('model container (SageMaker multi-model contract over HTTP)', () => {
  let root: string;
  let container: ModelContainer;
  let base: string;
  const url = (name: string): string => join(root, name, 'model');

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'pumpwatch-container-'));
    // SageMaker layout: /opt/ml/models/{model_name}/model/… — here as a directory holding
    // model.tar.gz, a bare model.tar.gz file, and an extracted archive.
    const a = await zscoreModelTarGz('pump-a', 'v1', { vibration: 2, pressure: 5 });
    const b = await zscoreModelTarGz('pump-b', 'v7', { vibration: 8, pressure: 5 });
    for (const [name, bytes] of [['a', a], ['b', b], ['c', a]] as const) {
      await mkdir(url(name), { recursive: true });
      await writeFile(join(url(name), 'model.tar.gz'), bytes);
    }
    await mkdir(join(root, 'file'), { recursive: true });
    await writeFile(join(root, 'file', 'model.tar.gz'), b);
    await mkdir(url('extracted'), { recursive: true });
    for (const [name, body] of await untar(a)) await writeFile(join(url('extracted'), name), body);
    await mkdir(url('corrupt'), { recursive: true });
    await writeFile(join(url('corrupt'), 'model.tar.gz'), Buffer.from('not a tarball'));
    await mkdir(url('empty'), { recursive: true });

    container = await startModelContainer({ port: 0, host: '127.0.0.1', modelRoot: root });
    base = container.url;
  });

  afterAll(async () => {
    await container.close();
    await rm(root, { recursive: true, force: true });
  });

  afterEach(() => {
    for (const m of container.cache.list()) container.cache.unload(m.name);
  });

  it('answers GET /ping with 200', async () => {
    const r = await call(base, 'GET', '/ping');
    expect(r.status).toBe(200);
  });

  describe('POST /models (load)', () => {
    it('loads a model from its url and refuses to load the same name again (409)', async () => {
      const first = await call(base, 'POST', '/models', { model_name: 'a', url: url('a') });
      const again = await call(base, 'POST', '/models', { model_name: 'a', url: url('a') });

      expect(first.status).toBe(200);
      expect(first.json).toMatchObject({ modelName: 'a', modelUrl: url('a'), modelId: 'pump-a', modelVersion: 'v1', family: 'zscore' });
      expect(again.status).toBe(409);
    });

    it.each([
      ['a model.tar.gz file', 'file-model', () => join(root, 'file', 'model.tar.gz'), 'pump-b'],
      ['an extracted archive directory', 'extracted-model', () => url('extracted'), 'pump-a'],
    ])('loads from %s', async (_label, name, location, modelId) => {
      const r = await call(base, 'POST', '/models', { model_name: name, url: location() });

      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ modelName: name, modelId });
    });

    it.each<[string, () => unknown, number]>([
      ['the body is not JSON', () => '{"model_name":', 400],
      ['url is missing', () => ({ model_name: 'x' }), 400],
      ['model_name is empty', () => ({ model_name: '', url: url('a') }), 400],
      ['url is outside the model root', () => ({ model_name: 'x', url: '/etc' }), 400],
      ['nothing is at the url', () => ({ model_name: 'x', url: url('nope') }), 404],
      ['the directory holds no model', () => ({ model_name: 'x', url: 'empty/model' }), 404],
      ['the artifact is corrupt', () => ({ model_name: 'x', url: 'corrupt/model' }), 500],
    ])('answers an error when %s', async (_label, body, status) => {
      const r = await call(base, 'POST', '/models', body());

      expect(r.status).toBe(status);
      expect(r.json).toMatchObject({ code: status, message: expect.any(String) });
      expect(container.cache.state('x')).toBe('absent');
    });
  });

  describe('GET /models (list) and GET /models/{name} (describe)', () => {
    it('lists loaded models page by page with next_page_token / max_results', async () => {
      for (const n of ['a', 'b', 'c']) expect((await call(base, 'POST', '/models', { model_name: n, url: url(n) })).status).toBe(200);

      const page1 = await call(base, 'GET', '/models?max_results=2');
      const token = (page1.json as { nextPageToken?: string }).nextPageToken;
      const page2 = await call(base, 'GET', `/models?max_results=2&next_page_token=${encodeURIComponent(token ?? '')}`);
      const all = await call(base, 'GET', '/models');

      expect(page1.status).toBe(200);
      expect(page1.json).toEqual({
        models: [
          { modelName: 'a', modelUrl: url('a') },
          { modelName: 'b', modelUrl: url('b') },
        ],
        nextPageToken: expect.any(String),
      });
      expect(page2.json).toEqual({ models: [{ modelName: 'c', modelUrl: url('c') }] });
      expect(all.json).toEqual({ models: ['a', 'b', 'c'].map((n) => ({ modelName: n, modelUrl: url(n) })) });
    });

    it.each([
      ['max_results=0'],
      ['max_results=abc'],
      ['next_page_token=garbage'],
    ])('rejects a bad list query (%s) with 400', async (query) => {
      const r = await call(base, 'GET', `/models?${query}`);
      expect(r.status).toBe(400);
    });

    it('describes a loaded model and answers 404 for an unknown one', async () => {
      await call(base, 'POST', '/models', { model_name: 'b', url: url('b') });

      const known = await call(base, 'GET', '/models/b');
      const unknown = await call(base, 'GET', '/models/nope');

      expect(known.status).toBe(200);
      expect(known.json).toMatchObject({ modelName: 'b', modelUrl: url('b'), modelId: 'pump-b', modelVersion: 'v7' });
      expect(unknown.status).toBe(404);
    });
  });

  describe('POST /models/{name}/invoke', () => {
    beforeEach(async () => {
      await call(base, 'POST', '/models', { model_name: 'a', url: url('a') });
      await call(base, 'POST', '/models', { model_name: 'b', url: url('b') });
    });

    it('scores a batch of windows, each model by its own baseline', async () => {
      const body = inferenceRequest('P-1', [
        { vibration: 2, pressure: 5 },
        { vibration: 8, pressure: 5 },
      ]);

      const ra = await call(base, 'POST', '/models/a/invoke', body, { 'X-Amzn-SageMaker-Target-Model': 'pumps/P-1/v1/model.tar.gz' });
      const rb = await call(base, 'POST', '/models/b/invoke', body);

      expect(ra.status).toBe(200);
      const a = InferenceResponseSchema.parse(ra.json);
      const b = InferenceResponseSchema.parse(rb.json);
      expect(a).toMatchObject({ modelId: 'pump-a', modelVersion: 'v1', family: 'zscore' });
      expect(b).toMatchObject({ modelId: 'pump-b', modelVersion: 'v7' });
      expect(a.results.map((r) => r.windowStart)).toEqual([0, 10_000]);
      // Model a is trained at vibration 2: the first window is normal, the second far off.
      expect(a.results[0]?.anomalous).toBe(false);
      expect(a.results[1]?.anomalous).toBe(true);
      expect(a.results[1]?.contributions.vibration).toBeGreaterThan(0.9);
      // Model b is trained at vibration 8: the other way round.
      expect(b.results[0]?.anomalous).toBe(true);
      expect(b.results[1]?.anomalous).toBe(false);
    });

    it.each([
      ['a window lacks a feature the model needs', inferenceRequest('P-1', [{ vibration: 2 }]), {}, 400, /lacks feature pressure.mean/],
      ['the body is not JSON', 'not json', {}, 400, /not JSON/],
      ['the body violates the request schema', { pumpId: 'P-1', windows: [] }, {}, 400, /windows/],
      ['windows belong to another pump', { pumpId: 'P-2', windows: inferenceRequest('P-1', [{ vibration: 2, pressure: 5 }]).windows }, {}, 400, /not the request's pump/],
      ['the content type is not JSON', inferenceRequest('P-1', [{ vibration: 2, pressure: 5 }]), { 'Content-Type': 'text/csv' }, 415, /not supported/],
      ['the caller does not accept JSON', inferenceRequest('P-1', [{ vibration: 2, pressure: 5 }]), { Accept: 'text/csv' }, 406, /answers application\/json/],
    ] as const)('answers an input error when %s', async (_label, body, headers, status, message) => {
      const r = await call(base, 'POST', '/models/a/invoke', body, headers);

      expect(r.status).toBe(status);
      expect(r.json).toMatchObject({ code: status, message: expect.stringMatching(message) });
    });

    it('answers 404 for a model that is not loaded', async () => {
      const r = await call(base, 'POST', '/models/nope/invoke', inferenceRequest('P-1', [{ vibration: 2, pressure: 5 }]));
      expect(r.status).toBe(404);
    });
  });

  describe('DELETE /models/{name} (unload)', () => {
    it('unloads a model, then answers 404 for it everywhere', async () => {
      await call(base, 'POST', '/models', { model_name: 'a', url: url('a') });

      const del = await call(base, 'DELETE', '/models/a');
      const again = await call(base, 'DELETE', '/models/a');
      const invoke = await call(base, 'POST', '/models/a/invoke', inferenceRequest('P-1', [{ vibration: 2, pressure: 5 }]));
      const list = await call(base, 'GET', '/models');

      expect(del.status).toBe(200);
      expect(again.status).toBe(404);
      expect(invoke.status).toBe(404);
      expect(list.json).toEqual({ models: [] });
    });
  });

  it('handles model names that need percent-encoding', async () => {
    const name = 'pumps/P-1/v1/model.tar.gz';
    await call(base, 'POST', '/models', { model_name: name, url: url('a') });

    const described = await call(base, 'GET', `/models/${encodeURIComponent(name)}`);
    const invoked = await call(base, 'POST', `/models/${encodeURIComponent(name)}/invoke`, inferenceRequest('P-1', [{ vibration: 2, pressure: 5 }]));

    expect(described.json).toMatchObject({ modelName: name });
    expect(invoked.status).toBe(200);
  });

  it.each([
    ['GET', '/nope', 404],
    ['PUT', '/models', 405],
    ['GET', '/models/a/invoke', 405],
  ])('answers %s %s with %i', async (method, path, status) => {
    expect((await call(base, method, path)).status).toBe(status);
  });

  it('answers 507 when a model does not fit, so SageMaker unloads one and retries', async () => {
    const small = await startModelContainer({ port: 0, host: '127.0.0.1', modelRoot: root, cache: { maxModels: 1 } });
    try {
      const first = await call(small.url, 'POST', '/models', { model_name: 'a', url: url('a') });
      const second = await call(small.url, 'POST', '/models', { model_name: 'b', url: url('b') });
      await call(small.url, 'DELETE', '/models/a');
      const retried = await call(small.url, 'POST', '/models', { model_name: 'b', url: url('b') });

      expect(first.status).toBe(200);
      expect(second.status).toBe(507);
      expect(retried.status).toBe(200);
    } finally {
      await small.close();
    }
  });

  it('runModelContainer serves until stopped, then closes', async () => {
    const controller = new AbortController();
    let reached: string | undefined;
    const run = runModelContainer(
      { port: '0', host: '127.0.0.1', modelRoot: root, maxModels: '5' },
      {
        signal: controller.signal,
        handleSignals: false,
        onListening: (c) => {
          reached = c.url;
        },
      },
    );
    for (let i = 0; i < 100 && reached === undefined; i++) await new Promise((r) => setTimeout(r, 10));
    expect(reached).toBeDefined();
    const ping = await call(reached ?? '', 'GET', '/ping');

    controller.abort();
    await run;

    expect(ping.status).toBe(200);
    await expect(fetch(`${reached ?? ''}/ping`)).rejects.toThrow();
  });

  it('rejects invalid runModelContainer options with a ConfigError', async () => {
    await expect(runModelContainer({ port: 'eighty' }, { handleSignals: false })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
