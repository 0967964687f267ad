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
 * Which environment variable carries each field of the configuration's sections: loadConfig reads
 * through these maps and configToEnv writes through them, so the two directions cannot disagree.
 */
const NAME_VARS = {
  streamName: ENV.streamName,
  bucketName: ENV.bucketName,
  eventBusName: ENV.eventBusName,
  modelEndpointName: ENV.modelEndpointName,
} as const satisfies Record<Exclude<keyof Config['names'], 'tables'>, string>;
const TABLE_VARS = {
  leases: ENV.leaseTable,
  pumps: ENV.pumpTable,
  state: ENV.stateTable,
  windows: ENV.windowTable,
  events: ENV.eventTable,
  models: ENV.modelTable,
  quarantine: ENV.quarantineTable,
  replay: ENV.replayTable,
} as const satisfies Record<keyof Config['names']['tables'], string>;
const ENDPOINT_VARS = {
  kinesis: ENV.kinesisEndpoint,
  dynamodb: ENV.dynamodbEndpoint,
  s3: ENV.s3Endpoint,
  eventBridge: ENV.eventBridgeEndpoint,
  sageMakerRuntime: ENV.sageMakerRuntimeEndpoint,
} as const satisfies Record<keyof Config['endpoints'], string>;
const WINDOW_VARS = {
  sizeMs: ENV.windowSizeMs,
  hopMs: ENV.windowHopMs,
  outOfOrdernessMs: ENV.outOfOrdernessMs,
  allowedLatenessMs: ENV.allowedLatenessMs,
  idleTimeoutMs: ENV.idleTimeoutMs,
  maxFutureSkewMs: ENV.maxFutureSkewMs,
} as const satisfies Record<keyof WindowConfig, string>;
const CONSUMER_VARS = {
  failoverTimeMs: ENV.failoverTimeMs,
  takerIntervalMs: ENV.takerIntervalMs,
  shardSyncIntervalMs: ENV.shardSyncIntervalMs,
  idleTimeBetweenReadsMs: ENV.idleTimeBetweenReadsMs,
  checkpointIntervalMs: ENV.checkpointIntervalMs,
  routeRefreshMs: ENV.routeRefreshMs,
  inferenceTimeoutMs: ENV.inferenceTimeoutMs,
  unscoredRetryMs: ENV.unscoredRetryMs,
  outboxSweepMs: ENV.outboxSweepMs,
  metricsIntervalMs: ENV.metricsIntervalMs,
} as const satisfies Record<keyof ConsumerConfig, string>;
const ARCHIVE_VARS = {
  applicationName: ENV.archiverApplicationName,
  bufferMs: ENV.archiveBufferMs,
  bufferBytes: ENV.archiveBufferBytes,
} as const satisfies Record<keyof ArchiveConfig, string>;
const REPLAY_VARS = { batchRecords: ENV.replayBatchRecords } as const satisfies Record<keyof ReplayConfig, string>;
/** Optional top-level fields, written only when set. */
const OPTIONAL_VARS = {
  workerId: ENV.workerId,
  faults: ENV.faults,
  recordAuditFile: ENV.recordAuditFile,
  routingQueueUrl: ENV.routingQueueUrl,
  modelImageUri: ENV.modelImageUri,
} as const satisfies Partial<Record<keyof Config, string>>;

/** The fields that are set (so defaults underneath are kept). */
function definedOnly<T extends Record<string, string | undefined>>(fields: T): Partial<Record<keyof T, string>> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<Record<keyof T, string>>;
}

/** A section's fields as read from the environment (empty values count as unset). */
function readSection<K extends string>(vars: Readonly<Record<K, string>>, pick: (key: string) => string | undefined): Record<K, string | undefined> {
  return Object.fromEntries(Object.entries<string>(vars).map(([field, key]) => [field, pick(key)])) as Record<K, string | undefined>;
}

/** A section's fields as environment variables (unset fields are left out). */
function writeSection<K extends string>(vars: Readonly<Record<K, string>>, section: NoInfer<Readonly<Partial<Record<K, unknown>>>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [field, key] of Object.entries<string>(vars)) {
    const v = section[field as K];
    if (v !== undefined && v !== '') out[key] = String(v);
  }
  return out;
}

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
    endpoints: readSection(ENDPOINT_VARS, pick),
    names: {
      ...defaults,
      ...definedOnly(readSection(NAME_VARS, pick)),
      tables: { ...defaults.tables, ...definedOnly(readSection(TABLE_VARS, pick)) },
    },
    window: readSection(WINDOW_VARS, pick) as ConfigInput['window'],
    consumer: readSection(CONSUMER_VARS, pick) as ConfigInput['consumer'],
    archive: readSection(ARCHIVE_VARS, pick) as ConfigInput['archive'],
    replay: readSection(REPLAY_VARS, pick) as ConfigInput['replay'],
    applicationName: pick(ENV.applicationName),
    modelRegistry: pick(ENV.modelRegistry) as ConfigInput['modelRegistry'],
    ...readSection(OPTIONAL_VARS, pick),
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
    ...writeSection(NAME_VARS, config.names),
    ...writeSection(TABLE_VARS, config.names.tables),
    ...writeSection(WINDOW_VARS, config.window),
    [ENV.applicationName]: config.applicationName,
    ...writeSection(CONSUMER_VARS, config.consumer),
    ...writeSection(ARCHIVE_VARS, config.archive),
    ...writeSection(REPLAY_VARS, config.replay),
    ...writeSection(ENDPOINT_VARS, config.endpoints),
    ...writeSection(OPTIONAL_VARS, config),
  };
  if (config.modelRegistry !== 'dynamodb') out[ENV.modelRegistry] = config.modelRegistry;
  return out;
}
