import { z } from 'zod';
import { ENV } from './env';
import { ConfigError } from './errors';
import { resourceNames } from './names';
import { describeIssues } from './schemas/issues';

const url = z.url({ protocol: /^https?$/ });
const ms = z.coerce.number().int().nonnegative();
const msPositive = z.coerce.number().int().positive();

/** Windowing knobs (event time). */
export const WindowConfigSchema = z
  .strictObject({
    sizeMs: msPositive.default(10_000),
    /** Equal to sizeMs for tumbling windows; smaller for hopping ones (must divide sizeMs). */
    hopMs: msPositive.optional(),
    /** The watermark trails the newest event time of a pump by this much. */
    outOfOrdernessMs: ms.default(2_000),
    /** A window stays open this long after the watermark passes its end. */
    allowedLatenessMs: ms.default(3_000),
    /** A pump silent this long (processing time, reader at the tip) has its windows closed. */
    idleTimeoutMs: msPositive.default(15_000),
    maxFutureSkewMs: ms.default(300_000),
  })
  .transform((w) => ({ ...w, hopMs: w.hopMs ?? w.sizeMs }))
  .refine((w) => w.hopMs <= w.sizeMs && w.sizeMs % w.hopMs === 0, {
    message: 'hopMs must divide sizeMs',
    path: ['hopMs'],
  });
export type WindowConfig = z.output<typeof WindowConfigSchema>;

/** Consumer worker knobs; defaults close to the KCL's. */
export const ConsumerConfigSchema = z.strictObject({
  failoverTimeMs: msPositive.default(10_000),
  takerIntervalMs: msPositive.default(5_000),
  shardSyncIntervalMs: msPositive.default(30_000),
  idleTimeBetweenReadsMs: msPositive.default(500),
  checkpointIntervalMs: msPositive.default(5_000),
  /** How long a cached model route is trusted: bounds how fast an approval takes effect. */
  routeRefreshMs: msPositive.default(5_000),
  inferenceTimeoutMs: msPositive.default(5_000),
  /** First retry delay of an UNSCORED window (doubles up to 5 minutes). */
  unscoredRetryMs: msPositive.default(5_000),
  outboxSweepMs: msPositive.default(10_000),
  /** How often a worker logs its metrics line (leases, records/s, lag, checkpoint lag). */
  metricsIntervalMs: msPositive.default(10_000),
});
export type ConsumerConfig = z.output<typeof ConsumerConfigSchema>;

/**
 * The local raw archiver (services/archiver): its lease group and its buffering, like Firehose's
 * buffering hints (an object is written when either bound is reached, or at the end of an hour).
 */
export const ArchiveConfigSchema = z.strictObject({
  applicationName: z.string().min(1).default('pumpwatch-archiver'),
  bufferMs: msPositive.default(60_000),
  bufferBytes: z.coerce.number().int().min(1_024).max(128 * 1_048_576).default(5 * 1_048_576),
});
export type ArchiveConfig = z.output<typeof ArchiveConfigSchema>;

/** Replay jobs (services/replay). */
export const ReplayConfigSchema = z.strictObject({
  /**
   * Records handed to the pipeline per call: a pump's windows that close in one call are scored in
   * one InvokeEndpoint (up to 50), and the job's cursor is written after each call.
   */
  batchRecords: z.coerce.number().int().min(1).max(10_000).default(10_000),
});
export type ReplayConfig = z.output<typeof ReplayConfigSchema>;

export const ConfigSchema = z.strictObject({
  stage: z.string().default('local'),
  region: z.string().min(1).default('us-east-1'),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  endpoints: z.strictObject({
    kinesis: url.optional(),
    dynamodb: url.optional(),
    s3: url.optional(),
    eventBridge: url.optional(),
    sageMakerRuntime: url.optional(),
  }),
  names: z.strictObject({
    streamName: z.string().min(1),
    bucketName: z.string().min(3),
    eventBusName: z.string().min(1),
    modelEndpointName: z.string().min(1),
    tables: z.strictObject({
      leases: z.string().min(3),
      pumps: z.string().min(3),
      state: z.string().min(3),
      windows: z.string().min(3),
      events: z.string().min(3),
      models: z.string().min(3),
      quarantine: z.string().min(3),
      replay: z.string().min(3),
    }),
  }),
  window: WindowConfigSchema,
  consumer: ConsumerConfigSchema,
  archive: ArchiveConfigSchema,
  replay: ReplayConfigSchema,
  applicationName: z.string().min(1).default('pumpwatch-consumer'),
  workerId: z.string().min(1).optional(),
  /** Fault injection spec (see shared/faults.ts); empty in normal operation. */
  faults: z.string().optional(),
  /** Audit trail of processed records (JSON lines), for debugging and fault-tolerance tests. */
  recordAuditFile: z.string().optional(),
  /** SQS queue of model package state changes (set on AWS by the CDK app). */
  routingQueueUrl: url.optional(),
  /** The model registry adapter: the models table, or the SageMaker Model Registry. */
  modelRegistry: z.enum(['dynamodb', 'sagemaker']).default('dynamodb'),
  /** Container image recorded in SageMaker model packages (needed to register versions there). */
  modelImageUri: z.string().min(1).optional(),
});
export type Config = z.output<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads and validates the configuration once, from environment variables named in {@link ENV}.
 * Names default to the stage's {@link resourceNames}; any of them can be overridden one by one.
 */
