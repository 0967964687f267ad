import { Match } from 'aws-cdk-lib/assertions';
import { PipelineAlarms } from '../../infra/constructs/pipeline-alarms';
import { emfDocument, METRIC_NAMESPACE, METRICS, STAGE_DIMENSION } from '../../infra/metrics';
import * as sns from 'aws-cdk-lib/aws-sns';
import { findOne, logicalIdOf, resourcesOfType, synthStage, testStack } from './helpers';

const stage = synthStage();
const template = stage.template('observability');
const topicId = logicalIdOf(template, 'AWS::SNS::Topic', () => true);
const alarm = (name: string) => findOne(template, 'AWS::CloudWatch::Alarm', (p) => p.AlarmName === `pumpwatch-test-${name}`).Properties;
const stageDims = [{ Name: STAGE_DIMENSION, Value: 'test' }];
const metricStats = (a: Record<string, any>) =>
  Object.fromEntries((a.Metrics as any[]).filter((m) => m.MetricStat).map((m) => [m.Id, m.MetricStat]));

describe('ops topic', () => {
  test('encrypted with its own key, which lets CloudWatch alarms publish; TLS only', () => {
    const keyId = logicalIdOf(template, 'AWS::KMS::Key', () => true);
    template.hasResourceProperties('AWS::SNS::Topic', { TopicName: 'pumpwatch-test-ops-alarms', KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey'] }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: [Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })] },
    });
  });
});

describe('alarms', () => {
  test('every alarm notifies the ops topic on ALARM and OK', () => {
    const alarms = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBe(10);
    for (const a of alarms) {
      expect(a.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(a.Properties.OKActions).toEqual([{ Ref: topicId }]);
      expect(a.Properties.AlarmDescription).toEqual(expect.any(String));
    }
  });

  test('iterator age of the stream (missing data = nobody reads = breaching)', () => {
    expect(alarm('iterator-age')).toMatchObject({
      Namespace: 'AWS/Kinesis',
      MetricName: 'GetRecords.IteratorAgeMilliseconds',
      Dimensions: [{ Name: 'StreamName', Value: 'pumpwatch-test-telemetry' }],
      Statistic: 'Maximum',
      Threshold: 300_000,
      EvaluationPeriods: 5,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'breaching',
    });
  });

  test('quarantine rate: quarantined / read from the pumpwatch EMF metrics', () => {
    const a = alarm('quarantine-rate');
    expect(a).toMatchObject({ Threshold: 5, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'notBreaching' });
    expect(a.Metrics.find((m: any) => m.Expression).Expression).toBe('IF(read > 0, 100 * FILL(quarantined, 0) / read, 0)');
    const stats = metricStats(a);
    expect(stats.quarantined.Metric).toEqual({ Namespace: METRIC_NAMESPACE, MetricName: METRICS.recordsQuarantined.name, Dimensions: stageDims });
    expect(stats.read.Metric).toEqual({ Namespace: METRIC_NAMESPACE, MetricName: METRICS.recordsRead.name, Dimensions: stageDims });
  });

  test('model errors: client-side errors + SageMaker 4XX (ModelError) + 5XX of the endpoint variant', () => {
    const a = alarm('model-errors');
    expect(a.Threshold).toBe(10);
    const stats = metricStats(a);
    expect(stats.client.Metric).toEqual({ Namespace: METRIC_NAMESPACE, MetricName: METRICS.modelInvocationErrors.name, Dimensions: stageDims });
    const endpointDims = [
      { Name: 'EndpointName', Value: 'pumpwatch-test-models' },
      { Name: 'VariantName', Value: 'AllTraffic' },
    ];
    expect(stats.e4.Metric).toEqual({ Namespace: 'AWS/SageMaker', MetricName: 'Invocation4XXErrors', Dimensions: endpointDims });
    expect(stats.e5.Metric).toEqual({ Namespace: 'AWS/SageMaker', MetricName: 'Invocation5XXErrors', Dimensions: endpointDims });
  });

  test('outbox backlog', () => {
    expect(alarm('outbox-backlog')).toMatchObject({
      Namespace: METRIC_NAMESPACE,
      MetricName: METRICS.outboxPending.name,
      Dimensions: stageDims,
      Statistic: 'Maximum',
      Threshold: 500,
    });
  });

  test('consumer task health: running tasks below the service minimum (missing = breaching)', () => {
    const a = alarm('consumer-tasks');
    expect(a).toMatchObject({
      Namespace: 'ECS/ContainerInsights',
      MetricName: 'RunningTaskCount',
      Statistic: 'Minimum',
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    expect(a.Dimensions.map((d: any) => d.Name)).toEqual(['ClusterName', 'ServiceName']);
    expect(JSON.stringify(a.Dimensions)).toContain('Pumpwatch-test-Pipeline');
  });

  test('archive freshness and every dead-letter queue', () => {
    expect(alarm('archive-freshness')).toMatchObject({
      Namespace: 'AWS/Firehose',
      MetricName: 'DeliveryToS3.DataFreshness',
      Dimensions: [{ Name: 'DeliveryStreamName', Value: 'pumpwatch-test-raw-archive' }],
      Threshold: 900,
    });
    for (const label of ['alarms-topic', 'anomalies-queue', 'conditions-log', 'model-routing']) {
      expect(alarm(`dead-letters-${label}`)).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    }
  });

  test('thresholds come from the stage config', () => {
    const custom = synthStage({ stage: 'alarms', alarms: { iteratorAgeMs: 60_000, outboxBacklog: 50, evaluationPeriods: 3 }, consumer: { minCount: 2 } });
    const t = custom.template('observability');
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'pumpwatch-alarms-iterator-age', Threshold: 60_000, EvaluationPeriods: 3 });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'pumpwatch-alarms-outbox-backlog', Threshold: 50 });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'pumpwatch-alarms-consumer-tasks', Threshold: 2 });
  });

  test('thresholds are validated', () => {
    const stack = testStack();
    const resources = {
      stage: 's',
      streamName: 'x',
      deliveryStreamName: 'x',
      clusterName: 'x',
      serviceName: 'x',
      endpointName: 'x',
      variantName: 'x',
      deadLetterQueues: new Map(),
    };
    const thresholds = {
      iteratorAgeMs: 1,
      quarantineRatePercent: 1,
      modelErrors: 1,
      outboxBacklog: 1,
      deadLetterMessages: 1,
      evaluationPeriods: 1,
      minRunningTasks: 1,
      archiveFreshnessSeconds: 1,
    };
    const topic = new sns.Topic(stack, 'T');
    expect(() => new PipelineAlarms(stack, 'A', { resources, topic, thresholds: { ...thresholds, modelErrors: 0 } })).toThrow(/modelErrors must be positive/);
    expect(() => new PipelineAlarms(stack, 'B', { resources, topic, thresholds: { ...thresholds, quarantineRatePercent: 101 } })).toThrow(/<= 100/);
  });
});

