import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { modelImageParameterName, parseStageConfig } from '../../infra/config';
import { TELEMETRY_PARTITION_KEY, TELEMETRY_RULE_SQL } from '../../infra/constructs/iot-ingest';
import { INFRA_ENV } from '../../infra/env';
import { RUNTIME_INFRA_MODULES } from '../../infra/image-assets';
import { APPLICATION_NAMES, runtimeConfig } from '../../infra/stacks/pipeline-stack';
import { createModelRegistry } from '../../services/registry/factory';
import { SageMakerModelRegistry } from '../../services/registry/sagemaker-registry';
import { configToEnv, loadConfig } from '../../shared/config';
import { ENV } from '../../shared/env';
import { resourceNames } from '../../shared/names';
import { TABLE_SCHEMAS, type TableId } from '../../shared/tables';
import {
  dockerImageAssets,
  findOne,
  logicalIdOf,
  resourcesOfType,
  roleStatements,
  type Statement,
  synthStage,
  TEST_ACCOUNT,
  TEST_REGION,
  toArray,
} from './helpers';

const stage = synthStage();
const template = stage.template('pipeline');
const names = resourceNames('test', TEST_ACCOUNT);
const { data, alerts, models } = stage.stacks;

/** Logical id of a construct's resource in its own stack (what cross-stack references point at). */
const idOf = (construct: { node: { defaultChild?: unknown } }): string => {
  const cfn = construct.node.defaultChild as any;
  return (cfn.stack as Stack).getLogicalId(cfn);
};
/** Whether a template value refers to a resource of another stack (by its logical id). */
const refersTo = (value: unknown, logicalId: string): boolean => JSON.stringify(value).includes(logicalId);

const taskDefinition = (family: string) => findOne(template, 'AWS::ECS::TaskDefinition', (p) => p.Family === family);
const container = (family: string) => taskDefinition(family).Properties.ContainerDefinitions[0];
const envOf = (family: string): Record<string, unknown> =>
  Object.fromEntries(container(family).Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]));
const taskRoleId = (family: string) => taskDefinition(family).Properties.TaskRoleArn['Fn::GetAtt'][0] as string;
const statementsBySid = (roleId: string): Record<string, Statement> => {
  const statements = roleStatements(template, roleId);
  const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
  expect(Object.keys(bySid)).toHaveLength(statements.length); // every statement has its own Sid
  return bySid;
};

describe('IoT ingest', () => {
  const ruleRoleId = logicalIdOf(template, 'AWS::IAM::Role', (p) => p.AssumeRolePolicyDocument.Statement[0].Principal.Service === 'iot.amazonaws.com');

  test('a topic rule puts device messages on the stream, partition key = pump id from the topic, errors to logs', () => {
    const rule = findOne(template, 'AWS::IoT::TopicRule', () => true).Properties;
    expect(rule.RuleName).toBe('pumpwatch_test_telemetry');
    expect(rule.TopicRulePayload).toMatchObject({
      Sql: "SELECT *, topic(2) AS pumpId FROM 'pumpwatch/+/telemetry'",
      AwsIotSqlVersion: '2016-03-23',
      RuleDisabled: false,
      Actions: [{ Kinesis: { PartitionKey: '${topic(2)}', RoleArn: { 'Fn::GetAtt': [ruleRoleId, 'Arn'] } } }],
      ErrorAction: { CloudwatchLogs: { RoleArn: { 'Fn::GetAtt': [ruleRoleId, 'Arn'] } } },
    });
    expect(rule.TopicRulePayload.Sql).toBe(TELEMETRY_RULE_SQL);
    expect(TELEMETRY_PARTITION_KEY).toBe('${topic(2)}');
    expect(refersTo(rule.TopicRulePayload.Actions[0].Kinesis.StreamName, idOf(data.stream))).toBe(true);
  });

  test('its role: assumable by IoT for this rule only; PutRecord on the stream, its key, its error log — nothing else', () => {
    const trust = template.toJSON().Resources[ruleRoleId].Properties.AssumeRolePolicyDocument.Statement[0];
    expect(trust.Condition.StringEquals).toEqual({ 'aws:SourceAccount': TEST_ACCOUNT });
    expect(JSON.stringify(trust.Condition.ArnEquals)).toContain(':rule/pumpwatch_test_telemetry');
    const s = statementsBySid(ruleRoleId);
    expect(Object.keys(s).sort()).toEqual(['EncryptTelemetry', 'LogRuleErrors', 'PutTelemetry']);
    expect(s.PutTelemetry!.Action).toBe('kinesis:PutRecord');
    expect(refersTo(s.PutTelemetry!.Resource, idOf(data.stream))).toBe(true);
    expect(toArray(s.PutTelemetry!.Resource)).toHaveLength(1);
    expect(s.EncryptTelemetry!.Action).toBe('kms:GenerateDataKey');
    expect(refersTo(s.EncryptTelemetry!.Resource, idOf(data.dataKey))).toBe(true);
    const errorsId = logicalIdOf(template, 'AWS::Logs::LogGroup', (p) => p.LogGroupName === '/pumpwatch/test/iot-ingest-errors');
    expect(s.LogRuleErrors!.Resource).toEqual({ 'Fn::GetAtt': [errorsId, 'Arn'] });
  });
});

