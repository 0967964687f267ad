import { Duration, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface SecureQueueProps {
  readonly queueName: string;
  readonly encryptionKey: kms.IKey;
  /** Receives before a message moves to the dead-letter queue. */
  readonly maxReceiveCount?: number;
  readonly visibilityTimeout?: Duration;
}

/**
 * An SQS queue and its dead-letter queue (`<name>-dlq`), both encrypted with a customer managed key
 * and TLS-only. The dead-letter queue keeps messages for the maximum 14 days so a failure can be
 * investigated and re-driven.
 */
export class SecureQueue extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: SecureQueueProps) {
    super(scope, id);
    if (!Token.isUnresolved(props.queueName) && !/^[a-zA-Z0-9_-]{1,76}$/.test(props.queueName)) {
      throw new Error(`SecureQueue ${id}: invalid queue name ${JSON.stringify(props.queueName)} (max 76 chars, room for "-dlq")`);
    }
    const maxReceiveCount = props.maxReceiveCount ?? 5;
    if (!Token.isUnresolved(maxReceiveCount) && (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > 1000)) {
      throw new Error(`SecureQueue ${id}: maxReceiveCount must be 1..1000`);
    }
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      queueName: `${props.queueName}-dlq`,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      dataKeyReuse: Duration.hours(1),
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      queueName: props.queueName,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      dataKeyReuse: Duration.hours(1),
      enforceSSL: true,
      retentionPeriod: Duration.days(4),
      visibilityTimeout: props.visibilityTimeout ?? Duration.seconds(60),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
    });
  }

  /** Lets EventBridge rules (and only those) deliver to the queue and, on failure, to its DLQ. */
  allowRules(sid: string, ruleArns: readonly string[], options: { readonly deadLetter: boolean }): void {
    const conditions = { ArnEquals: { 'aws:SourceArn': ruleArns.length === 1 ? ruleArns[0] : [...ruleArns] } };
    const targets = options.deadLetter ? [this.queue, this.deadLetterQueue] : [this.queue];
    for (const q of targets) {
      q.addToResourcePolicy(
        new iam.PolicyStatement({
          sid,
          principals: [new iam.ServicePrincipal('events.amazonaws.com')],
          actions: ['sqs:SendMessage'],
          resources: [q.queueArn],
          conditions,
        }),
      );
    }
  }
}