export function loadConfig(env: Env, overrides: Partial<ConfigInput> = {}): Config {
  const stage = env[ENV.stage] ?? 'local';
  let defaults;
  try {
    defaults = resourceNames(stage);
  } catch (err) {
    throw new ConfigError(`${ENV.stage}: ${(err as Error).message}`, err);
  }
  const pick = (key: string): string | undefined => (env[key] === '' ? undefined : env[key]);
  const input: ConfigInput = {
    stage,
    region: pick(ENV.region) ?? pick('AWS_DEFAULT_REGION'),
    logLevel: pick(ENV.logLevel) as ConfigInput['logLevel'],
    endpoints: {
      kinesis: pick(ENV.kinesisEndpoint),
      dynamodb: pick(ENV.dynamodbEndpoint),
      s3: pick(ENV.s3Endpoint),
      eventBridge: pick(ENV.eventBridgeEndpoint),
      sageMakerRuntime: pick(ENV.sageMakerRuntimeEndpoint),
    },
    names: {
      streamName: pick(ENV.streamName) ?? defaults.streamName,
      bucketName: pick(ENV.bucketName) ?? defaults.bucketName,
      eventBusName: pick(ENV.eventBusName) ?? defaults.eventBusName,
      modelEndpointName: pick(ENV.modelEndpointName) ?? defaults.modelEndpointName,
      tables: {
        leases: pick(ENV.leaseTable) ?? defaults.tables.leases,
        pumps: pick(ENV.pumpTable) ?? defaults.tables.pumps,
        state: pick(ENV.stateTable) ?? defaults.tables.state,
        windows: pick(ENV.windowTable) ?? defaults.tables.windows,
        events: pick(ENV.eventTable) ?? defaults.tables.events,
        models: pick(ENV.modelTable) ?? defaults.tables.models,
        quarantine: pick(ENV.quarantineTable) ?? defaults.tables.quarantine,
        replay: pick(ENV.replayTable) ?? defaults.tables.replay,
      },
    },
    window: {
      sizeMs: pick(ENV.windowSizeMs),
      hopMs: pick(ENV.windowHopMs),
      outOfOrdernessMs: pick(ENV.outOfOrdernessMs),
      allowedLatenessMs: pick(ENV.allowedLatenessMs),
      idleTimeoutMs: pick(ENV.idleTimeoutMs),
      maxFutureSkewMs: pick(ENV.maxFutureSkewMs),
    } as ConfigInput['window'],
    consumer: {
      failoverTimeMs: pick(ENV.failoverTimeMs),
      takerIntervalMs: pick(ENV.takerIntervalMs),
      shardSyncIntervalMs: pick(ENV.shardSyncIntervalMs),
      idleTimeBetweenReadsMs: pick(ENV.idleTimeBetweenReadsMs),
      checkpointIntervalMs: pick(ENV.checkpointIntervalMs),
      routeRefreshMs: pick(ENV.routeRefreshMs),
      inferenceTimeoutMs: pick(ENV.inferenceTimeoutMs),
      unscoredRetryMs: pick(ENV.unscoredRetryMs),
      outboxSweepMs: pick(ENV.outboxSweepMs),
      metricsIntervalMs: pick(ENV.metricsIntervalMs),
    } as ConfigInput['consumer'],
    archive: {
      applicationName: pick(ENV.archiverApplicationName),
      bufferMs: pick(ENV.archiveBufferMs),
      bufferBytes: pick(ENV.archiveBufferBytes),
    } as ConfigInput['archive'],
    replay: { batchRecords: pick(ENV.replayBatchRecords) } as ConfigInput['replay'],
    applicationName: pick(ENV.applicationName),
    workerId: pick(ENV.workerId),
    faults: pick(ENV.faults),
    recordAuditFile: pick(ENV.recordAuditFile),
    routingQueueUrl: pick(ENV.routingQueueUrl),
    modelRegistry: pick(ENV.modelRegistry) as ConfigInput['modelRegistry'],
    modelImageUri: pick(ENV.modelImageUri),
    ...overrides,
  };
  const parsed = ConfigSchema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(`invalid configuration: ${describeIssues(parsed.error)}`, parsed.error);
  }
  return parsed.data;
}