describe('network and cluster', () => {
  test('VPC with private worker subnets, one NAT, S3 and DynamoDB gateway endpoints, flow logs of all traffic', () => {
    const vpcId = logicalIdOf(template, 'AWS::EC2::VPC', () => true);
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 2);
    for (const service of ['s3', 'dynamodb']) {
      template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        VpcEndpointType: 'Gateway',
        ServiceName: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([`.${service}`])] }),
      });
    }
    template.hasResourceProperties('AWS::EC2::FlowLog', { ResourceId: { Ref: vpcId }, ResourceType: 'VPC', TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/pumpwatch/test/vpc-flow-logs', RetentionInDays: 30, KmsKeyId: Match.anyValue() });
  });

  test('pinned availability zones: subnets there and no AZ lookup (offline synth for a concrete account)', () => {
    const pinned = synthStage({ stage: 'pinned', network: { availabilityZones: ['eu-west-1b', 'eu-west-1c'], natGateways: 2 } });
    const azs = Object.values(resourcesOfType(pinned.template('pipeline'), 'AWS::EC2::Subnet')).map((r) => r.Properties.AvailabilityZone);
    expect(new Set(azs)).toEqual(new Set(['eu-west-1b', 'eu-west-1c']));
    pinned.template('pipeline').resourceCountIs('AWS::EC2::NatGateway', 2);
    expect(pinned.app.synth().manifest.missing ?? []).toEqual([]);
  });

  test('ECS cluster with Container Insights', () => {
    template.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterName: 'pumpwatch-test',
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
  });
});