describe('dashboard', () => {
  test('one dashboard per stage showing alarms, stream, consumers, scoring, endpoint, outbox, DLQs, archive', () => {
    const body = findOne(template, 'AWS::CloudWatch::Dashboard', (p) => p.DashboardName === 'pumpwatch-test').Properties.DashboardBody;
    const text = JSON.stringify(body);
    for (const m of Object.values(METRICS)) expect(text).toContain(`\\"${m.name}\\"`);
    for (const m of ['GetRecords.IteratorAgeMilliseconds', 'RunningTaskCount', 'Invocation5XXErrors', 'DeliveryToS3.DataFreshness', 'ApproximateNumberOfMessagesVisible']) {
      expect(text).toContain(m);
    }
    expect(text).toContain('\\"alarms\\"');
  });
});

describe('metric names (infra/metrics.ts)', () => {
  test('unique CloudWatch names, one namespace, one dimension', () => {
    const names = Object.values(METRICS).map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    expect(METRIC_NAMESPACE).toBe('pumpwatch');
  });

  test('emfDocument builds an EMF line CloudWatch turns into the alarmed metrics', () => {
    const doc = emfDocument('prod', { recordsRead: 120, recordsQuarantined: 3, modelLatency: 41.5, outboxPending: Number.NaN }, 1_700_000_000_000);
    expect(doc).toEqual({
      _aws: {
        Timestamp: 1_700_000_000_000,
        CloudWatchMetrics: [
          {
            Namespace: 'pumpwatch',
            Dimensions: [['Stage']],
            Metrics: [
              { Name: 'RecordsRead', Unit: 'Count' },
              { Name: 'RecordsQuarantined', Unit: 'Count' },
              { Name: 'ModelLatency', Unit: 'Milliseconds' },
            ],
          },
        ],
      },
      Stage: 'prod',
      RecordsRead: 120,
      RecordsQuarantined: 3,
      ModelLatency: 41.5,
    });
  });
});
