import {
  CONTEXT_KEYS,
  isFargateSize,
  modelEndpointName,
  parseStageConfig,
  stageConfigFromContext,
} from '../../infra/config';
import { ConfigError } from '../../shared/errors';
import { modelPackageGroupName } from '../../shared/names';
import { cdkJsonContext } from './helpers';

const reader = (ctx: Record<string, unknown>) => (key: string) => ctx[key];

describe('stage config defaults', () => {
  test('no context at all yields a valid dev stage (synth works offline with no -c)', () => {
    const config = stageConfigFromContext(reader({}), {});
    expect(config).toMatchObject({
      stage: 'dev',
      account: undefined,
      region: 'us-east-1',
      protectData: true,
      stream: { mode: 'on-demand', retentionHours: 48 },
      window: { sizeMs: 10_000, hopMs: 10_000 },
      consumer: { cpu: 512, memoryMiB: 1024, minCount: 1, maxCount: 4 },
      replay: { cpu: 1024, memoryMiB: 2048 },
      model: { instanceType: 'ml.m5.large', pumpTypes: ['centrifugal'] },
      alerts: { archiveRetentionDays: 30 },
      archive: { infrequentAccessAfterDays: 30, coldStorageClass: 'GLACIER_IR', coldAfterDays: 90 },
    });
    expect(config.stream.shardCount).toBeUndefined();
    expect(modelEndpointName(config)).toBe('pumpwatch-dev-models');
  });

  test('account and region fall back to the CLI defaults, context wins over them', () => {
    const env = { CDK_DEFAULT_ACCOUNT: '222222222222', CDK_DEFAULT_REGION: 'eu-central-1' };
    expect(stageConfigFromContext(reader({}), env)).toMatchObject({ account: '222222222222', region: 'eu-central-1' });
    expect(stageConfigFromContext(reader({ account: '333333333333', region: 'ap-southeast-2' }), env)).toMatchObject({
      account: '333333333333',
      region: 'ap-southeast-2',
    });
  });

  test('-c stage=prod picks the cdk.json preset for prod', () => {
    const ctx = cdkJsonContext();
    const prod = stageConfigFromContext(reader({ ...ctx, stage: 'prod', account: '444444444444' }), {});
    expect(prod).toMatchObject({
      stage: 'prod',
      account: '444444444444',
      stream: { mode: 'provisioned', shardCount: 4, retentionHours: 168 },
      consumer: { minCount: 2, maxCount: 4, cpu: 1024, memoryMiB: 2048 },
    });
    const dev = stageConfigFromContext(reader({ ...ctx }), {});
    expect(dev).toMatchObject({ stage: 'dev', protectData: true, stream: { retentionHours: 24 } });
  });

  test('an unknown stage name gets the defaults; the stages object may arrive as JSON text', () => {
    const stages = JSON.stringify({ alice: { logLevel: 'debug', stream: { mode: 'provisioned', shardCount: 2 }, consumer: { maxCount: 2 } } });
    const alice = stageConfigFromContext(reader({ stage: 'alice', [CONTEXT_KEYS.stages]: stages }), {});
    expect(alice).toMatchObject({ stage: 'alice', logLevel: 'debug', stream: { mode: 'provisioned', shardCount: 2 } });
    expect(stageConfigFromContext(reader({ stage: 'bob', [CONTEXT_KEYS.stages]: stages }), {}).logLevel).toBe('info');
  });

  test('model package groups are named per stage and pump type', () => {
    expect(modelPackageGroupName('prod', 'centrifugal')).toBe('pumpwatch-prod-centrifugal');
  });

  test('Fargate sizes', () => {
    expect(isFargateSize(256, 512)).toBe(true);
    expect(isFargateSize(512, 1024)).toBe(true);
    expect(isFargateSize(1024, 8192)).toBe(true);
    expect(isFargateSize(256, 4096)).toBe(false);
    expect(isFargateSize(300, 1024)).toBe(false);
  });
});

