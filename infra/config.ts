import { z } from 'zod';
import { WindowConfigSchema } from '../shared/config';
import { ConfigError } from '../shared/errors';
import { resourceNames } from '../shared/names';
import { describeIssues } from '../shared/schemas/issues';

/**
 * Stage configuration of the CDK app: one zod schema, every field defaulted so `cdk synth` works with
 * no context at all. A stage is selected with `-c stage=NAME`; per-stage overrides live in the
 * `pumpwatch:stages` context object (cdk.json), single values can be overridden with
 * `-c account=...` / `-c region=...`. Invalid values fail synth with a message naming the field.
 */

const int = z.number().int();
const positiveInt = int.positive();

/** Valid CloudWatch Logs retention periods in days (CloudFormation rejects anything else). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** Fargate CPU units → allowed memory sizes (MiB). */
const FARGATE_MEMORY: Readonly<Record<number, (m: number) => boolean>> = {
  256: (m) => [512, 1024, 2048].includes(m),
  512: (m) => m >= 1024 && m <= 4096 && m % 1024 === 0,
  1024: (m) => m >= 2048 && m <= 8192 && m % 1024 === 0,
  2048: (m) => m >= 4096 && m <= 16384 && m % 1024 === 0,
  4096: (m) => m >= 8192 && m <= 30720 && m % 1024 === 0,
  8192: (m) => m >= 16384 && m <= 61440 && m % 4096 === 0,
  16384: (m) => m >= 32768 && m <= 122880 && m % 8192 === 0,
};

/** Whether `cpu`/`memoryMiB` is a Fargate task size. */
export function isFargateSize(cpu: number, memoryMiB: number): boolean {
  const check = FARGATE_MEMORY[cpu];
  return check !== undefined && check(memoryMiB);
}

const FargateSizeSchema = z
  .strictObject({
    cpu: positiveInt.default(512),
    memoryMiB: positiveInt.default(1024),
  })
  .refine((t) => isFargateSize(t.cpu, t.memoryMiB), {
    message: 'not a Fargate task size (cpu 256|512|1024|2048|4096|8192|16384 with a matching memory size)',
  });

const StreamConfigSchema = z
  .strictObject({
    /** `on-demand` scales shards automatically; `provisioned` needs `shardCount`. */
    mode: z.enum(['on-demand', 'provisioned']).default('on-demand'),
    shardCount: positiveInt.max(500).optional(),
    /** Kinesis retention: 24 hours to 365 days. */
    retentionHours: int.min(24).max(8760).default(48),
  })
  .superRefine((s, ctx) => {
    if (s.mode === 'provisioned' && s.shardCount === undefined) {
      ctx.addIssue({ code: 'custom', path: ['shardCount'], message: 'required when mode is "provisioned"' });
    }
    if (s.mode === 'on-demand' && s.shardCount !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['shardCount'], message: 'only allowed when mode is "provisioned"' });
    }
  });

const ArchiveConfigSchema = z
  .strictObject({
    /** S3 requires at least 30 days before STANDARD_IA. */
    infrequentAccessAfterDays: int.min(30).default(30),
    /** Glacier Instant Retrieval by default: replay jobs read old partitions without a restore. */
    coldStorageClass: z.enum(['GLACIER_IR', 'GLACIER', 'DEEP_ARCHIVE']).default('GLACIER_IR'),
    coldAfterDays: positiveInt.default(90),
    /** Delete raw telemetry after this many days; omit to keep it forever. */
    expireAfterDays: positiveInt.optional(),
    noncurrentVersionExpirationDays: positiveInt.default(30),
    /** Firehose buffering hints. */
    bufferIntervalSeconds: int.min(0).max(900).default(300),
    bufferSizeMiB: int.min(1).max(128).default(64),
    /** Access logs kept this long in the logs bucket. */
    accessLogExpirationDays: positiveInt.default(365),
  })
  .superRefine((a, ctx) => {
    if (a.coldAfterDays <= a.infrequentAccessAfterDays) {
      ctx.addIssue({ code: 'custom', path: ['coldAfterDays'], message: 'must be greater than infrequentAccessAfterDays' });
    }
    if (a.expireAfterDays !== undefined && a.expireAfterDays <= a.coldAfterDays) {
      ctx.addIssue({ code: 'custom', path: ['expireAfterDays'], message: 'must be greater than coldAfterDays' });
    }
  });