/** The environment that makes {@link loadConfig} return `config` (for child processes, env files, CDK). */
export function configToEnv(config: Config): Record<string, string> {
  const out: Record<string, string> = {
    [ENV.stage]: config.stage,
    [ENV.region]: config.region,
    [ENV.logLevel]: config.logLevel,
    [ENV.streamName]: config.names.streamName,
    [ENV.bucketName]: config.names.bucketName,
    [ENV.eventBusName]: config.names.eventBusName,
    [ENV.modelEndpointName]: config.names.modelEndpointName,
    [ENV.leaseTable]: config.names.tables.leases,
    [ENV.pumpTable]: config.names.tables.pumps,
    [ENV.stateTable]: config.names.tables.state,
    [ENV.windowTable]: config.names.tables.windows,
    [ENV.eventTable]: config.names.tables.events,
    [ENV.modelTable]: config.names.tables.models,
    [ENV.quarantineTable]: config.names.tables.quarantine,
    [ENV.replayTable]: config.names.tables.replay,
    [ENV.windowSizeMs]: String(config.window.sizeMs),
    [ENV.windowHopMs]: String(config.window.hopMs),
    [ENV.outOfOrdernessMs]: String(config.window.outOfOrdernessMs),
    [ENV.allowedLatenessMs]: String(config.window.allowedLatenessMs),
    [ENV.idleTimeoutMs]: String(config.window.idleTimeoutMs),
    [ENV.maxFutureSkewMs]: String(config.window.maxFutureSkewMs),
    [ENV.applicationName]: config.applicationName,
    [ENV.failoverTimeMs]: String(config.consumer.failoverTimeMs),
    [ENV.takerIntervalMs]: String(config.consumer.takerIntervalMs),
    [ENV.shardSyncIntervalMs]: String(config.consumer.shardSyncIntervalMs),
    [ENV.idleTimeBetweenReadsMs]: String(config.consumer.idleTimeBetweenReadsMs),
    [ENV.checkpointIntervalMs]: String(config.consumer.checkpointIntervalMs),
    [ENV.routeRefreshMs]: String(config.consumer.routeRefreshMs),
    [ENV.inferenceTimeoutMs]: String(config.consumer.inferenceTimeoutMs),
    [ENV.unscoredRetryMs]: String(config.consumer.unscoredRetryMs),
    [ENV.outboxSweepMs]: String(config.consumer.outboxSweepMs),
    [ENV.metricsIntervalMs]: String(config.consumer.metricsIntervalMs),
    [ENV.archiverApplicationName]: config.archive.applicationName,
    [ENV.archiveBufferMs]: String(config.archive.bufferMs),
    [ENV.archiveBufferBytes]: String(config.archive.bufferBytes),
    [ENV.replayBatchRecords]: String(config.replay.batchRecords),
  };
  const endpoints: [string, string | undefined][] = [
    [ENV.kinesisEndpoint, config.endpoints.kinesis],
    [ENV.dynamodbEndpoint, config.endpoints.dynamodb],
    [ENV.s3Endpoint, config.endpoints.s3],
    [ENV.eventBridgeEndpoint, config.endpoints.eventBridge],
    [ENV.sageMakerRuntimeEndpoint, config.endpoints.sageMakerRuntime],
  ];
  for (const [k, v] of endpoints) if (v) out[k] = v;
  if (config.workerId) out[ENV.workerId] = config.workerId;
  if (config.faults) out[ENV.faults] = config.faults;
  if (config.recordAuditFile) out[ENV.recordAuditFile] = config.recordAuditFile;
  if (config.routingQueueUrl) out[ENV.routingQueueUrl] = config.routingQueueUrl;
  if (config.modelRegistry !== 'dynamodb') out[ENV.modelRegistry] = config.modelRegistry;
  if (config.modelImageUri) out[ENV.modelImageUri] = config.modelImageUri;
  return out;
}
