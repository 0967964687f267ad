import { CfnOutput, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { EncryptionKey, SERVICE_ENCRYPT_ACTIONS } from '../constructs/encryption-key';
import { PipelineAlarms, type MonitoredResources } from '../constructs/pipeline-alarms';
import { PipelineDashboard } from '../constructs/pipeline-dashboard';
import { namePrefix, type PumpwatchStackProps } from './stack-props';

export interface ObservabilityStackProps extends PumpwatchStackProps {
  readonly resources: Omit<MonitoredResources, 'stage'>;
}

/**
 * Alarms and the dashboard of a stage, and the ops topic the alarms notify (encrypted; subscribe the
 * on-call channel to it). Reads pumpwatch's EMF metrics (infra/metrics.ts) and the AWS service
 * metrics of the stream, the workers, the endpoint, the archive and the dead-letter queues.
 */
export class ObservabilityStack extends Stack {
  readonly opsTopic: sns.Topic;
  readonly alarms: PipelineAlarms;
  readonly dashboard: PipelineDashboard;

  constructor(scope: Construct, id: string, props: ObservabilityStackProps) {
    super(scope, id, props);
    const { config } = props;
    const prefix = namePrefix(config);

    const key = new EncryptionKey(this, 'OpsKey', {
      alias: `${prefix}-ops`,
      description: `pumpwatch ${config.stage}: operational alarm notifications`,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // CloudWatch alarms publish to the encrypted topic.
    key.allowService('CloudWatchPublishesAlarms', 'cloudwatch.amazonaws.com', SERVICE_ENCRYPT_ACTIONS);

    this.opsTopic = new sns.Topic(this, 'OpsTopic', {
      topicName: `${prefix}-ops-alarms`,
      displayName: `pumpwatch ${config.stage} operational alarms`,
      masterKey: key.key,
      enforceSSL: true,
    });

    const resources: MonitoredResources = { stage: config.stage, ...props.resources };
    this.alarms = new PipelineAlarms(this, 'Alarms', {
      resources,
      topic: this.opsTopic,
      thresholds: {
        iteratorAgeMs: config.alarms.iteratorAgeMs,
        quarantineRatePercent: config.alarms.quarantineRatePercent,
        modelErrors: config.alarms.modelErrors,
        outboxBacklog: config.alarms.outboxBacklog,
        deadLetterMessages: config.alarms.deadLetterMessages,
        evaluationPeriods: config.alarms.evaluationPeriods,
        minRunningTasks: config.consumer.minCount,
        // Three buffer intervals (at least 15 minutes) without delivery.
        archiveFreshnessSeconds: Math.max(900, 3 * config.archive.bufferIntervalSeconds),
      },
    });
    this.dashboard = new PipelineDashboard(this, 'Dashboard', {
      dashboardName: prefix,
      resources,
      alarms: this.alarms.alarms,
    });

    new CfnOutput(this, 'OpsTopicArn', { value: this.opsTopic.topicArn });
  }
}