describe('consumer service', () => {
  test('task definition: Fargate size from config, the worker command, init process, drain time, encrypted logs with retention', () => {
    const td = taskDefinition('pumpwatch-test-consumer').Properties;
    expect(td).toMatchObject({
      Cpu: '512',
      Memory: '1024',
      NetworkMode: 'awsvpc',
      RequiresCompatibilities: ['FARGATE'],
      RuntimePlatform: { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' },
    });
    const c = container('pumpwatch-test-consumer');
    expect(c).toMatchObject({
      Name: 'consumer',
      Command: ['worker'],
      Essential: true,
      StopTimeout: 120,
      LinuxParameters: { InitProcessEnabled: true },
      LogConfiguration: { LogDriver: 'awslogs', Options: { 'awslogs-stream-prefix': 'consumer', mode: 'non-blocking' } },
    });
    const logsId = logicalIdOf(template, 'AWS::Logs::LogGroup', (p) => p.LogGroupName === '/pumpwatch/test/consumer');
    expect(c.LogConfiguration.Options['awslogs-group']).toEqual({ Ref: logsId });
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/pumpwatch/test/consumer', RetentionInDays: 30, KmsKeyId: Match.anyValue() });
  });

  test('the image is the repository Dockerfile as a CDK asset; its build context excludes node_modules, cdk.out, .pumpwatch', () => {
    const images = dockerImageAssets(stage, 'pipeline');
    expect(images).toHaveLength(1); // worker and replay share one image
    expect(images[0]).toMatchObject({ dockerFile: 'Dockerfile', platform: 'linux/amd64' });
    const staged = fs.readdirSync(images[0]!.stagedDirectory);
    for (const needed of ['Dockerfile', 'package.json', 'package-lock.json', 'bin', 'shared', 'services']) expect(staged).toContain(needed);
    for (const excluded of ['node_modules', 'cdk.out', '.pumpwatch', '.git', 'test', 'bench', 'cdk.json']) expect(staged).not.toContain(excluded);
    // From infra/, only the CDK-free modules runtime code may import.
    expect(fs.readdirSync(path.join(images[0]!.stagedDirectory, 'infra')).sort()).toEqual(
      RUNTIME_INFRA_MODULES.map((m) => path.basename(m)).sort(),
    );
    const repoDockerfile = fs.readFileSync(path.resolve(__dirname, '../../Dockerfile'), 'utf8');
    expect(repoDockerfile).toMatch(/^FROM node:20-slim/m);
    expect(repoDockerfile).toMatch(/npm ci --omit=dev/);
    expect(repoDockerfile).toMatch(/ENTRYPOINT \["node", "bin\/pumpwatch\.js"\]\s+CMD \["worker"\]/);
  });

  test('runtime-importable infra modules are CDK-free and copied into both images', () => {
    for (const m of RUNTIME_INFRA_MODULES) {
      const source = fs.readFileSync(path.resolve(__dirname, '../..', m), 'utf8');
      const imports = [...source.matchAll(/from '([^']+)'/g)].map((x) => x[1]!);
      for (const i of imports) expect({ module: m, import: i }).toEqual({ module: m, import: expect.stringMatching(/^\.\.\/shared\//) });
    }
    for (const dockerfile of ['Dockerfile', 'services/model-server/Dockerfile']) {
      const text = fs.readFileSync(path.resolve(__dirname, '../..', dockerfile), 'utf8');
      expect(text).toContain(`COPY ${RUNTIME_INFRA_MODULES.join(' ')} ./infra/`);
    }
    const modelServer = fs.readFileSync(path.resolve(__dirname, '../../services/model-server/Dockerfile'), 'utf8');
    expect(modelServer).toContain('LABEL com.amazonaws.sagemaker.capabilities.multi-models=true');
    expect(modelServer).toContain('bin/pumpwatch.js model-server --port');
  });

  test('Fargate service: private subnets, no public IP, no ingress, HTTPS egress only, circuit breaker with rollback', () => {
    const service = findOne(template, 'AWS::ECS::Service', () => true).Properties;
    expect(service).toMatchObject({
      ServiceName: 'pumpwatch-test-consumer',
      LaunchType: 'FARGATE',
      DeploymentConfiguration: { DeploymentCircuitBreaker: { Enable: true, Rollback: true }, MinimumHealthyPercent: 100, MaximumPercent: 200 },
      NetworkConfiguration: { AwsvpcConfiguration: { AssignPublicIp: 'DISABLED' } },
    });
    // Autoscaling owns the task count; a deployment must not reset it.
    expect(service.DesiredCount).toBeUndefined();
    const privateSubnets = Object.entries(resourcesOfType(template, 'AWS::EC2::Subnet'))
      .filter(([, s]) => s.Properties.MapPublicIpOnLaunch === false)
      .map(([id]) => ({ Ref: id }));
    expect(service.NetworkConfiguration.AwsvpcConfiguration.Subnets).toEqual(privateSubnets);
    const sgId = service.NetworkConfiguration.AwsvpcConfiguration.SecurityGroups[0]['Fn::GetAtt'][0];
    const sg = template.toJSON().Resources[sgId].Properties;
    expect(sg.SecurityGroupIngress).toBeUndefined();
    expect(sg.SecurityGroupEgress).toEqual([expect.objectContaining({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 })]);
  });

  test('autoscaling between min and max on the stream iterator age (step scaling out and in)', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      ServiceNamespace: 'ecs',
      ScalableDimension: 'ecs:service:DesiredCount',
      MinCapacity: 1,
      MaxCapacity: 4,
    });
    const alarms = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    expect(alarms).toHaveLength(2);
    for (const a of alarms) {
      expect(a).toMatchObject({ Namespace: 'AWS/Kinesis', MetricName: 'GetRecords.IteratorAgeMilliseconds', Statistic: 'Maximum', Period: 60 });
      expect(refersTo(a.Dimensions, idOf(data.stream))).toBe(true);
    }
    expect(alarms.map((a) => a.Threshold).sort((x, y) => x - y)).toEqual([5_000, 60_000]);
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'StepScaling',
      StepScalingPolicyConfiguration: {
        AdjustmentType: 'ChangeInCapacity',
        StepAdjustments: [
          { MetricIntervalLowerBound: 0, MetricIntervalUpperBound: 240_000, ScalingAdjustment: 1 },
          { MetricIntervalLowerBound: 240_000, ScalingAdjustment: 2 },
        ],
      },
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'StepScaling',
      StepScalingPolicyConfiguration: { StepAdjustments: [{ MetricIntervalUpperBound: 0, ScalingAdjustment: -1 }] },
    });
  });
});

