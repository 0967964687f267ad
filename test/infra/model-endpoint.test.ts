import { Match } from 'aws-cdk-lib/assertions';
import { modelImageParameterName } from '../../infra/config';
import { MODEL_PACKAGE_STATE_CHANGE } from '../../infra/constructs/model-registry';
import { sageMakerGroupName } from '../../services/registry/sagemaker-registry';
import { matchesEventPattern } from '../../shared/event-pattern';
import { resourceNames } from '../../shared/names';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dockerImageAssets, findOne, logicalIdOf, roleStatements, synthStage, TEST_ACCOUNT, toArray } from './helpers';

const stage = synthStage({ model: { pumpTypes: ['centrifugal', 'screw'], minInstanceCount: 1, maxInstanceCount: 3, initialInstanceCount: 2 } });
const template = stage.template('models');
const names = resourceNames('test', TEST_ACCOUNT);
const keyId = logicalIdOf(template, 'AWS::KMS::Key', () => true);
const keyArn = { 'Fn::GetAtt': [keyId, 'Arn'] };
const roleId = logicalIdOf(template, 'AWS::IAM::Role', (p) => p.AssumeRolePolicyDocument.Statement[0].Principal.Service === 'sagemaker.amazonaws.com');

describe('multi-model endpoint', () => {
  test('the model runs the model-server image in MultiModel mode over the models/ prefix of the data bucket', () => {
    const model = findOne(template, 'AWS::SageMaker::Model', () => true);
    expect(model.Properties).toMatchObject({
      ExecutionRoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] },
      PrimaryContainer: {
        Mode: 'MultiModel',
        ModelDataUrl: `s3://${names.bucketName}/models/`,
        Image: { 'Fn::Sub': expect.stringContaining('container-assets') },
      },
    });
    // The image is the CDK asset of services/model-server/Dockerfile (built from the repository root).
    const images = dockerImageAssets(stage, 'models');
    expect(images).toHaveLength(1);
    expect(images[0]).toMatchObject({ dockerFile: 'services/model-server/Dockerfile', platform: 'linux/amd64' });
    expect(fs.existsSync(path.join(images[0]!.stagedDirectory, 'services/model-server/Dockerfile'))).toBe(true);
  });

  test('endpoint config encrypts storage with the model key; one variant sized by config', () => {
    const modelId = logicalIdOf(template, 'AWS::SageMaker::Model', () => true);
    template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      KmsKeyId: keyArn,
      ProductionVariants: [
        {
          VariantName: 'AllTraffic',
          ModelName: { 'Fn::GetAtt': [modelId, 'ModelName'] },
          InstanceType: 'ml.m5.large',
          InitialInstanceCount: 2,
          InitialVariantWeight: 1,
        },
      ],
    });
  });

  test('the endpoint carries the shared name', () => {
    template.hasResourceProperties('AWS::SageMaker::Endpoint', { EndpointName: names.modelEndpointName });
  });

  test('autoscaling on invocations per instance, bounded by config, via the service-linked role', () => {
    const endpointId = logicalIdOf(template, 'AWS::SageMaker::Endpoint', () => true);
    template.hasResource('AWS::ApplicationAutoScaling::ScalableTarget', {
      Properties: {
        ServiceNamespace: 'sagemaker',
        ResourceId: `endpoint/${names.modelEndpointName}/variant/AllTraffic`,
        ScalableDimension: 'sagemaker:variant:DesiredInstanceCount',
        MinCapacity: 1,
        MaxCapacity: 3,
        RoleARN: Match.stringLikeRegexp('AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint$'),
      },
      DependsOn: Match.arrayWith([endpointId]),
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: {
        PredefinedMetricSpecification: { PredefinedMetricType: 'SageMakerVariantInvocationsPerInstance' },
        TargetValue: 1000,
      },
    });
    template.resourceCountIs('AWS::IAM::Role', 1); // only the execution role
  });

  test('the endpoint log group exists up front with retention and encryption', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: `/aws/sagemaker/Endpoints/${names.modelEndpointName}`,
      RetentionInDays: 30,
      KmsKeyId: keyArn,
    });
  });

  test('the execution role: this account only; image pull, models/ read, own logs — nothing else', () => {
    const role = template.toJSON().Resources[roleId];
    expect(role.Properties.AssumeRolePolicyDocument.Statement[0].Condition).toEqual({ StringEquals: { 'aws:SourceAccount': TEST_ACCOUNT } });
    const statements = roleStatements(template, roleId);
    const actions = statements.flatMap((s) => toArray(s.Action)).sort();
    expect(actions).toEqual(
      [
        'ecr:BatchCheckLayerAvailability',
        'ecr:BatchGetImage',
        'ecr:GetAuthorizationToken',
        'ecr:GetDownloadUrlForLayer',
        'kms:Decrypt',
        'kms:DescribeKey',
        'logs:CreateLogStream',
        'logs:DescribeLogStreams',
        'logs:PutLogEvents',
        's3:GetObject',
        's3:ListBucket',
      ].sort(),
    );
    const read = statements.find((s) => s.Sid === 'ReadObjects')!;
    expect(JSON.stringify(read.Resource)).toContain(`:s3:::pumpwatch-test-data-${TEST_ACCOUNT}/models/*`);
    const list = statements.find((s) => s.Sid === 'ListObjectPrefixes')!;
    expect(list.Condition).toEqual({ StringLike: { 's3:prefix': ['models/', 'models/*'] } });
    // The data key of the bucket's objects, from the data stack.
    const decrypt = statements.find((s) => s.Sid === 'DecryptObjects')!;
    expect(JSON.stringify(decrypt.Resource)).toContain('Pumpwatch-test-Data');
  });
});

