import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  InternalFailure,
  InvokeEndpointCommand,
  ModelError,
  ModelNotReadyException,
  SageMakerRuntimeClient,
  ServiceUnavailable,
  ValidationError,
  type InvokeEndpointCommandInput,
} from '@aws-sdk/client-sagemaker-runtime';
import { startSageMakerRuntimeServer, type SageMakerRuntimeServer } from '../../../services/local/sagemaker/runtime-server';
import { InferenceResponseSchema, type InferenceRequest, type InferenceResponse } from '../../../shared/schemas/inference';
import { inferenceRequest, zscoreModelTarGz } from './fixtures';

/** The slice of s3rver's API the test uses (the package ships no type declarations). */
interface S3rverInstance {
  run(): Promise<{ port: number; address: string }>;
  close(): Promise<void>;
  readonly httpServer?: Server;
}
type S3rverConstructor = new (options: { port: number; address: string; silent: boolean; directory: string }) => S3rverInstance;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const S3rver: S3rverConstructor = require('s3rver');

const CREDENTIALS = { accessKeyId: 'x', secretAccessKey: 'x' };
/** s3rver only knows this key pair (it checks the access key id, not the v4 signature). */
const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const REGION = 'us-east-1';
const BUCKET = 'pumpwatch-test-data';
const ENDPOINT = 'pumpwatch-test-models';
const P1_V1 = 'pumps/P-1/v1/model.tar.gz';
const P2_V1 = 'pumps/P-2/v1/model.tar.gz';
const CORRUPT = 'pumps/P-9/v1/model.tar.gz';

