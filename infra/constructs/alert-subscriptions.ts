import { Aws, Duration, RemovalPolicy, Token, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { describeIssues } from '../../shared/schemas/issues';
import { type Subscription, SubscriptionSchema, type SubscriptionTarget } from '../../shared/subscriptions';
import { SecureQueue } from './secure-queue';

export interface AlertSubscriptionsProps {
  readonly bus: events.IEventBus;
  /** Encrypts topics, queues, dead-letter queues and log groups; its policy must let EventBridge and CloudWatch Logs use it. */
  readonly encryptionKey: kms.IKey;
  /** Subscriptions as configuration (shared/subscriptions.ts), the same list the local bus uses. */
  readonly subscriptions: readonly Subscription[];
  /** `pumpwatch-<stage>`: prefixes rule, topic, queue and log group names. */
  readonly namePrefix: string;
  /** Retry policy of every target. */
  readonly maxEventAge: Duration;
  readonly retryAttempts: number;
  readonly logRetention: logs.RetentionDays;
}

/** One logical target (kind + id) and the rules that deliver to it. */
interface BoundTarget {
  readonly target: SubscriptionTarget;
  readonly arn: string;
  readonly deadLetterQueue: sqs.IQueue;
  readonly ruleArns: string[];
}

const EVENTS = 'events.amazonaws.com';

/**
 * The alert subscriptions on AWS: one EventBridge rule per subscription with exactly its pattern, and
 * per logical target an SNS topic, an SQS queue or a CloudWatch Logs group. Every target has a
 * dead-letter queue and a retry policy; every resource policy admits only the rules that deliver to it.
 * A target used by several rules is created once.
 */
export class AlertSubscriptions extends Construct {
  readonly rules: ReadonlyMap<string, events.CfnRule>;
  readonly topics: ReadonlyMap<string, sns.Topic>;
  readonly queues: ReadonlyMap<string, SecureQueue>;
  readonly logGroups: ReadonlyMap<string, logs.LogGroup>;
  /** Every dead-letter queue (target delivery failures and queue redrive), by `<id>-<kind>`. */
  readonly deadLetterQueues: ReadonlyMap<string, sqs.IQueue>;

  private readonly props: AlertSubscriptionsProps;
  private readonly bound = new Map<string, BoundTarget>();
  private readonly topicMap = new Map<string, sns.Topic>();
  private readonly queueMap = new Map<string, SecureQueue>();
  private readonly logMap = new Map<string, logs.LogGroup>();
  private readonly dlqs = new Map<string, sqs.IQueue>();

  constructor(scope: Construct, id: string, props: AlertSubscriptionsProps) {
    super(scope, id);
    this.props = props;
    validate(id, props);

    const rules = new Map<string, events.CfnRule>();
    for (const subscription of props.subscriptions) {
      const targets = subscription.targets.map((t) => this.bind(t));
      const rule = new events.CfnRule(this, `Rule-${subscription.name}`, {
        name: `${props.namePrefix}-${subscription.name}`,
        description: subscription.description,
        eventBusName: props.bus.eventBusName,
        eventPattern: subscription.pattern,
        state: 'ENABLED',
        targets: targets.map((t) => ({
          id: `${t.target.kind}-${t.target.id}`,
          arn: t.arn,
          deadLetterConfig: { arn: t.deadLetterQueue.queueArn },
          retryPolicy: {
            maximumEventAgeInSeconds: props.maxEventAge.toSeconds(),
            maximumRetryAttempts: props.retryAttempts,
          },
        })),
      });
      for (const t of targets) t.ruleArns.push(rule.attrArn);
      rules.set(subscription.name, rule);
    }
    this.rules = rules;
    this.topics = this.topicMap;
    this.queues = this.queueMap;
    this.logGroups = this.logMap;
    this.deadLetterQueues = this.dlqs;
    this.addResourcePolicies();
  }

  /** Creates (once) the resource behind a logical target and its dead-letter queue. */
  private bind(target: SubscriptionTarget): BoundTarget {
    const key = `${target.kind}:${target.id}`;
    const existing = this.bound.get(key);
    if (existing) return existing;
    const { namePrefix, encryptionKey } = this.props;
    const baseName = `${namePrefix}-${target.id}`;
    let bound: BoundTarget;
    switch (target.kind) {
      case 'topic': {
        const topic = new sns.Topic(this, `Topic-${target.id}`, {
          topicName: baseName,
          displayName: `pumpwatch ${target.id}`,
          masterKey: encryptionKey,
          enforceSSL: true,
        });
        this.topicMap.set(target.id, topic);
        bound = { target, arn: topic.topicArn, deadLetterQueue: this.deadLetterQueue(target, `${baseName}-topic-dlq`), ruleArns: [] };
        break;
      }
      case 'queue': {
        const queue = new SecureQueue(this, `Queue-${target.id}`, { queueName: baseName, encryptionKey });
        this.queueMap.set(target.id, queue);
        this.dlqs.set(`${target.id}-${target.kind}`, queue.deadLetterQueue);
        bound = { target, arn: queue.queue.queueArn, deadLetterQueue: queue.deadLetterQueue, ruleArns: [] };
        break;
      }
      case 'log': {
        const logGroup = new logs.LogGroup(this, `Log-${target.id}`, {
          logGroupName: `/aws/events/${baseName}`,
          retention: this.props.logRetention,
          encryptionKey,
          removalPolicy: RemovalPolicy.RETAIN,
        });
        this.logMap.set(target.id, logGroup);
        bound = {
          target,
          // EventBridge wants the log group ARN without the trailing `:*`.
          arn: `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:${logGroup.logGroupName}`,
          deadLetterQueue: this.deadLetterQueue(target, `${baseName}-log-dlq`),
          ruleArns: [],
        };
        break;
      }
    }
    this.bound.set(key, bound);
    return bound;
  }

  private deadLetterQueue(target: SubscriptionTarget, queueName: string): sqs.Queue {
    const dlq = new sqs.Queue(this, `DeadLetter-${target.kind}-${target.id}`, {
      queueName,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.props.encryptionKey,
      dataKeyReuse: Duration.hours(1),
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(dlq).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: `This queue is the dead-letter queue of the EventBridge target ${target.kind} "${target.id}" (DeadLetterConfig of the rule target, which cdk-nag does not recognise); a dead-letter queue of a dead-letter queue adds nothing, and its depth is alarmed in the observability stack.`,
    });
    this.dlqs.set(`${target.id}-${target.kind}`, dlq);
    return dlq;
  }

  /** Resource policies: each target admits exactly the rules that deliver to it. */
  private addResourcePolicies(): void {
    const logStatements: iam.PolicyStatement[] = [];
    for (const b of this.bound.values()) {
      const sourceArn = { ArnEquals: { 'aws:SourceArn': b.ruleArns.length === 1 ? b.ruleArns[0] : b.ruleArns } };
      const sid = `Rules${pascal(b.target.kind)}${pascal(b.target.id)}`;
      switch (b.target.kind) {
        case 'topic':
          this.topicMap.get(b.target.id)!.addToResourcePolicy(
            new iam.PolicyStatement({
              sid,
              principals: [new iam.ServicePrincipal(EVENTS)],
              actions: ['sns:Publish'],
              resources: [b.arn],
              conditions: sourceArn,
            }),
          );
          break;
        case 'queue':
          this.queueMap.get(b.target.id)!.allowRules(sid, b.ruleArns, { deadLetter: true });
          break;
        case 'log':
          logStatements.push(
            new iam.PolicyStatement({
              sid,
              principals: [new iam.ServicePrincipal(EVENTS)],
              actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              resources: [this.logMap.get(b.target.id)!.logGroupArn],
              conditions: sourceArn,
            }),
          );
          break;
      }
      if (b.target.kind !== 'queue') {
        b.deadLetterQueue.addToResourcePolicy(
          new iam.PolicyStatement({
            sid,
            principals: [new iam.ServicePrincipal(EVENTS)],
            actions: ['sqs:SendMessage'],
            resources: [b.deadLetterQueue.queueArn],
            conditions: sourceArn,
          }),
        );
      }
    }
    if (logStatements.length > 0) {
      // A native AWS::Logs::ResourcePolicy (CDK's log group target would add a Lambda custom resource).
      new logs.ResourcePolicy(this, 'LogDelivery', {
        resourcePolicyName: `${this.props.namePrefix}-alert-log-delivery`,
        policyStatements: logStatements,
      });
    }
  }
}

function validate(id: string, props: AlertSubscriptionsProps): void {
  if (props.subscriptions.length === 0) throw new Error(`AlertSubscriptions ${id}: no subscriptions`);
  const names = new Set<string>();
  props.subscriptions.forEach((s, i) => {
    const parsed = SubscriptionSchema.safeParse(s);
    if (!parsed.success) throw new Error(`AlertSubscriptions ${id}: ${describeIssues(parsed.error, `subscriptions[${i}]`)}`);
    if (names.has(s.name)) throw new Error(`AlertSubscriptions ${id}: subscription ${s.name} defined twice`);
    names.add(s.name);
    if (!Token.isUnresolved(props.namePrefix) && `${props.namePrefix}-${s.name}`.length > 64) {
      throw new Error(`AlertSubscriptions ${id}: rule name ${props.namePrefix}-${s.name} is longer than 64 characters`);
    }
  });
  if (!Token.isUnresolved(props.retryAttempts) && (!Number.isInteger(props.retryAttempts) || props.retryAttempts < 0 || props.retryAttempts > 185)) {
    throw new Error(`AlertSubscriptions ${id}: retryAttempts must be 0..185`);
  }
  const age = props.maxEventAge.toSeconds();
  if (age < 60 || age > 86_400) throw new Error(`AlertSubscriptions ${id}: maxEventAge must be 60 s..24 h`);
}

function pascal(s: string): string {
  return s
    .split(/[^a-zA-Z0-9]/)
    .filter(Boolean)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('');
}