describe('model registry and routing updates', () => {
  test('one model package group per pump type, retained', () => {
    for (const type of ['centrifugal', 'screw']) {
      template.hasResource('AWS::SageMaker::ModelPackageGroup', {
        Properties: { ModelPackageGroupName: `pumpwatch-test-${type}` },
        DeletionPolicy: 'Retain',
      });
    }
    template.resourceCountIs('AWS::SageMaker::ModelPackageGroup', 2);
  });

  test('a default-bus rule on Model Package State Change of those groups and the pumps\' groups feeds the routing queue', () => {
    const queueId = logicalIdOf(template, 'AWS::SQS::Queue', (p) => p.QueueName === 'pumpwatch-test-model-routing');
    const dlqId = logicalIdOf(template, 'AWS::SQS::Queue', (p) => p.QueueName === 'pumpwatch-test-model-routing-dlq');
    const rule = findOne(template, 'AWS::Events::Rule', () => true).Properties;
    expect(rule.EventBusName).toBeUndefined();
    expect(rule.EventPattern).toEqual({
      source: ['aws.sagemaker'],
      'detail-type': [MODEL_PACKAGE_STATE_CHANGE],
      detail: { ModelPackageGroupName: ['pumpwatch-test-centrifugal', 'pumpwatch-test-screw', { prefix: 'pumpwatch-test-pump-' }] },
    });
    // Checked with the project's EventBridge pattern engine: a version change of a pump's own group
    // (named by the registry adapter) matches; another stage's or project's group does not.
    const change = (group: string) => ({
      source: 'aws.sagemaker',
      'detail-type': MODEL_PACKAGE_STATE_CHANGE,
      detail: { ModelPackageGroupName: group, ModelApprovalStatus: 'Approved' },
    });
    const pattern = JSON.stringify(rule.EventPattern);
    expect(matchesEventPattern(pattern, change(sageMakerGroupName('test', 'pump-P-0042')))).toBe(true);
    expect(matchesEventPattern(pattern, change(sageMakerGroupName('test', 'type-screw')))).toBe(true);
    expect(matchesEventPattern(pattern, change(sageMakerGroupName('prod', 'pump-P-0042')))).toBe(false);
    expect(matchesEventPattern(pattern, change('pumpwatch-test-centrifugal-old'))).toBe(false);
    expect(rule.Targets).toEqual([
      {
        Id: 'routing-queue',
        Arn: { 'Fn::GetAtt': [queueId, 'Arn'] },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlqId, 'Arn'] } },
        RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 24 },
      },
    ]);
  });

  test('routing queue and its DLQ: KMS with the model key, redrive after 5 receives, TLS only, only the rule sends', () => {
    const ruleId = logicalIdOf(template, 'AWS::Events::Rule', () => true);
    const queue = findOne(template, 'AWS::SQS::Queue', (p) => p.QueueName === 'pumpwatch-test-model-routing').Properties;
    const dlqId = logicalIdOf(template, 'AWS::SQS::Queue', (p) => p.QueueName === 'pumpwatch-test-model-routing-dlq');
    expect(queue).toMatchObject({ KmsMasterKeyId: keyArn, RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 5 } });
    template.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'pumpwatch-test-model-routing-dlq', KmsMasterKeyId: keyArn });
    template.resourcePropertiesCountIs(
      'AWS::SQS::QueuePolicy',
      {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            Match.objectLike({
              Effect: 'Allow',
              Principal: { Service: 'events.amazonaws.com' },
              Action: 'sqs:SendMessage',
              Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } } },
            }),
          ]),
        },
      },
      2,
    );
  });

  test('the model key admits EventBridge (routing queue) and CloudWatch Logs (endpoint logs)', () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Sid: 'EventBridgeDeliversRoutingUpdates', Principal: { Service: 'events.amazonaws.com' } }),
          Match.objectLike({ Sid: 'CloudWatchLogsEncryptsLogGroups' }),
        ]),
      },
    });
  });

  test('the model server image URI is published as an SSM parameter (read by the worker tasks by name)', () => {
    const param = findOne(template, 'AWS::SSM::Parameter', () => true).Properties;
    expect(param).toMatchObject({ Name: modelImageParameterName('test'), Type: 'String', Tier: 'Standard' });
    const model = findOne(template, 'AWS::SageMaker::Model', () => true).Properties;
    expect(param.Value).toEqual(model.PrimaryContainer.Image);
  });

  test('the stack is deployable on its own: it depends only on the data stack', () => {
    expect(stage.stacks.models.dependencies.map((s) => s.stackName)).toEqual(['Pumpwatch-test-Data']);
  });
});