describe('stage config validation fails synth with a message naming the field', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['stage name', { stage: 'Prod_1' }, /stage: stage must match/],
    ['account', { account: '12345' }, /account: a 12-digit AWS account id/],
    ['region', { region: 'moon-1' }, /region: an AWS region/],
    ['provisioned without shards', { stream: { mode: 'provisioned' } }, /stream\.shardCount: required when mode is "provisioned"/],
    ['on-demand with shards', { stream: { mode: 'on-demand', shardCount: 2 } }, /stream\.shardCount: only allowed when mode is "provisioned"/],
    ['retention too short', { stream: { retentionHours: 12 } }, /stream\.retentionHours/],
    ['retention too long', { stream: { retentionHours: 9000 } }, /stream\.retentionHours/],
    ['shard mode', { stream: { mode: 'burst' } }, /stream\.mode/],
    ['Fargate size', { consumer: { cpu: 256, memoryMiB: 4096 } }, /consumer\.memoryMiB: cpu\/memoryMiB is not a Fargate task size/],
    ['max below min', { consumer: { minCount: 3, maxCount: 2 } }, /consumer\.maxCount: must be >= minCount/],
    ['scale-in above scale-out', { consumer: { scaleInIteratorAgeMs: 90_000 } }, /consumer\.scaleInIteratorAgeMs/],
    [
      'more workers than shards',
      { stream: { mode: 'provisioned', shardCount: 2 }, consumer: { maxCount: 3 } },
      /consumer\.maxCount: must not exceed stream\.shardCount \(2\)/,
    ],
    ['replay size', { replay: { cpu: 1024, memoryMiB: 1024 } }, /replay: not a Fargate task size/],
    ['window hop', { window: { sizeMs: 10_000, hopMs: 3_000 } }, /window\.hopMs: hopMs must divide sizeMs/],
    ['archive IA minimum', { archive: { infrequentAccessAfterDays: 10 } }, /archive\.infrequentAccessAfterDays/],
    ['archive tiers order', { archive: { coldAfterDays: 30 } }, /archive\.coldAfterDays: must be greater than infrequentAccessAfterDays/],
    ['archive expiry order', { archive: { expireAfterDays: 60 } }, /archive\.expireAfterDays/],
    ['cold storage class', { archive: { coldStorageClass: 'TAPE' } }, /archive\.coldStorageClass/],
    ['buffer size', { archive: { bufferSizeMiB: 500 } }, /archive\.bufferSizeMiB/],
    ['endpoint name', { model: { endpointName: 'bad_name!' } }, /model\.endpointName: SageMaker endpoint names/],
    ['instance type', { model: { instanceType: 'm5.large' } }, /model\.instanceType/],
    ['instance bounds', { model: { minInstanceCount: 3, maxInstanceCount: 2, initialInstanceCount: 3 } }, /model\.maxInstanceCount/],
    ['initial instances', { model: { initialInstanceCount: 5, maxInstanceCount: 2 } }, /model\.initialInstanceCount/],
    ['pump type', { model: { pumpTypes: ['Centrifugal Pump'] } }, /model\.pumpTypes\[0\]: pump types are lower-case kebab-case/],
    ['duplicate pump types', { model: { pumpTypes: ['a', 'a'] } }, /model\.pumpTypes: must not repeat/],
    ['a pump type under the pumps\' group prefix', { model: { pumpTypes: ['pump-x'] } }, /model\.pumpTypes\[0\]: a pump type must not be "pump" or start with "pump-"/],
    ['an unknown registry', { model: { registry: 'mlflow' } }, /model\.registry/],
    ['no pump types', { model: { pumpTypes: [] } }, /model\.pumpTypes/],
    ['log retention', { logRetentionDays: 42 }, /logRetentionDays: must be one of 1, 3, 5/],
    ['retry attempts', { alerts: { retryAttempts: 500 } }, /alerts\.retryAttempts/],
    ['event age', { alerts: { maxEventAgeSeconds: 10 } }, /alerts\.maxEventAgeSeconds/],
    ['quarantine rate', { alarms: { quarantineRatePercent: 150 } }, /alarms\.quarantineRatePercent/],
    ['NAT gateways', { network: { natGateways: 0 } }, /network\.natGateways/],
    ['NAT gateways per AZ', { network: { natGateways: 3 } }, /network\.natGateways: must not exceed the number of availability zones/],
    ['AZ names', { network: { availabilityZones: ['eu-west-1', 'eu-west-1b'] } }, /network\.availabilityZones\[0\]: an availability zone/],
    ['unknown key', { stram: { mode: 'provisioned' } }, /Unrecognized key.*stram/],
    ['wrong type', { protectData: 'yes' }, /protectData/],
  ];

  test.each(cases)('%s', (_name, input, message) => {
    let error: unknown;
    try {
      parseStageConfig({ stage: 'dev', ...input });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/^invalid stage config for "/);
    expect((error as Error).message).toMatch(message);
  });

  test('several bad fields are all reported', () => {
    expect(() => parseStageConfig({ region: 'x', consumer: { minCount: 0 } })).toThrow(/region: .*; consumer\.minCount/);
  });

  test('bad context JSON is reported as such', () => {
    expect(() => stageConfigFromContext(reader({ [CONTEXT_KEYS.stages]: '{not json' }), {})).toThrow(/pumpwatch:stages is not valid JSON/);
    expect(() => stageConfigFromContext(reader({ [CONTEXT_KEYS.stages]: '[1]' }), {})).toThrow(/must be an object/);
  });
});