describe('local SageMaker runtime (real SageMakerRuntimeClient against s3rver-backed models)', () => {
  let dataDir: string;
  let s3rver: S3rverInstance;
  let s3: S3Client;
  let runtime: SageMakerRuntimeServer;
  let client: SageMakerRuntimeClient;

  async function putObject(key: string, body: Uint8Array): Promise<void> {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `models/${key}`, Body: body }));
  }

  function sageMakerClient(url: string): SageMakerRuntimeClient {
    return new SageMakerRuntimeClient({ region: REGION, endpoint: url, credentials: CREDENTIALS, maxAttempts: 1 });
  }

  async function invoke(
    target: string | undefined,
    request: InferenceRequest | string,
    overrides: Partial<InvokeEndpointCommandInput> = {},
    via: SageMakerRuntimeClient = client,
  ): Promise<{ response: InferenceResponse; variant: string | undefined; contentType: string | undefined }> {
    const out = await via.send(
      new InvokeEndpointCommand({
        EndpointName: ENDPOINT,
        ...(target === undefined ? {} : { TargetModel: target }),
        ContentType: 'application/json',
        Accept: 'application/json',
        Body: Buffer.from(typeof request === 'string' ? request : JSON.stringify(request)),
        ...overrides,
      }),
    );
    return {
      response: InferenceResponseSchema.parse(JSON.parse(Buffer.from(out.Body ?? new Uint8Array()).toString('utf8'))),
      variant: out.InvokedProductionVariant,
      contentType: out.ContentType,
    };
  }

  async function failure(promise: Promise<unknown>): Promise<unknown> {
    return promise.then(
      () => {
        throw new Error('expected the call to fail');
      },
      (err: unknown) => err,
    );
  }

  const normal = inferenceRequest('P-1', [{ vibration: 2, pressure: 5 }]);
  const highVibration = inferenceRequest('P-1', [{ vibration: 8, pressure: 5 }]);

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'pumpwatch-s3rver-'));
    s3rver = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dataDir });
    const { port } = await s3rver.run();
    s3 = new S3Client({ region: REGION, endpoint: `http://127.0.0.1:${port}`, forcePathStyle: true, credentials: S3RVER_CREDENTIALS });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await putObject(P1_V1, await zscoreModelTarGz('P-1', 'v1', { vibration: 2, pressure: 5 }));
    await putObject(P2_V1, await zscoreModelTarGz('P-2', 'v1', { vibration: 8, pressure: 5 }));
    await putObject(CORRUPT, Buffer.from('this is not a model archive'));

    runtime = await startSageMakerRuntimeServer({ endpoints: { [ENDPOINT]: { bucket: BUCKET, prefix: 'models/' } }, s3 });
    client = sageMakerClient(runtime.url);
  });

  afterAll(async () => {
    // Optional chaining: a failed beforeAll must still release what it started.
    client?.destroy();
    await runtime?.close();
    s3?.destroy();
    if (s3rver?.httpServer?.listening) {
      const closing = s3rver.close();
      s3rver.httpServer.closeAllConnections();
      await closing;
    }
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  beforeEach(() => {
    runtime.clearFaults();
    runtime.resetStats();
  });

  describe('scoring by TargetModel', () => {
    it('answers each TargetModel with its own model', async () => {
      const one = await invoke(P1_V1, highVibration);
      const two = await invoke(P2_V1, highVibration);

      expect(one.contentType).toBe('application/json');
      expect(one.variant).toBe('AllTraffic');
      expect(one.response).toMatchObject({ modelId: 'P-1', modelVersion: 'v1', family: 'zscore' });
      expect(two.response).toMatchObject({ modelId: 'P-2', modelVersion: 'v1' });
      // P-1 learned vibration 2, P-2 vibration 8: the same window is an anomaly only for P-1.
      expect(one.response.results[0]?.anomalous).toBe(true);
      expect(two.response.results[0]?.anomalous).toBe(false);
      expect(one.response.results[0]?.score).toBeGreaterThan(two.response.results[0]?.score ?? Infinity);
    });

    it('scores several windows of one pump in one call', async () => {
      const { response } = await invoke(P1_V1, inferenceRequest('P-1', [{ vibration: 2, pressure: 5 }, { vibration: 2.1, pressure: 5 }, { vibration: 9, pressure: 5 }]));

      expect(response.results.map((r) => [r.windowStart, r.anomalous])).toEqual([
        [0, false],
        [10_000, false],
        [20_000, true],
      ]);
    });

    it('loads a model once and serves later calls from the cache', async () => {
      await invoke(P2_V1, normal); // loads it, unless an earlier test did
      runtime.resetStats();

      await invoke(P2_V1, normal);
      await invoke(P2_V1, normal);

      const stats = runtime.stats().endpoints[ENDPOINT];
      expect(stats?.targets[P2_V1]).toMatchObject({ invocations: 2, succeeded: 2, loads: 0 });
      expect(stats?.cache.models).toBeGreaterThanOrEqual(1);
    });

    it('counts invocations and loads per target', async () => {
      const fresh = await startSageMakerRuntimeServer({ endpoints: { [ENDPOINT]: { bucket: BUCKET } }, s3 });
      const freshClient = sageMakerClient(fresh.url);
      try {
        await invoke(P1_V1, normal, {}, freshClient);
        await invoke(P1_V1, normal, {}, freshClient);

        expect(fresh.stats().endpoints[ENDPOINT]).toMatchObject({
          invocations: 2,
          succeeded: 2,
          targets: { [P1_V1]: { invocations: 2, succeeded: 2, loads: 1, loadFailures: 0 } },
          cache: { loads: 1, hits: 1, misses: 1 },
        });
      } finally {
        freshClient.destroy();
        await fresh.close();
      }
    });

    it('treats a new version key as a new model and never changes the old one', async () => {
      const v2 = 'pumps/P-1/v2/model.tar.gz';
      await invoke(P1_V1, highVibration);
      await putObject(v2, await zscoreModelTarGz('P-1', 'v2', { vibration: 8, pressure: 5 }));

      const newer = await invoke(v2, highVibration);
      const older = await invoke(P1_V1, highVibration);

      expect(newer.response).toMatchObject({ modelId: 'P-1', modelVersion: 'v2' });
      expect(newer.response.results[0]?.anomalous).toBe(false);
      expect(older.response).toMatchObject({ modelId: 'P-1', modelVersion: 'v1' });
      expect(older.response.results[0]?.anomalous).toBe(true);
      expect(runtime.stats().endpoints[ENDPOINT]?.targets[v2]).toMatchObject({ loads: 1, invocations: 1 });
    });
  });

  describe('ValidationError (400)', () => {
    it.each([
      ['TargetModel is missing', undefined, ENDPOINT, /TargetModel header is required/],
      ['the endpoint does not exist', P1_V1, 'no-such-endpoint', /Endpoint no-such-endpoint of account \d+ not found/],
      ['TargetModel escapes the prefix', '../secrets/model.tar.gz', ENDPOINT, /Invalid TargetModel/],
      ['TargetModel is absolute', '/pumps/P-1/v1/model.tar.gz', ENDPOINT, /Invalid TargetModel/],
      ['there is no object at TargetModel', 'pumps/P-404/v1/model.tar.gz', ENDPOINT, /Failed to download model data\(bucket: pumpwatch-test-data, key: models\/pumps\/P-404/],
    ])('when %s', async (_label, target, endpointName, message) => {
      const err = await failure(invoke(target, normal, { EndpointName: endpointName }));

      expect(err).toBeInstanceOf(ValidationError);
      expect(err).toMatchObject({ name: 'ValidationError', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: expect.stringMatching(message) });
    });
  });

  describe('ModelError (424)', () => {
    it('when the artifact is corrupt, with the container status and log stream', async () => {
      const err = await failure(invoke(CORRUPT, normal));

      expect(err).toBeInstanceOf(ModelError);
      expect(err).toMatchObject({
        $metadata: { httpStatusCode: 424 },
        OriginalStatusCode: 500,
        OriginalMessage: expect.stringContaining('not gzip'),
        LogStreamArn: expect.stringMatching(/^arn:aws:logs:us-east-1:\d{12}:log-group:\/aws\/sagemaker\/Endpoints\/pumpwatch-test-models$/),
        message: expect.stringMatching(/^Received server error \(500\) from primary with message/),
      });
      expect(runtime.stats().endpoints[ENDPOINT]?.targets[CORRUPT]).toMatchObject({ invocations: 1, loadFailures: 1, errors: { ModelError: 1 } });
    });

    it.each([
      ['a window lacks a feature the model needs', inferenceRequest('P-1', [{ vibration: 2 }]), {}, 400, /lacks feature pressure\.mean/],
      ['the body is not JSON', 'nope', {}, 400, /not JSON/],
      ['the body is not an inference request', JSON.stringify({ windows: 3 }), {}, 400, /invalid inference request/],
      ['the content type is not JSON', normal, { ContentType: 'text/csv' }, 415, /text\/csv is not supported/],
      // The SDK sends application/octet-stream when ContentType is left out.
      ['ContentType is left out', normal, { ContentType: undefined }, 415, /application\/octet-stream is not supported/],
    ] as const)('when %s', async (_label, body, overrides, status, message) => {
      const err = await failure(invoke(P1_V1, body, overrides));

      expect(err).toBeInstanceOf(ModelError);
      expect(err).toMatchObject({
        OriginalStatusCode: status,
        OriginalMessage: expect.stringMatching(message),
        message: expect.stringMatching(new RegExp(`^Received client error \\(${status}\\) from primary`)),
      });
    });
  });

  describe('fault injection', () => {
    it('answers ModelNotReadyException (429) for the injected number of calls, then serves', async () => {
      runtime.injectFault(P1_V1, { kind: 'ModelNotReady', count: 2 });

      const first = await failure(invoke(P1_V1, normal));
      const second = await failure(invoke(P1_V1, normal));
      const third = await invoke(P1_V1, normal);

      expect(first).toBeInstanceOf(ModelNotReadyException);
      expect(second).toMatchObject({ name: 'ModelNotReadyException', $metadata: { httpStatusCode: 429 } });
      expect(third.response.modelId).toBe('P-1');
      expect(runtime.stats().endpoints[ENDPOINT]?.targets[P1_V1]).toMatchObject({
        invocations: 3,
        succeeded: 1,
        faults: 2,
        errors: { ModelNotReadyException: 2 },
      });
    });

    it('answers ModelError until cleared, only for the faulted target', async () => {
      runtime.injectFault(P1_V1, { kind: 'ModelError', untilCleared: true, originalStatusCode: 503, message: 'model crashed' });

      const errors = [await failure(invoke(P1_V1, normal)), await failure(invoke(P1_V1, normal))];
      const other = await invoke(P2_V1, normal);
      runtime.clearFaults(P1_V1);
      const after = await invoke(P1_V1, normal);

      for (const err of errors) {
        expect(err).toBeInstanceOf(ModelError);
        expect(err).toMatchObject({ OriginalStatusCode: 503, OriginalMessage: expect.stringContaining('model crashed') });
      }
      expect(other.response.modelId).toBe('P-2');
      expect(after.response.modelId).toBe('P-1');
    });

    it.each([
      ['ServiceUnavailable', ServiceUnavailable, 503],
      ['InternalFailure', InternalFailure, 500],
    ] as const)('answers %s with the SDK class', async (kind, errorClass, status) => {
      runtime.injectFault('*', { kind });

      const err = await failure(invoke(P2_V1, normal));

      expect(err).toBeInstanceOf(errorClass);
      expect(err).toMatchObject({ $fault: 'server', $metadata: { httpStatusCode: status } });
    });

    it('delays calls and then serves them', async () => {
      runtime.injectFault(P1_V1, { kind: 'delay', delayMs: 150 });

      const started = Date.now();
      const result = await invoke(P1_V1, normal);

      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      expect(result.response.modelId).toBe('P-1');
      expect(runtime.activeFaults()).toEqual([]);
    });

    it('rejects an invalid fault spec', () => {
      expect(() => runtime.injectFault(P1_V1, { kind: 'delay' })).toThrow(/delayMs/);
      expect(() => runtime.injectFault(P1_V1, { kind: 'ModelError', count: 2, untilCleared: true })).toThrow(/not both/);
    });
  });

  it('answers ModelNotReadyException while a model loads when configured not to wait', async () => {
    const eager = await startSageMakerRuntimeServer({ endpoints: { [ENDPOINT]: { bucket: BUCKET } }, s3, waitForLoad: false });
    const eagerClient = sageMakerClient(eager.url);
    try {
      const first = await failure(invoke(P2_V1, normal, {}, eagerClient));
      let served: InferenceResponse | undefined;
      for (let i = 0; i < 100 && served === undefined; i++) {
        await new Promise((r) => setTimeout(r, 20));
        served = await invoke(P2_V1, normal, {}, eagerClient).then(
          (r) => r.response,
          (err: unknown) => {
            if (err instanceof ModelNotReadyException) return undefined;
            throw err;
          },
        );
      }

      expect(first).toBeInstanceOf(ModelNotReadyException);
      expect(served?.modelId).toBe('P-2');
      expect(eager.stats().endpoints[ENDPOINT]?.targets[P2_V1]?.loads).toBe(1);
    } finally {
      eagerClient.destroy();
      await eager.close();
    }
  });

  it('closes idempotently', async () => {
    const extra = await startSageMakerRuntimeServer({ endpoints: { [ENDPOINT]: { bucket: BUCKET } }, s3 });

    await Promise.all([extra.close(), extra.close()]);
    await extra.close();

    await expect(fetch(`${extra.url}/ping`)).rejects.toThrow();
  });
});
