import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent } from 'node:http';
import type { Config } from '../config';

/**
 * Placeholder credentials for the local emulators, not secrets: s3rver accepts only its documented
 * default key pair `S3RVER`/`S3RVER`; the other emulators accept any key.
 */
const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface ClientOptions {
  /** Total attempts per call, including the first (SDK standard retry mode). */
  readonly maxAttempts?: number;
  readonly connectionTimeoutMs?: number;
  readonly requestTimeoutMs?: number;
}

function common(region: string, endpoint: string | undefined, opts: ClientOptions, defaults: Required<ClientOptions>) {
  const requestHandler = new NodeHttpHandler({
    connectionTimeout: opts.connectionTimeoutMs ?? defaults.connectionTimeoutMs,
    requestTimeout: opts.requestTimeoutMs ?? defaults.requestTimeoutMs,
    // Keep-alive with a bounded pool: workers make many small calls.
    httpAgent: new Agent({ keepAlive: true, maxSockets: 64 }),
  });
  return {
    region,
    maxAttempts: opts.maxAttempts ?? defaults.maxAttempts,
    retryMode: 'standard' as const,
    requestHandler,
    ...(endpoint ? { endpoint, credentials: LOCAL_CREDENTIALS } : {}),
  };
}

const FAST = { maxAttempts: 3, connectionTimeoutMs: 2_000, requestTimeoutMs: 10_000 };

/**
 * Kinesis client. Always an HTTP/1.1 NodeHttpHandler: kinesalite does not speak the HTTP/2 the v3
 * client would otherwise negotiate for some operations.
 */
export function createKinesisClient(config: Pick<Config, 'region' | 'endpoints'>, opts: ClientOptions = {}): KinesisClient {
  return new KinesisClient(common(config.region, config.endpoints.kinesis, opts, FAST));
}

export function createDynamoDbClient(config: Pick<Config, 'region' | 'endpoints'>, opts: ClientOptions = {}): DynamoDBClient {
  return new DynamoDBClient(common(config.region, config.endpoints.dynamodb, opts, FAST));
}

/** Document client: native JS values in and out; undefined attributes dropped. */
export function createDocumentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

export function createS3Client(config: Pick<Config, 'region' | 'endpoints'>, opts: ClientOptions = {}): S3Client {
  return new S3Client({
    ...common(config.region, config.endpoints.s3, opts, { ...FAST, requestTimeoutMs: 60_000 }),
    // s3rver serves buckets by path, not by virtual host.
    forcePathStyle: config.endpoints.s3 !== undefined,
  });
}

export function createEventBridgeClient(config: Pick<Config, 'region' | 'endpoints'>, opts: ClientOptions = {}): EventBridgeClient {
  return new EventBridgeClient(common(config.region, config.endpoints.eventBridge, opts, FAST));
}

/**
 * SageMaker runtime client. Retries are left to the inference client, which knows which failures
 * leave a window UNSCORED, so the SDK makes one attempt.
 */
export function createSageMakerRuntimeClient(
  config: Pick<Config, 'region' | 'endpoints'>,
  opts: ClientOptions = {},
): SageMakerRuntimeClient {
  return new SageMakerRuntimeClient(
    common(config.region, config.endpoints.sageMakerRuntime, opts, { maxAttempts: 1, connectionTimeoutMs: 2_000, requestTimeoutMs: 30_000 }),
  );
}

/** SQS client (AWS only: the routing queue of model package state changes). */
export function createSqsClient(config: Pick<Config, 'region'>, opts: ClientOptions = {}): SQSClient {
  // Long polls wait up to 20 s, so the request timeout leaves room for them.
  return new SQSClient(common(config.region, undefined, opts, { maxAttempts: 3, connectionTimeoutMs: 2_000, requestTimeoutMs: 30_000 }));
}

/** Every client a service may need, built once in its composition root. */
export interface AwsClients {
  readonly kinesis: KinesisClient;
  readonly dynamodb: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  readonly s3: S3Client;
  readonly eventBridge: EventBridgeClient;
  readonly sageMakerRuntime: SageMakerRuntimeClient;
  destroy(): void;
}

export function createAwsClients(config: Pick<Config, 'region' | 'endpoints'>): AwsClients {
  const dynamodb = createDynamoDbClient(config);
  const clients = {
    kinesis: createKinesisClient(config),
    dynamodb,
    doc: createDocumentClient(dynamodb),
    s3: createS3Client(config),
    eventBridge: createEventBridgeClient(config),
    sageMakerRuntime: createSageMakerRuntimeClient(config),
  };
  return {
    ...clients,
    destroy() {
      for (const c of Object.values(clients)) c.destroy();
    },
  };
}
