import { Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRIC_NAMESPACE, METRICS, type MetricKey, STAGE_DIMENSION } from '../metrics';

/** Where the alarms look. */
export interface MonitoredResources {
  readonly stage: string;
  readonly streamName: string;
  readonly deliveryStreamName: string;
  readonly clusterName: string;
  readonly serviceName: string;
  readonly endpointName: string;
  readonly variantName: string;
  /** Every dead-letter queue (alert targets, routing updates), by a short label used in alarm names. */
  readonly deadLetterQueues: ReadonlyMap<string, sqs.IQueue>;
}

export interface AlarmThresholds {
  readonly iteratorAgeMs: number;
  readonly quarantineRatePercent: number;
  readonly modelErrors: number;
  readonly outboxBacklog: number;
  readonly deadLetterMessages: number;
  readonly evaluationPeriods: number;
  /** Fewer running consumer tasks than this is unhealthy. */
  readonly minRunningTasks: number;
  /** Oldest archive record not yet in S3 (seconds). */
  readonly archiveFreshnessSeconds: number;
}

export interface PipelineAlarmsProps {
  readonly resources: MonitoredResources;
  readonly thresholds: AlarmThresholds;
  /** Alarm and OK notifications. */
  readonly topic: sns.ITopic;
}

/** A pumpwatch metric (EMF, namespace `pumpwatch`, dimension Stage). */
export function pumpwatchMetric(stage: string, key: MetricKey, statistic: string, period = Duration.minutes(1)): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRIC_NAMESPACE,
    metricName: METRICS[key].name,
    dimensionsMap: { [STAGE_DIMENSION]: stage },
    statistic,
    period,
  });
}

/**
 * The operational alarms: consumers behind (iterator age), bad input (quarantine rate), model
 * errors, outbox backlog (alerts not going out), consumer task health, archive delivery, and any
 * message in a dead-letter queue. Each notifies the ops topic on ALARM and OK.
 */
