import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { EVENT_SOURCE } from '../../shared/names';
import { STANDARD_SUBSCRIPTIONS, type Subscription } from '../../shared/subscriptions';
import { AlertSubscriptions } from '../constructs/alert-subscriptions';
import { EncryptionKey, SERVICE_ENCRYPT_ACTIONS } from '../constructs/encryption-key';
import { logRetention, namePrefix, type PumpwatchStackProps } from './stack-props';

export interface AlertsStackProps extends PumpwatchStackProps {
  /** Defaults to STANDARD_SUBSCRIPTIONS, the list the local bus also uses. */
  readonly subscriptions?: readonly Subscription[];
}

/**
 * The custom event bus, its archive (for EventBridge replay), and the alert subscriptions with their
 * targets, dead-letter queues and retry policies.
 */
export class AlertsStack extends Stack {
  readonly bus: events.EventBus;
  readonly archive: events.Archive;
  readonly subscriptions: AlertSubscriptions;
  readonly deadLetterQueues: ReadonlyMap<string, sqs.IQueue>;

  constructor(scope: Construct, id: string, props: AlertsStackProps) {
    super(scope, id, props);
    const { config, names } = props;
    const prefix = namePrefix(config);

    // Events carry pump state, not secrets: the bus and archive use EventBridge's AWS owned key (a
    // customer managed bus key would make every publisher and replay depend on a key grant).
    this.bus = new events.EventBus(this, 'Bus', { eventBusName: names.eventBusName, description: `pumpwatch ${config.stage} events` });
    this.archive = new events.Archive(this, 'Archive', {
      sourceEventBus: this.bus,
      archiveName: `${names.eventBusName}-archive`,
      description: 'Every pumpwatch event, for EventBridge replay',
      eventPattern: { source: [EVENT_SOURCE] },
      retention: config.alerts.archiveRetentionDays === 0 ? undefined : Duration.days(config.alerts.archiveRetentionDays),
    });

    const key = new EncryptionKey(this, 'AlertsKey', {
      alias: `${prefix}-alerts`,
      description: `pumpwatch ${config.stage}: alert topics, queues and logs`,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // EventBridge writes to the encrypted topics, queues and dead-letter queues.
    key.allowService('EventBridgeDeliversAlerts', 'events.amazonaws.com', SERVICE_ENCRYPT_ACTIONS);
    key.allowCloudWatchLogs();

    this.subscriptions = new AlertSubscriptions(this, 'Subscriptions', {
      bus: this.bus,
      encryptionKey: key.key,
      subscriptions: props.subscriptions ?? STANDARD_SUBSCRIPTIONS,
      namePrefix: prefix,
      maxEventAge: Duration.seconds(config.alerts.maxEventAgeSeconds),
      retryAttempts: config.alerts.retryAttempts,
      logRetention: logRetention(config),
    });
    this.deadLetterQueues = this.subscriptions.deadLetterQueues;
  }
}