describe('task environment = what loadConfig reads', () => {
  const infraKeys: string[] = Object.values(INFRA_ENV);

  test.each([
    ['pumpwatch-test-consumer', APPLICATION_NAMES.consumer],
    ['pumpwatch-test-replay', APPLICATION_NAMES.replay],
  ])('%s', (family, applicationName) => {
    const env = envOf(family);
    const runtimeEnv = Object.fromEntries(Object.entries(env).filter(([k]) => !infraKeys.includes(k)));
    // Every runtime value is a plain string (names are concrete when the account is known).
    for (const [k, v] of Object.entries(runtimeEnv)) expect({ [k]: typeof v }).toEqual({ [k]: 'string' });
    const loaded = loadConfig(runtimeEnv as Record<string, string>);
    // Exactly the keys configToEnv produces: nothing missing, nothing unknown to loadConfig.
    expect(Object.keys(runtimeEnv).sort()).toEqual(Object.keys(configToEnv(loaded)).sort());
    expect(configToEnv(loaded)).toEqual(runtimeEnv);
    expect(loaded).toMatchObject({
      stage: 'test',
      region: TEST_REGION,
      logLevel: 'info',
      names,
      window: stage.config.window,
      applicationName,
    });
    expect(Object.values(loaded.endpoints).filter((e) => e !== undefined)).toEqual([]);
    for (const k of [ENV.kinesisEndpoint, ENV.dynamodbEndpoint, ENV.s3Endpoint, ENV.eventBridgeEndpoint, ENV.sageMakerRuntimeEndpoint, ENV.workerId]) {
      expect(env[k]).toBeUndefined();
    }
    // The infra extras: only the routing queue URL, pointing at the model stack's queue.
    expect(Object.keys(env).filter((k) => infraKeys.includes(k))).toEqual([INFRA_ENV.routingQueueUrl]);
    expect(refersTo(env[INFRA_ENV.routingQueueUrl], idOf(models.routingQueue as any))).toBe(true);
    // The SageMaker Model Registry by default; the image its versions record comes from the model
    // stack's SSM parameter, by name (ECS reads it at task start).
    expect(loaded.modelRegistry).toBe('sagemaker');
    const secrets = container(family).Secrets as { Name: string; ValueFrom: unknown }[];
    expect(secrets.map((x) => x.Name)).toEqual([INFRA_ENV.modelImageUri]);
    expect(JSON.stringify(secrets[0]!.ValueFrom)).toContain(`:parameter${modelImageParameterName('test')}"`);
    expect(JSON.stringify(secrets[0]!.ValueFrom)).not.toContain('Fn::ImportValue');
    // What the task will have at start satisfies the registry factory (it refuses a missing image).
    const atStart = loadConfig({ ...(runtimeEnv as Record<string, string>), [INFRA_ENV.modelImageUri]: 'img:1' });
    expect(createModelRegistry(atStart, { doc: {} as any })).toBeInstanceOf(SageMakerModelRegistry);
  });

  test('stage window settings flow into the environment', () => {
    const config = parseStageConfig({ stage: 'win', account: TEST_ACCOUNT, window: { sizeMs: 30_000, hopMs: 10_000, allowedLatenessMs: 7_000 } });
    const env = configToEnv(runtimeConfig(config, resourceNames('win', TEST_ACCOUNT), 'x'));
    expect(env).toMatchObject({ [ENV.windowSizeMs]: '30000', [ENV.windowHopMs]: '10000', [ENV.allowedLatenessMs]: '7000', [ENV.stage]: 'win' });
    expect(loadConfig(env).window).toEqual(config.window);
  });

  test('without an account (environment-agnostic synth) the bucket name is a token that resolves to the same name', () => {
    const agnostic = synthStage({ stage: 'agnostic', account: undefined });
    const c = findOne(agnostic.template('pipeline'), 'AWS::ECS::TaskDefinition', (p) => p.Family === 'pumpwatch-agnostic-consumer').Properties
      .ContainerDefinitions[0];
    const env: Record<string, unknown> = Object.fromEntries(c.Environment.map((e: any) => [e.Name, e.Value]));
    const account = '999999999999';
    const resolve = (v: unknown): unknown => {
      if (typeof v === 'string') return v;
      const o = v as Record<string, any>;
      if (o.Ref === 'AWS::AccountId') return account;
      if (o['Fn::Join']) return (o['Fn::Join'][1] as unknown[]).map(resolve).join(o['Fn::Join'][0]);
      return v;
    };
    const resolved = Object.fromEntries(Object.entries(env).filter(([k]) => !infraKeys.includes(k)).map(([k, v]) => [k, resolve(v)]));
    expect(typeof env[ENV.bucketName]).toBe('object');
    expect(loadConfig(resolved as Record<string, string>).names).toEqual(resourceNames('agnostic', account));
  });
});