export class PipelineAlarms extends Construct {
  readonly alarms: readonly cloudwatch.Alarm[];
  readonly iteratorAge: cloudwatch.Alarm;
  readonly quarantineRate: cloudwatch.Alarm;
  readonly modelErrors: cloudwatch.Alarm;
  readonly outboxBacklog: cloudwatch.Alarm;
  readonly consumerHealth: cloudwatch.Alarm;
  readonly archiveFreshness: cloudwatch.Alarm;
  readonly deadLetters: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: PipelineAlarmsProps) {
    super(scope, id);
    const t = props.thresholds;
    for (const [name, value] of Object.entries(t)) {
      if (!Token.isUnresolved(value) && !(typeof value === 'number' && value > 0)) {
        throw new Error(`PipelineAlarms ${id}: threshold ${name} must be positive, got ${value}`);
      }
    }
    if (t.quarantineRatePercent > 100) throw new Error(`PipelineAlarms ${id}: quarantineRatePercent must be <= 100`);
    const r = props.resources;
    const minute = Duration.minutes(1);
    const five = Duration.minutes(5);
    const periods = t.evaluationPeriods;
    const all: cloudwatch.Alarm[] = [];
    const add = (alarm: cloudwatch.Alarm): cloudwatch.Alarm => {
      alarm.addAlarmAction(new actions.SnsAction(props.topic));
      alarm.addOkAction(new actions.SnsAction(props.topic));
      all.push(alarm);
      return alarm;
    };
    const name = (suffix: string) => `pumpwatch-${r.stage}-${suffix}`;

    this.iteratorAge = add(
      new cloudwatch.Alarm(this, 'IteratorAge', {
        alarmName: name('iterator-age'),
        alarmDescription: 'Consumers are behind the telemetry stream (records may expire before they are read).',
        metric: new cloudwatch.Metric({
          namespace: 'AWS/Kinesis',
          metricName: 'GetRecords.IteratorAgeMilliseconds',
          dimensionsMap: { StreamName: r.streamName },
          statistic: cloudwatch.Stats.MAXIMUM,
          period: minute,
        }),
        threshold: t.iteratorAgeMs,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: periods,
        // No GetRecords at all means nobody reads the stream.
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      }),
    );

    this.quarantineRate = add(
      new cloudwatch.Alarm(this, 'QuarantineRate', {
        alarmName: name('quarantine-rate'),
        alarmDescription: 'Share of records quarantined (malformed, invalid, too late, ...) is above the threshold.',
        metric: new cloudwatch.MathExpression({
          label: 'Quarantined %',
          expression: 'IF(read > 0, 100 * FILL(quarantined, 0) / read, 0)',
          usingMetrics: {
            quarantined: pumpwatchMetric(r.stage, 'recordsQuarantined', cloudwatch.Stats.SUM, five),
            read: pumpwatchMetric(r.stage, 'recordsRead', cloudwatch.Stats.SUM, five),
          },
          period: five,
        }),
        threshold: t.quarantineRatePercent,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 2,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );

    const endpointDims = { EndpointName: r.endpointName, VariantName: r.variantName };
    this.modelErrors = add(
      new cloudwatch.Alarm(this, 'ModelErrors', {
        alarmName: name('model-errors'),
        alarmDescription: 'Scoring fails: ModelError / 4XX / 5XX from the endpoint or client-side failures; windows stay UNSCORED.',
        metric: new cloudwatch.MathExpression({
          label: 'Model errors',
          expression: 'FILL(client, 0) + FILL(e4, 0) + FILL(e5, 0)',
          usingMetrics: {
            client: pumpwatchMetric(r.stage, 'modelInvocationErrors', cloudwatch.Stats.SUM, five),
            e4: new cloudwatch.Metric({ namespace: 'AWS/SageMaker', metricName: 'Invocation4XXErrors', dimensionsMap: endpointDims, statistic: cloudwatch.Stats.SUM, period: five }),
            e5: new cloudwatch.Metric({ namespace: 'AWS/SageMaker', metricName: 'Invocation5XXErrors', dimensionsMap: endpointDims, statistic: cloudwatch.Stats.SUM, period: five }),
          },
          period: five,
        }),
        threshold: t.modelErrors,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );

    this.outboxBacklog = add(
      new cloudwatch.Alarm(this, 'OutboxBacklog', {
        alarmName: name('outbox-backlog'),
        alarmDescription: 'Events written to the outbox are not being published (alerts are delayed).',
        metric: pumpwatchMetric(r.stage, 'outboxPending', cloudwatch.Stats.MAXIMUM),
        threshold: t.outboxBacklog,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: periods,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );

    this.consumerHealth = add(
      new cloudwatch.Alarm(this, 'ConsumerHealth', {
        alarmName: name('consumer-tasks'),
        alarmDescription: 'Fewer consumer tasks are running than the service minimum.',
        metric: new cloudwatch.Metric({
          namespace: 'ECS/ContainerInsights',
          metricName: 'RunningTaskCount',
          dimensionsMap: { ClusterName: r.clusterName, ServiceName: r.serviceName },
          statistic: cloudwatch.Stats.MINIMUM,
          period: minute,
        }),
        threshold: t.minRunningTasks,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: periods,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      }),
    );

    this.archiveFreshness = add(
      new cloudwatch.Alarm(this, 'ArchiveFreshness', {
        alarmName: name('archive-freshness'),
        alarmDescription: 'The raw archive (Firehose → S3) is falling behind; replays from the archive would miss data.',
        metric: new cloudwatch.Metric({
          namespace: 'AWS/Firehose',
          metricName: 'DeliveryToS3.DataFreshness',
          dimensionsMap: { DeliveryStreamName: r.deliveryStreamName },
          statistic: cloudwatch.Stats.MAXIMUM,
          period: five,
        }),
        threshold: t.archiveFreshnessSeconds,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    );

    this.deadLetters = [...r.deadLetterQueues].map(([label, q]) =>
      add(
        new cloudwatch.Alarm(this, `DeadLetters-${label}`, {
          alarmName: name(`dead-letters-${label}`),
          alarmDescription: 'Messages in a dead-letter queue: an alert or routing update was not delivered; inspect and re-drive.',
          metric: q.metricApproximateNumberOfMessagesVisible({ statistic: cloudwatch.Stats.MAXIMUM, period: five }),
          threshold: t.deadLetterMessages,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      ),
    );
    this.alarms = all;
  }
}
