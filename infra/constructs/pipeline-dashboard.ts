import { Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { type MonitoredResources, pumpwatchMetric } from './pipeline-alarms';

export interface PipelineDashboardProps {
  readonly dashboardName: string;
  readonly resources: MonitoredResources;
  readonly alarms: readonly cloudwatch.IAlarm[];
}

/**
 * One CloudWatch dashboard for the stage: alarm status, then the data path top to bottom — stream,
 * consumers, windows and scoring, the model endpoint, the outbox and alerts.
 */
export class PipelineDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: PipelineDashboardProps) {
    super(scope, id);
    if (!Token.isUnresolved(props.dashboardName) && !/^[a-zA-Z0-9_-]{1,255}$/.test(props.dashboardName)) {
      throw new Error(`PipelineDashboard ${id}: invalid dashboard name ${JSON.stringify(props.dashboardName)}`);
    }
    const r = props.resources;
    const minute = Duration.minutes(1);
    const pw = (key: Parameters<typeof pumpwatchMetric>[1], stat: string) => pumpwatchMetric(r.stage, key, stat, minute);
    const kinesis = (metricName: string, stat: string) =>
      new cloudwatch.Metric({ namespace: 'AWS/Kinesis', metricName, dimensionsMap: { StreamName: r.streamName }, statistic: stat, period: minute });
    const sagemaker = (metricName: string, stat: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/SageMaker',
        metricName,
        dimensionsMap: { EndpointName: r.endpointName, VariantName: r.variantName },
        statistic: stat,
        period: minute,
      });
    const ecsMetric = (metricName: string, stat: string) =>
      new cloudwatch.Metric({
        namespace: 'ECS/ContainerInsights',
        metricName,
        dimensionsMap: { ClusterName: r.clusterName, ServiceName: r.serviceName },
        statistic: stat,
        period: minute,
      });
    const graph = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = []) =>
      new cloudwatch.GraphWidget({ title, left, right, width: 8, height: 6 });

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(3),
      widgets: [
        [new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: 24, height: 4 })],
        [
          graph('Stream: records in / read', [kinesis('IncomingRecords', 'Sum'), kinesis('GetRecords.Records', 'Sum')]),
          graph('Stream: iterator age (ms)', [kinesis('GetRecords.IteratorAgeMilliseconds', 'Maximum'), pw('millisBehindLatest', 'Maximum')]),
          graph('Stream: throttling', [kinesis('WriteProvisionedThroughputExceeded', 'Sum'), kinesis('ReadProvisionedThroughputExceeded', 'Sum')]),
        ],
        [
          graph('Consumers: tasks', [ecsMetric('RunningTaskCount', 'Minimum'), ecsMetric('DesiredTaskCount', 'Maximum')], [pw('leasesHeld', 'Sum')]),
          graph('Consumers: CPU / memory', [ecsMetric('CpuUtilized', 'Average'), ecsMetric('MemoryUtilized', 'Average')]),
          graph('Records: read / quarantined', [pw('recordsRead', 'Sum')], [pw('recordsQuarantined', 'Sum')]),
        ],
        [
          graph('Windows: closed / scored / unscored', [pw('windowsClosed', 'Sum'), pw('windowsScored', 'Sum'), pw('windowsUnscored', 'Sum')]),
          graph('Model: invocations / errors', [pw('modelInvocations', 'Sum'), sagemaker('Invocations', 'Sum')], [
            pw('modelInvocationErrors', 'Sum'),
            sagemaker('Invocation4XXErrors', 'Sum'),
            sagemaker('Invocation5XXErrors', 'Sum'),
          ]),
          // pumpwatch measures milliseconds round trip; SageMaker's ModelLatency is in microseconds.
          graph('Model: latency p99 (client ms | endpoint µs)', [pw('modelLatency', 'p99')], [sagemaker('ModelLatency', 'p99')]),
        ],
        [
          graph('Outbox: pending / published', [pw('outboxPending', 'Maximum')], [pw('eventsPublished', 'Sum')]),
          graph(
            'Dead-letter queues',
            [...r.deadLetterQueues].map(([label, q]) =>
              q.metricApproximateNumberOfMessagesVisible({ label, statistic: 'Maximum', period: Duration.minutes(5) }),
            ),
          ),
          graph('Archive: freshness (s)', [
            new cloudwatch.Metric({
              namespace: 'AWS/Firehose',
              metricName: 'DeliveryToS3.DataFreshness',
              dimensionsMap: { DeliveryStreamName: r.deliveryStreamName },
              statistic: 'Maximum',
              period: Duration.minutes(5),
            }),
          ]),
        ],
      ],
    });
  }
}