const ConsumerConfigSchema = z
  .strictObject({
    cpu: positiveInt.default(512),
    memoryMiB: positiveInt.default(1024),
    minCount: int.min(1).default(1),
    maxCount: positiveInt.default(4),
    /** Scale out when the stream's max iterator age is above this (the consumer is behind). */
    scaleOutIteratorAgeMs: positiveInt.default(60_000),
    /** Scale in when it is below this (the consumer is at the tip). */
    scaleInIteratorAgeMs: positiveInt.default(5_000),
    /** Time a task gets after SIGTERM to drain and checkpoint before SIGKILL (Fargate max 120 s). */
    stopTimeoutSeconds: int.min(2).max(120).default(120),
  })
  .refine((c) => isFargateSize(c.cpu, c.memoryMiB), { message: 'cpu/memoryMiB is not a Fargate task size', path: ['memoryMiB'] })
  .refine((c) => c.maxCount >= c.minCount, { message: 'must be >= minCount', path: ['maxCount'] })
  .refine((c) => c.scaleInIteratorAgeMs < c.scaleOutIteratorAgeMs, {
    message: 'must be less than scaleOutIteratorAgeMs',
    path: ['scaleInIteratorAgeMs'],
  });

const PUMP_TYPE = /^[a-z0-9]+(-[a-z0-9]+)*$/;

const ModelConfigSchema = z
  .strictObject({
    /** Defaults to resourceNames(stage).modelEndpointName. */
    endpointName: z
      .string()
      .regex(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/, 'SageMaker endpoint names are 1-63 of [a-zA-Z0-9-]')
      .optional(),
    instanceType: z.string().regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/, 'a SageMaker instance type such as ml.m5.large').default('ml.m5.large'),
    initialInstanceCount: positiveInt.default(1),
    minInstanceCount: positiveInt.default(1),
    maxInstanceCount: positiveInt.default(2),
    /** Target for the SageMakerVariantInvocationsPerInstance metric (invocations per instance per minute). */
    targetInvocationsPerInstance: positiveInt.default(1_000),
    /** One SageMaker model package group per pump type. */
    pumpTypes: z
      .array(
        z
          .string()
          .regex(PUMP_TYPE, 'pump types are lower-case kebab-case')
          .refine((t) => t !== 'pump' && !t.startsWith('pump-'), 'a pump type must not be "pump" or start with "pump-" (the prefix of single pumps\' model package groups)'),
      )
      .min(1)
      .default(['centrifugal']),
    /**
     * The model registry the workers and the replay job use: the SageMaker Model Registry (model
     * package groups; data scientists approve there, and approvals reach the workers through the
     * routing queue), or the models table (the local stack's registry).
     */
    registry: z.enum(['sagemaker', 'dynamodb']).default('sagemaker'),
  })
  .refine((m) => m.maxInstanceCount >= m.minInstanceCount, { message: 'must be >= minInstanceCount', path: ['maxInstanceCount'] })
  .refine((m) => m.initialInstanceCount >= m.minInstanceCount && m.initialInstanceCount <= m.maxInstanceCount, {
    message: 'must be between minInstanceCount and maxInstanceCount',
    path: ['initialInstanceCount'],
  })
  .refine((m) => new Set(m.pumpTypes).size === m.pumpTypes.length, { message: 'must not repeat a pump type', path: ['pumpTypes'] });

const AlertsConfigSchema = z.strictObject({
  /** EventBridge archive retention; 0 keeps events indefinitely. */
  archiveRetentionDays: int.min(0).default(30),
  /** Retry policy of every rule target. */
  maxEventAgeSeconds: int.min(60).max(86_400).default(3_600),
  retryAttempts: int.min(0).max(185).default(24),
});

const AlarmConfigSchema = z.strictObject({
  /** Alarm when the stream's max iterator age stays above this (consumers are behind). */
  iteratorAgeMs: positiveInt.default(300_000),
  /** Alarm when quarantined records exceed this share of records read (percent). */
  quarantineRatePercent: z.number().positive().max(100).default(5),
  /** Model invocation errors per 5 minutes (pumpwatch client errors and SageMaker 5XX). */
  modelErrors: positiveInt.default(10),
  /** Outbox events written but not yet published. */
  outboxBacklog: positiveInt.default(500),
  /** Messages in any dead-letter queue. */
  deadLetterMessages: positiveInt.default(1),
  /** Evaluation: datapoints (of 1-minute periods) that must breach. */
  evaluationPeriods: positiveInt.default(5),
});

const NetworkConfigSchema = z
  .strictObject({
    maxAzs: int.min(2).max(6).default(2),
    /**
     * Pin the AZs (e.g. ["eu-west-1a","eu-west-1b"]). Without them, a synth for a concrete account and
     * region looks the AZs up once (credentials needed, cached in cdk.context.json).
     */
    availabilityZones: z
      .array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, 'an availability zone such as eu-west-1a'))
      .min(2)
      .max(6)
      .optional(),
    natGateways: int.min(1).max(6).default(1),
  })
  .refine((n) => n.natGateways <= (n.availabilityZones?.length ?? n.maxAzs), {
    message: 'must not exceed the number of availability zones',
    path: ['natGateways'],
  });

