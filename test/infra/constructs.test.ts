import { Duration, RemovalPolicy, type Stack, Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { ARCHIVE_ERROR_PREFIX_EXPRESSION, ARCHIVE_PREFIX_EXPRESSION, archiveHourPrefix } from '../../infra/archive-layout';
import { ConsumerService } from '../../infra/constructs/consumer-service';
import { DataBucket } from '../../infra/constructs/data-bucket';
import { DataTables } from '../../infra/constructs/data-tables';
import { EncryptionKey } from '../../infra/constructs/encryption-key';
import { IotIngest } from '../../infra/constructs/iot-ingest';
import { ModelEndpoint } from '../../infra/constructs/model-endpoint';
import { ModelRegistry } from '../../infra/constructs/model-registry';
import { Network } from '../../infra/constructs/network';
import { RawArchive } from '../../infra/constructs/raw-archive';
import { SecureQueue } from '../../infra/constructs/secure-queue';
import { TelemetryStream } from '../../infra/constructs/telemetry-stream';
import { WorkerTask } from '../../infra/constructs/worker-task';
import { acknowledgeWildcardResources, objectsArn } from '../../infra/grants';
import { resourceNames } from '../../shared/names';
import { testStack } from './helpers';

const paramStack = testStack('Params');
let params = 0;
/** An SSM parameter referenced by name (for WorkerTask's parameter variables). */
const ssmParam = () => ssm.StringParameter.fromStringParameterName(paramStack, `P${params++}`, '/pumpwatch/x/model-server-image');

let keys = 0;
const key = (stack: Stack) => new kms.Key(stack, `K${keys++}`);

describe('TelemetryStream', () => {
  const props = (stack: Stack) => ({ streamName: 's', mode: 'on-demand' as const, retentionHours: 24, encryptionKey: key(stack) });

  test('provisioned mode with a shard count', () => {
    const stack = testStack();
    new TelemetryStream(stack, 'T', { ...props(stack), mode: 'provisioned', shardCount: 6, retentionHours: 168 });
    Template.fromStack(stack).hasResourceProperties('AWS::Kinesis::Stream', {
      ShardCount: 6,
      RetentionPeriodHours: 168,
      StreamModeDetails: { StreamMode: 'PROVISIONED' },
      StreamEncryption: { EncryptionType: 'KMS' },
    });
  });

  test.each<[string, object, RegExp]>([
    ['provisioned without shards', { mode: 'provisioned' }, /shardCount is required/],
    ['on-demand with shards', { shardCount: 2 }, /only allowed in provisioned mode/],
    ['zero shards', { mode: 'provisioned', shardCount: 0 }, /positive integer/],
    ['retention', { retentionHours: 10 }, /retentionHours must be 24\.\.8760/],
    ['name', { streamName: 'bad name' }, /invalid stream name/],
  ])('rejects %s', (_n, override, message) => {
    const stack = testStack();
    expect(() => new TelemetryStream(stack, 'T', { ...props(stack), ...override })).toThrow(message);
  });

  test('tokens are not validated at construction (token-aware)', () => {
    const stack = testStack();
    const shards = Token.asNumber({ Ref: 'Shards' });
    expect(() => new TelemetryStream(stack, 'T', { ...props(stack), mode: 'provisioned', shardCount: shards, streamName: Token.asString({ Ref: 'N' }) })).not.toThrow();
  });
});

describe('DataTables / DataBucket / EncryptionKey / SecureQueue', () => {
  test('DataTables rejects a duplicate or invalid table name', () => {
    const stack = testStack();
    const tables = { ...resourceNames('x').tables, state: resourceNames('x').tables.pumps };
    expect(() => new DataTables(stack, 'T', { names: tables, encryptionKey: key(stack), deletionProtection: true })).toThrow(/used twice/);
    const stack2 = testStack();
    expect(
      () => new DataTables(stack2, 'T', { names: { ...resourceNames('x').tables, leases: 'a b' }, encryptionKey: key(stack2), deletionProtection: true }),
    ).toThrow(/invalid table name/);
  });

  const bucketProps = (stack: Stack) => ({
    bucketName: 'pumpwatch-x-data',
    encryptionKey: key(stack),
    infrequentAccessAfterDays: 30,
    coldStorageClass: 'GLACIER_IR' as const,
    coldAfterDays: 90,
    noncurrentVersionExpirationDays: 30,
    accessLogExpirationDays: 90,
  });
  test.each<[string, object, RegExp]>([
    ['bad bucket name', { bucketName: 'Bad_Name' }, /invalid bucket name/],
    ['IA before 30 days', { infrequentAccessAfterDays: 10 }, /30 days before STANDARD_IA/],
    ['cold before IA', { coldAfterDays: 30 }, /coldAfterDays must be greater/],
    ['non-integer days', { noncurrentVersionExpirationDays: 1.5 }, /positive integer/],
  ])('DataBucket rejects %s', (_n, override, message) => {
    const stack = testStack();
    expect(() => new DataBucket(stack, 'B', { ...bucketProps(stack), ...override })).toThrow(message);
  });

  test('EncryptionKey rejects AWS-reserved or malformed aliases and wildcard service grants', () => {
    const stack = testStack();
    expect(() => new EncryptionKey(stack, 'A', { alias: 'aws/s3', description: 'd', removalPolicy: RemovalPolicy.RETAIN })).toThrow(/not a valid customer alias/);
    expect(() => new EncryptionKey(stack, 'B', { alias: 'has space', description: 'd', removalPolicy: RemovalPolicy.RETAIN })).toThrow(/alias/);
    const k = new EncryptionKey(stack, 'C', { alias: 'ok', description: 'd', removalPolicy: RemovalPolicy.RETAIN });
    expect(() => k.allowService('X', 'sns.amazonaws.com', ['kms:GenerateDataKey*'])).toThrow(/wildcard actions are not allowed/);
  });

  test('SecureQueue rejects bad names and receive counts', () => {
    const stack = testStack();
    expect(() => new SecureQueue(stack, 'Q', { queueName: 'x'.repeat(80), encryptionKey: key(stack) })).toThrow(/invalid queue name/);
    expect(() => new SecureQueue(stack, 'R', { queueName: 'q', encryptionKey: key(stack), maxReceiveCount: 0 })).toThrow(/maxReceiveCount/);
  });
});

describe('pipeline constructs', () => {
  test('RawArchive rejects buffering outside Firehose limits', () => {
    const stack = testStack();
    const stream = new kinesis.Stream(stack, 'S');
    const bucket = new DataBucket(stack, 'B', {
      bucketName: 'b-x-y',
      encryptionKey: key(stack),
      infrequentAccessAfterDays: 30,
      coldStorageClass: 'GLACIER',
      coldAfterDays: 60,
      noncurrentVersionExpirationDays: 1,
      accessLogExpirationDays: 1,
    }).bucket;
    const base = { deliveryStreamName: 'd', stream, bucket, encryptionKey: key(stack), bufferIntervalSeconds: 60, bufferSizeMiB: 8, logRetention: logs.RetentionDays.ONE_DAY };
    expect(() => new RawArchive(stack, 'A', { ...base, bufferSizeMiB: 256 })).toThrow(/bufferSizeMiB must be 1\.\.128/);
    expect(() => new RawArchive(stack, 'C', { ...base, bufferIntervalSeconds: 1000 })).toThrow(/bufferIntervalSeconds/);
    expect(() => new RawArchive(stack, 'D', { ...base, deliveryStreamName: 'has space' })).toThrow(/invalid delivery stream name/);
  });

  test('IotIngest rejects rule names IoT does not accept', () => {
    const stack = testStack();
    const stream = new kinesis.Stream(stack, 'S');
    expect(
      () =>
        new IotIngest(stack, 'I', {
          ruleName: 'pumpwatch-dev-telemetry',
          stream,
          streamKey: key(stack),
          errorLogGroupName: '/x',
          logRetention: logs.RetentionDays.ONE_DAY,
          logKey: key(stack),
        }),
    ).toThrow(/invalid IoT rule name/);
  });

  test('Network rejects more NAT gateways than AZs', () => {
    const stack = testStack();
    expect(
      () => new Network(stack, 'N', { maxAzs: 2, natGateways: 3, flowLogGroupName: '/f', logRetention: logs.RetentionDays.ONE_DAY, encryptionKey: key(stack) }),
    ).toThrow(/natGateways must be 1\.\.2/);
    const pinned = testStack();
    new Network(pinned, 'N', {
      maxAzs: 2,
      availabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'],
      natGateways: 3,
      flowLogGroupName: '/f',
      logRetention: logs.RetentionDays.ONE_DAY,
      encryptionKey: key(pinned),
    });
    const t = Template.fromStack(pinned);
    t.resourceCountIs('AWS::EC2::NatGateway', 3);
    expect(Object.values(t.findResources('AWS::EC2::Subnet')).map((r: any) => r.Properties.AvailabilityZone).sort()).toEqual(
      ['eu-west-1a', 'eu-west-1a', 'eu-west-1b', 'eu-west-1b', 'eu-west-1c', 'eu-west-1c'],
    );
  });

  const workerProps = (stack: Stack) => ({
    family: 'f',
    containerName: 'c',
    image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/node:20-slim'),
    command: ['worker'],
    environment: { PUMPWATCH_STAGE: 'x' },
    cpu: 256,
    memoryMiB: 512,
    stopTimeout: Duration.seconds(30),
    logGroupName: '/w',
    logRetention: logs.RetentionDays.ONE_DAY,
    logKey: key(stack),
  });
  test.each<[string, object, RegExp]>([
    ['a non-Fargate size', { cpu: 256, memoryMiB: 4096 }, /not a Fargate task size/],
    ['a stop timeout over 120 s', { stopTimeout: Duration.minutes(5) }, /stopTimeout must be 2\.\.120 s/],
    ['a bad environment name', { environment: { 'bad-name': 'x' } }, /invalid environment variable name/],
    ['a bad family', { family: 'a b' }, /invalid family/],
    ['a bad parameter variable name', { secrets: { 'bad-name': ecs.Secret.fromSsmParameter(ssmParam()) } }, /invalid environment variable name/],
    ['a variable both plain and from a parameter', { secrets: { PUMPWATCH_STAGE: ecs.Secret.fromSsmParameter(ssmParam()) } }, /both a plain and a parameter variable/],
  ])('WorkerTask rejects %s', (_n, override, message) => {
    const stack = testStack();
    expect(() => new WorkerTask(stack, 'W', { ...workerProps(stack), ...override })).toThrow(message);
  });

  test('ConsumerService rejects inverted bounds', () => {
    const stack = testStack();
    const network = new Network(stack, 'N', { maxAzs: 2, natGateways: 1, flowLogGroupName: '/f', logRetention: logs.RetentionDays.ONE_DAY, encryptionKey: key(stack) });
    const cluster = new ecs.Cluster(stack, 'C', { vpc: network.vpc });
    const task = new WorkerTask(stack, 'W', workerProps(stack));
    const base = {
      cluster,
      serviceName: 's',
      taskDefinition: task.taskDefinition,
      minCount: 1,
      maxCount: 2,
      iteratorAge: new cloudwatch.Metric({ namespace: 'n', metricName: 'm' }),
      scaleOutIteratorAgeMs: 60_000,
      scaleInIteratorAgeMs: 5_000,
    };
    expect(() => new ConsumerService(stack, 'A', { ...base, minCount: 3 })).toThrow(/maxCount must be >= minCount/);
    expect(() => new ConsumerService(stack, 'B', { ...base, scaleInIteratorAgeMs: 60_000 })).toThrow(/scaleInIteratorAgeMs must be below/);
    expect(() => new ConsumerService(stack, 'D', { ...base, minCount: 0, maxCount: 0 })).toThrow(/minCount must be >= 1/);
  });
});

describe('model constructs', () => {
  const endpointProps = (stack: Stack) => ({
    endpointName: 'e',
    bucketName: 'b',
    bucketKey: key(stack),
    encryptionKey: key(stack),
    instanceType: 'ml.m5.large',
    initialInstanceCount: 1,
    minInstanceCount: 1,
    maxInstanceCount: 2,
    targetInvocationsPerInstance: 100,
    logRetention: logs.RetentionDays.ONE_DAY,
  });
  test.each<[string, object, RegExp]>([
    ['endpoint name', { endpointName: 'bad_name' }, /invalid endpoint name/],
    ['instance type', { instanceType: 'm5.large' }, /invalid instance type/],
    ['max below min', { minInstanceCount: 3, maxInstanceCount: 2, initialInstanceCount: 3 }, /maxInstanceCount must be >= minInstanceCount/],
    ['initial out of bounds', { initialInstanceCount: 4 }, /initialInstanceCount must be between/],
    ['zero target', { targetInvocationsPerInstance: 0 }, /positive integers/],
  ])('ModelEndpoint rejects %s', (_n, override, message) => {
    const stack = testStack();
    expect(() => new ModelEndpoint(stack, 'M', { ...endpointProps(stack), ...override })).toThrow(message);
  });

  test('ModelRegistry rejects no, duplicate or invalid groups', () => {
    const stack = testStack();
    const base = { routingQueueName: 'r', encryptionKey: key(stack), maxEventAge: Duration.hours(1), retryAttempts: 3 };
    expect(() => new ModelRegistry(stack, 'A', { ...base, groupNames: [] })).toThrow(/at least one/);
    expect(() => new ModelRegistry(stack, 'B', { ...base, groupNames: ['a', 'a'] })).toThrow(/duplicate/);
    expect(() => new ModelRegistry(stack, 'C', { ...base, groupNames: ['a_b'] })).toThrow(/invalid model package group name/);
  });
});

describe('grants helpers', () => {
  test('object ARNs need a prefix ending in /', () => {
    expect(() => objectsArn('b', 'raw')).toThrow(/must end with "\/"/);
  });

  test('acknowledging a non-wildcard resource is refused (no accidental blanket acknowledgement)', () => {
    const stack = testStack();
    expect(() => acknowledgeWildcardResources(stack, ['arn:aws:s3:::b/exact-key'], 'a reason')).toThrow(/not a wildcard resource/);
  });
});

describe('raw archive layout', () => {
  test('archiveHourPrefix is the Firehose prefix expression evaluated for that UTC hour', () => {
    const t = Date.UTC(2025, 0, 9, 7, 59, 59);
    const expanded = ARCHIVE_PREFIX_EXPRESSION.replace('!{timestamp:yyyy}', '2025')
      .replace('!{timestamp:MM}', '01')
      .replace('!{timestamp:dd}', '09')
      .replace('!{timestamp:HH}', '07');
    expect(archiveHourPrefix(t)).toBe(expanded);
    expect(expanded).toBe('raw/year=2025/month=01/day=09/hour=07/');
  });

  test('errors are written outside raw/ so replays never read them', () => {
    expect(ARCHIVE_ERROR_PREFIX_EXPRESSION.startsWith('raw/')).toBe(false);
    expect(ARCHIVE_ERROR_PREFIX_EXPRESSION).toContain('!{firehose:error-output-type}');
  });
});
