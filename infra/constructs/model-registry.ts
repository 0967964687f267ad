import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import { SecureQueue } from './secure-queue';

export interface ModelRegistryProps {
  /** One model package group per name (one per pump type). */
  readonly groupNames: readonly string[];
  /**
   * Prefixes (ending in `-`) of groups created at run time (one per pump with its own baseline): the
   * rule forwards their version changes too; the groups themselves are not created here.
   */
  readonly groupPrefixes?: readonly string[];
  /** Name of the routing-update queue (its dead-letter queue is `<name>-dlq`). */
  readonly routingQueueName: string;
  readonly encryptionKey: kms.IKey;
  readonly maxEventAge: Duration;
  readonly retryAttempts: number;
}

/** The EventBridge detail-type SageMaker emits when a model package (version) changes. */
export { MODEL_PACKAGE_STATE_CHANGE } from '../../shared/names';
import { MODEL_PACKAGE_STATE_CHANGE } from '../../shared/names';

/**
 * The model registry on AWS: a SageMaker model package group per pump type (the interface between
 * data science and the pipeline), and a rule on the default bus that turns every version change of
 * those groups (registered, approved, rejected) into a message on the routing queue. Consumers read
 * the queue and refresh routing without a restart; a message that keeps failing lands in the
 * dead-letter queue, as does an event EventBridge cannot deliver.
 */
export class ModelRegistry extends Construct {
  readonly groups: readonly sagemaker.CfnModelPackageGroup[];
  readonly routing: SecureQueue;
  readonly rule: events.CfnRule;
  /** The rule's event pattern (exactly what is deployed). */
  readonly eventPattern: Record<string, unknown>;

  constructor(scope: Construct, id: string, props: ModelRegistryProps) {
    super(scope, id);
    if (props.groupNames.length === 0) throw new Error(`ModelRegistry ${id}: at least one model package group`);
    const unique = new Set(props.groupNames);
    if (unique.size !== props.groupNames.length) throw new Error(`ModelRegistry ${id}: duplicate model package group`);
    for (const g of props.groupNames) {
      if (!Token.isUnresolved(g) && !/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/.test(g)) {
        throw new Error(`ModelRegistry ${id}: invalid model package group name ${JSON.stringify(g)}`);
      }
    }

    const prefixes = props.groupPrefixes ?? [];
    for (const p of prefixes) {
      if (!/^[a-zA-Z0-9](-*[a-zA-Z0-9])*-$/.test(p)) throw new Error(`ModelRegistry ${id}: a group prefix is a group name start ending in "-": ${JSON.stringify(p)}`);
    }

    this.groups = props.groupNames.map((name) => {
      const group = new sagemaker.CfnModelPackageGroup(this, `Group-${name}`, {
        modelPackageGroupName: name,
        modelPackageGroupDescription: `pumpwatch models for ${name}; newest Approved version serves`,
      });
      // The registry holds the approved history: keep it if the stack goes.
      group.applyRemovalPolicy(RemovalPolicy.RETAIN);
      return group;
    });

    this.routing = new SecureQueue(this, 'Routing', {
      queueName: props.routingQueueName,
      encryptionKey: props.encryptionKey,
      maxReceiveCount: 5,
      visibilityTimeout: Duration.seconds(60),
    });

    this.eventPattern = {
      source: ['aws.sagemaker'],
      'detail-type': [MODEL_PACKAGE_STATE_CHANGE],
      detail: { ModelPackageGroupName: [...props.groupNames, ...prefixes.map((prefix) => ({ prefix }))] },
    };
    this.rule = new events.CfnRule(this, 'StateChange', {
      description: 'Model package version changes of the pumpwatch groups → routing update queue',
      eventPattern: this.eventPattern,
      state: 'ENABLED',
      targets: [
        {
          id: 'routing-queue',
          arn: this.routing.queue.queueArn,
          deadLetterConfig: { arn: this.routing.deadLetterQueue.queueArn },
          retryPolicy: {
            maximumEventAgeInSeconds: props.maxEventAge.toSeconds(),
            maximumRetryAttempts: props.retryAttempts,
          },
        },
      ],
    });
    this.routing.allowRules('ModelPackageStateChange', [this.rule.attrArn], { deadLetter: true });
  }
}
