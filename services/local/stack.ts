import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { type AwsClients, createAwsClients } from '../../shared/aws/clients';
import { type Config, configToEnv, loadConfig } from '../../shared/config';
import { ENV } from '../../shared/env';
import { getLogger } from '../../shared/logging';
import { S3_PREFIXES } from '../../shared/names';
import { type EventBridgeServer, startEventBridgeServer } from './eventbridge/index';
import { ensureResources } from './resources';
import { type SageMakerRuntimeServer, startSageMakerRuntimeServer } from './sagemaker/runtime-server';

// The emulators are plain CommonJS packages without type declarations.
const nodeRequire = createRequire(__filename);
type ListenFactory = (options: Record<string, unknown>) => Server;
const kinesalite = nodeRequire('kinesalite') as ListenFactory;
const dynalite = nodeRequire('dynalite') as ListenFactory;
const S3rver = nodeRequire('s3rver') as new (options: Record<string, unknown>) => { run(): Promise<AddressInfo>; close(): Promise<void> };

const log = {
  info: (o: object, m: string) => getLogger('local').info(o, m),
  warn: (o: object, m: string) => getLogger('local').warn(o, m),
};

export interface LocalStackOptions {
  /** Persist emulator data here (a restart keeps state). Omit for in-memory (tests). */
  readonly dataDir?: string;
  readonly host?: string;
  readonly stage?: string;
  readonly shardCount?: number;
  /** Extra environment on top of the stack's (window sizes, consumer knobs, …). */
  readonly env?: Readonly<Record<string, string>>;
}

/** A running local stack: emulators, resources, and the configuration that points at them. */
export interface LocalStack {
  readonly config: Config;
  /** Environment variables for other processes (workers, CLI) to reach this stack. */
  readonly env: Record<string, string>;
  readonly clients: AwsClients;
  readonly eventBridge: EventBridgeServer;
  readonly sageMaker: SageMakerRuntimeServer;
  stop(): Promise<void>;
}

function listen(server: Server, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as AddressInfo;
      resolve(`http://${host}:${port}`);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    (server as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
  });
}

/**
 * Starts kinesalite, dynalite, s3rver, the local EventBridge bus and the SageMaker-runtime
 * endpoint on loopback (free ports), then creates the stream, tables, bucket and bus with the
 * names the CDK app uses. With `dataDir`, data survives a restart; without, it is in memory.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const host = options.host ?? '127.0.0.1';
  const dataDir = options.dataDir;
  const s3Dir = dataDir ? join(dataDir, 's3') : mkdtempSync(join(tmpdir(), 'pumpwatch-s3-'));
  if (dataDir) for (const d of ['kinesis', 'dynamodb', 's3', 'eventbridge']) mkdirSync(join(dataDir, d), { recursive: true });
  const stops: (() => Promise<void>)[] = [];
  try {
    const kinesis = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100, ...(dataDir ? { path: join(dataDir, 'kinesis') } : {}) });
    const kinesisUrl = await listen(kinesis, host);
    stops.push(() => closeServer(kinesis));
    const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(dataDir ? { path: join(dataDir, 'dynamodb') } : {}) });
    const dynamoUrl = await listen(dynamo, host);
    stops.push(() => closeServer(dynamo));
    const s3 = new S3rver({ port: 0, address: host, silent: true, directory: s3Dir, configureBuckets: [] });
    const s3Address = await s3.run();
    const s3Url = `http://${host}:${s3Address.port}`;
    stops.push(async () => {
      await s3.close();
      if (!dataDir) rmSync(s3Dir, { recursive: true, force: true });
    });
    const eventBridge = await startEventBridgeServer({ host, port: 0, ...(dataDir ? { dataDir: join(dataDir, 'eventbridge') } : {}) });
    stops.push(() => eventBridge.close());

    const env = {
      [ENV.stage]: options.stage ?? 'local',
      [ENV.kinesisEndpoint]: kinesisUrl,
      [ENV.dynamodbEndpoint]: dynamoUrl,
      [ENV.s3Endpoint]: s3Url,
      [ENV.eventBridgeEndpoint]: eventBridge.url,
      ...options.env,
    };
    const preliminary = loadConfig(env);
    const clients = createAwsClients(preliminary);
    stops.push(async () => clients.destroy());
    const sageMaker = await startSageMakerRuntimeServer({
      host,
      port: 0,
      s3: clients.s3,
      endpoints: { [preliminary.names.modelEndpointName]: { bucket: preliminary.names.bucketName, prefix: S3_PREFIXES.models } },
    });
    stops.push(() => sageMaker.close());
    const config = loadConfig({ ...env, [ENV.sageMakerRuntimeEndpoint]: sageMaker.url });
    const fullClients = createAwsClients(config);
    stops.push(async () => fullClients.destroy());
    await ensureResources(fullClients, config, { shardCount: options.shardCount ?? 2 });
    log.info({ kinesis: kinesisUrl, dynamodb: dynamoUrl, s3: s3Url, eventBridge: eventBridge.url, sageMaker: sageMaker.url, dataDir: dataDir ?? null }, 'local stack up');
    let stopped: Promise<void> | undefined;
    return {
      config,
      env: configToEnv(config),
      clients: fullClients,
      eventBridge,
      sageMaker,
      stop() {
        stopped ??= (async () => {
          for (const stop of stops.reverse()) await stop().catch((err) => log.warn({ err }, 'stop failed'));
        })();
        return stopped;
      },
    };
  } catch (err) {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    throw err;
  }
}