describe('replay job', () => {
  test('a separate task definition: same image, `replay start` (overridable at run-task), its own role and log group', () => {
    const td = taskDefinition('pumpwatch-test-replay').Properties;
    expect(td).toMatchObject({ Cpu: '1024', Memory: '2048' });
    expect(container('pumpwatch-test-replay')).toMatchObject({ Name: 'replay', Command: ['replay', 'start'], LinuxParameters: { InitProcessEnabled: true } });
    expect(container('pumpwatch-test-replay').Image).toEqual(container('pumpwatch-test-consumer').Image);
    expect(taskRoleId('pumpwatch-test-replay')).not.toBe(taskRoleId('pumpwatch-test-consumer'));
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/pumpwatch/test/replay', RetentionInDays: 30 });
    // Everything needed to run it is an output.
    for (const o of ['ClusterName', 'ReplayTaskDefinitionArn', 'ReplaySecurityGroupId', 'WorkerSubnetIds']) template.hasOutput(o, {});
  });
});

describe('task roles: exact actions on exact resources', () => {
  const tableIds = Object.fromEntries((Object.keys(TABLE_SCHEMAS) as TableId[]).map((t) => [t, idOf(data.tables[t])])) as Record<TableId, string>;
  const tablesIn = (resource: unknown) => (Object.keys(tableIds) as TableId[]).filter((t) => refersTo(resource, tableIds[t])).sort();
  const indexesIn = (resource: unknown) =>
    toArray(resource as unknown[]).map((r) => JSON.stringify(r).match(/\/index\/(\w+)/)?.[1]).sort();

  test('trust: ECS tasks of this account only', () => {
    for (const family of ['pumpwatch-test-consumer', 'pumpwatch-test-replay']) {
      const trust = template.toJSON().Resources[taskRoleId(family)].Properties.AssumeRolePolicyDocument.Statement[0];
      expect(trust.Principal).toEqual({ Service: 'ecs-tasks.amazonaws.com' });
      expect(trust.Condition.StringEquals).toEqual({ 'aws:SourceAccount': TEST_ACCOUNT });
    }
  });

  test('consumer', () => {
    const s = statementsBySid(taskRoleId('pumpwatch-test-consumer'));
    expect(Object.keys(s).sort()).toEqual(
      [
        'ConsumeRoutingUpdates',
        'DecryptObjects',
        'DecryptRoutingUpdates',
        'DecryptTelemetryStream',
        'InvokeModelEndpoint',
        'ListObjectPrefixes',
        'PublishPumpEvents',
        'QueryTableIndexes',
        'ReadModelPackageGroups',
        'ReadModelPackages',
        'ReadObjects',
        'ReadTableItems',
        'ReadTelemetryStream',
        'UseTableKey',
        'WriteTableItems',
        'WriteObjects',
        'EncryptObjects',
        'CreateModelPackageGroups',
        'WriteModelPackages',
      ].sort(),
    );
    expect(s.ReadTelemetryStream!.Action).toEqual([
      'kinesis:DescribeStream',
      'kinesis:DescribeStreamSummary',
      'kinesis:GetRecords',
      'kinesis:GetShardIterator',
      'kinesis:ListShards',
    ]);
    expect(refersTo(s.ReadTelemetryStream!.Resource, idOf(data.stream))).toBe(true);
    expect(s.DecryptTelemetryStream!.Action).toEqual(['kms:Decrypt', 'kms:DescribeKey']);
    expect(tablesIn(s.ReadTableItems!.Resource)).toEqual(Object.keys(tableIds).sort());
    expect(tablesIn(s.WriteTableItems!.Resource)).toEqual(Object.keys(tableIds).sort());
    expect(s.WriteTableItems!.Action).toEqual([
      'dynamodb:BatchWriteItem',
      'dynamodb:ConditionCheckItem',
      'dynamodb:DeleteItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
    expect(indexesIn(s.QueryTableIndexes!.Resource)).toEqual(['byPump', 'byReason', 'pending', 'unscored']);
    expect(s.QueryTableIndexes!.Action).toEqual(['dynamodb:Query', 'dynamodb:Scan']);
    expect(s.UseTableKey!.Action).toEqual(['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey']);
    expect(refersTo(s.UseTableKey!.Resource, idOf(data.dataKey))).toBe(true);
    expect(s.PublishPumpEvents).toMatchObject({ Action: 'events:PutEvents', Condition: { StringEquals: { 'events:source': 'pumpwatch' } } });
    expect(refersTo(s.PublishPumpEvents!.Resource, idOf(alerts.bus))).toBe(true);
    expect(s.InvokeModelEndpoint!.Action).toBe('sagemaker:InvokeEndpoint');
    expect(JSON.stringify(s.InvokeModelEndpoint!.Resource)).toContain(':endpoint/pumpwatch-test-models"');
    expect(s.ReadObjects!.Action).toBe('s3:GetObject');
    expect(JSON.stringify(s.ReadObjects!.Resource)).toContain(`:s3:::pumpwatch-test-data-${TEST_ACCOUNT}/models/*`);
    expect(JSON.stringify(s.ReadObjects!.Resource)).not.toContain('raw/');
    expect(s.ConsumeRoutingUpdates!.Action).toEqual([
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ReceiveMessage',
    ]);
    expect(refersTo(s.ConsumeRoutingUpdates!.Resource, idOf(models.routingQueue as any))).toBe(true);
    expect(refersTo(s.DecryptRoutingUpdates!.Resource, idOf(models.modelKey))).toBe(true);
    expect(s.ReadModelPackageGroups!.Action).toEqual(['sagemaker:DescribeModelPackageGroup', 'sagemaker:ListModelPackages']);
    expect(JSON.stringify(s.ReadModelPackageGroups!.Resource)).toContain(':model-package-group/pumpwatch-test-centrifugal"');
    expect(JSON.stringify(s.ReadModelPackageGroups!.Resource)).toContain(':model-package-group/pumpwatch-test-pump-*"');
    expect(JSON.stringify(s.ReadModelPackages!.Resource)).toContain(':model-package/pumpwatch-test-centrifugal/*');
    expect(JSON.stringify(s.ReadModelPackages!.Resource)).toContain(':model-package/pumpwatch-test-pump-*/*');
    // The learning phase: baseline artifacts under models/pumps/ only, versions in the pumps' groups only.
    expect(s.WriteObjects).toMatchObject({ Action: 's3:PutObject' });
    expect(toArray(s.WriteObjects!.Resource).map((r) => JSON.stringify(r))).toEqual([
      expect.stringContaining(`:s3:::pumpwatch-test-data-${TEST_ACCOUNT}/models/pumps/*"`),
    ]);
    expect(s.EncryptObjects!.Action).toEqual(['kms:DescribeKey', 'kms:GenerateDataKey']);
    expect(refersTo(s.EncryptObjects!.Resource, idOf(data.dataKey))).toBe(true);
    expect(s.CreateModelPackageGroups!.Action).toBe('sagemaker:CreateModelPackageGroup');
    expect(JSON.stringify(s.CreateModelPackageGroups!.Resource)).toMatch(/:model-package-group\/pumpwatch-test-pump-\*"\]\]\}$/);
    expect(s.WriteModelPackages!.Action).toEqual(['sagemaker:CreateModelPackage', 'sagemaker:UpdateModelPackage']);
    expect(JSON.stringify(s.WriteModelPackages!.Resource)).toMatch(/:model-package\/pumpwatch-test-pump-\*\/\*"\]\]\}$/);
    // The pump types' groups (data science's) are never writable by the worker.
    for (const st of [s.CreateModelPackageGroups!, s.WriteModelPackages!]) expect(JSON.stringify(st.Resource)).not.toContain('centrifugal');
  });

  test('on the models-table registry (model.registry = dynamodb): no SageMaker registry access, artifacts still writable', () => {
    const alt = synthStage({ stage: 'tbl', model: { registry: 'dynamodb' } });
    const t = alt.template('pipeline');
    const td = findOne(t, 'AWS::ECS::TaskDefinition', (p) => p.Family === 'pumpwatch-tbl-consumer').Properties;
    const statements = roleStatements(t, td.TaskRoleArn['Fn::GetAtt'][0]);
    const sids = statements.map((st) => st.Sid);
    for (const sid of ['ReadModelPackageGroups', 'ReadModelPackages', 'CreateModelPackageGroups', 'WriteModelPackages']) expect(sids).not.toContain(sid);
    expect(sids).toContain('WriteObjects');
    const env = Object.fromEntries(td.ContainerDefinitions[0].Environment.map((e: any) => [e.Name, e.Value]));
    expect(env[ENV.modelRegistry]).toBeUndefined(); // loadConfig's default: the models table
    expect(td.ContainerDefinitions[0].Secrets).toBeUndefined();
  });

  test('replay: no lease table, pumps and models read-only, archive and models readable', () => {
    const s = statementsBySid(taskRoleId('pumpwatch-test-replay'));
    expect(s.ConsumeRoutingUpdates).toBeUndefined();
    expect(tablesIn(s.ReadTableItems!.Resource)).toEqual(['events', 'models', 'pumps', 'quarantine', 'replay', 'state', 'windows']);
    expect(tablesIn(s.WriteTableItems!.Resource)).toEqual(['events', 'quarantine', 'replay', 'state', 'windows']);
    expect(indexesIn(s.QueryTableIndexes!.Resource)).toEqual(['byPump', 'byReason', 'pending', 'unscored']);
    const objects = JSON.stringify(s.ReadObjects!.Resource);
    expect(objects).toContain('/raw/*');
    expect(objects).toContain('/models/*');
    expect(s.ListObjectPrefixes!.Condition).toEqual({ StringLike: { 's3:prefix': ['raw/', 'raw/*', 'models/', 'models/*'] } });
    expect(refersTo(s.ReadTelemetryStream!.Resource, idOf(data.stream))).toBe(true);
  });

  test('execution roles only pull the image, write their log group and read the model image parameter', () => {
    for (const family of ['pumpwatch-test-consumer', 'pumpwatch-test-replay']) {
      const execId = taskDefinition(family).Properties.ExecutionRoleArn['Fn::GetAtt'][0];
      const statements = roleStatements(template, execId);
      const actions = statements.flatMap((st) => toArray(st.Action)).sort();
      expect(actions).toEqual(
        [
          'ecr:BatchCheckLayerAvailability',
          'ecr:BatchGetImage',
          'ecr:GetAuthorizationToken',
          'ecr:GetDownloadUrlForLayer',
          'logs:CreateLogStream',
          'logs:PutLogEvents',
          'ssm:DescribeParameters',
          'ssm:GetParameter',
          'ssm:GetParameterHistory',
          'ssm:GetParameters',
        ].sort(),
      );
      const ssmStatement = statements.find((st) => toArray(st.Action).some((a) => String(a).startsWith('ssm:')))!;
      expect(toArray(ssmStatement.Resource).map((r) => JSON.stringify(r))).toEqual([expect.stringContaining(`:parameter${modelImageParameterName('test')}"`)]);
    }
  });
});