/** The schema of one stage. */
export const StageConfigSchema = z
  .strictObject({
    stage: z.string().default('dev'),
    /** 12-digit account id; omitted → environment-agnostic stacks (names use the AWS::AccountId token). */
    account: z.string().regex(/^\d{12}$/, 'a 12-digit AWS account id').optional(),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as eu-west-1').default('us-east-1'),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    /** Stateful resources: deletion protection on tables and termination protection on the data stack. */
    protectData: z.boolean().default(true),
    logRetentionDays: z
      .number()
      .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
        message: `must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
      })
      .default(30),
    stream: StreamConfigSchema.prefault({}),
    archive: ArchiveConfigSchema.prefault({}),
    window: WindowConfigSchema.prefault({}),
    consumer: ConsumerConfigSchema.prefault({}),
    replay: FargateSizeSchema.prefault({ cpu: 1024, memoryMiB: 2048 }),
    model: ModelConfigSchema.prefault({}),
    alerts: AlertsConfigSchema.prefault({}),
    alarms: AlarmConfigSchema.prefault({}),
    network: NetworkConfigSchema.prefault({}),
  })
  .superRefine((c, ctx) => {
    try {
      resourceNames(c.stage);
    } catch (err) {
      ctx.addIssue({ code: 'custom', path: ['stage'], message: (err as Error).message });
    }
    if (c.stream.mode === 'provisioned' && c.stream.shardCount !== undefined && c.consumer.maxCount > c.stream.shardCount) {
      ctx.addIssue({
        code: 'custom',
        path: ['consumer', 'maxCount'],
        message: `must not exceed stream.shardCount (${c.stream.shardCount}): a worker without a shard lease idles`,
      });
    }
  });

export type StageConfig = z.output<typeof StageConfigSchema>;
export type StageConfigInput = z.input<typeof StageConfigSchema>;

/** Parses a stage configuration, failing with one line per bad field. */
export function parseStageConfig(input: unknown): StageConfig {
  const parsed = StageConfigSchema.safeParse(input);
  if (!parsed.success) {
    const stage = typeof input === 'object' && input !== null && 'stage' in input ? String(input.stage) : 'dev';
    throw new ConfigError(`invalid stage config for "${stage}": ${describeIssues(parsed.error)}`, parsed.error);
  }
  return parsed.data;
}

/** The context keys the app reads. */
export const CONTEXT_KEYS = {
  stage: 'stage',
  stages: 'pumpwatch:stages',
  account: 'account',
  region: 'region',
} as const;

type ContextReader = (key: string) => unknown;

/** `-c key=value` values arrive as strings; objects may arrive as JSON text. */
function asObject(value: unknown, key: string): Record<string, unknown> {
  if (value === undefined) return {};
  let v = value;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch (err) {
      throw new ConfigError(`context ${key} is not valid JSON`, err);
    }
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new ConfigError(`context ${key} must be an object`);
  }
  return v as Record<string, unknown>;
}

/**
 * Reads the stage configuration from CDK context (`tryGetContext`) and, for account and region, the
 * CLI's defaults (`CDK_DEFAULT_ACCOUNT`, `CDK_DEFAULT_REGION`).
 */
export function stageConfigFromContext(
  read: ContextReader,
  env: Readonly<Record<string, string | undefined>> = {},
): StageConfig {
  const stageValue = read(CONTEXT_KEYS.stage);
  const stage = stageValue === undefined ? 'dev' : String(stageValue);
  const stages = asObject(read(CONTEXT_KEYS.stages), CONTEXT_KEYS.stages);
  const perStage = asObject(stages[stage], `${CONTEXT_KEYS.stages}.${stage}`);
  const pick = (key: string): unknown => {
    const fromContext = read(key);
    if (fromContext !== undefined) return String(fromContext);
    return perStage[key];
  };
  const input = {
    ...perStage,
    stage,
    // The CLI sets these only when it can resolve credentials; empty means unknown.
    account: pick(CONTEXT_KEYS.account) ?? (env.CDK_DEFAULT_ACCOUNT || undefined),
    region: pick(CONTEXT_KEYS.region) ?? (env.CDK_DEFAULT_REGION || undefined),
  };
  return parseStageConfig(input);
}

/**
 * The SSM parameter holding the model server image URI of a stage. The model stack writes it; the
 * worker tasks read it at start (it goes into the model packages they register). A parameter, not a
 * cross-stack export, so a new model server image deploys without touching the pipeline stack.
 */
export function modelImageParameterName(stage: string): string {
  return `/pumpwatch/${stage}/model-server-image`;
}

/** The endpoint name of a stage: the configured one or the shared default. */
export function modelEndpointName(config: StageConfig): string {
  return config.model.endpointName ?? resourceNames(config.stage).modelEndpointName;
}
