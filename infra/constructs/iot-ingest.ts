import { RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as iot from 'aws-cdk-lib/aws-iot';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface IotIngestProps {
  /** IoT rule names allow [a-zA-Z0-9_] only. */
  readonly ruleName: string;
  readonly stream: kinesis.IStream;
  readonly streamKey: kms.IKey;
  readonly errorLogGroupName: string;
  readonly logRetention: logs.RetentionDays;
  readonly logKey: kms.IKey;
}

/** The MQTT topic filter devices publish telemetry to: `pumpwatch/<pumpId>/telemetry`. */
export const TELEMETRY_TOPIC_FILTER = 'pumpwatch/+/telemetry';

/**
 * The topic rule's SQL: the message as sent, with `pumpId` taken from the topic. The topic is what
 * the device's IoT policy authorises (one thing, one topic), so a device cannot write another pump's
 * telemetry by putting its id in the payload.
 */
export const TELEMETRY_RULE_SQL = `SELECT *, topic(2) AS pumpId FROM '${TELEMETRY_TOPIC_FILTER}'`;

/** Kinesis partition key: the pump id from the topic, the same key producers use (DESIGN.md §2). */
export const TELEMETRY_PARTITION_KEY = '${topic(2)}';

/**
 * Ingest for connected pumps: an AWS IoT Core topic rule that puts each device message on the
 * telemetry stream (partition key = pump id), errors to a CloudWatch Logs group, and a role that can
 * only put records on that stream (encrypting with its key) and write that log group.
 */
export class IotIngest extends Construct {
  readonly rule: iot.CfnTopicRule;
  readonly role: iam.Role;
  readonly errorLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: IotIngestProps) {
    super(scope, id);
    if (!Token.isUnresolved(props.ruleName) && !/^[a-zA-Z0-9_]{1,128}$/.test(props.ruleName)) {
      throw new Error(`IotIngest ${id}: invalid IoT rule name ${JSON.stringify(props.ruleName)} (letters, digits, _)`);
    }
    const stack = Stack.of(this);
    const ruleArn = stack.formatArn({ service: 'iot', resource: 'rule', resourceName: props.ruleName });

    this.errorLogGroup = new logs.LogGroup(this, 'Errors', {
      logGroupName: props.errorLogGroupName,
      retention: props.logRetention,
      encryptionKey: props.logKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.role = new iam.Role(this, 'Role', {
      description: 'IoT telemetry rule: put records on the telemetry stream, log errors',
      assumedBy: new iam.ServicePrincipal('iot.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnEquals: { 'aws:SourceArn': ruleArn },
        },
      }),
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'PutTelemetry', actions: ['kinesis:PutRecord'], resources: [props.stream.streamArn] }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'EncryptTelemetry', actions: ['kms:GenerateDataKey'], resources: [props.streamKey.keyArn] }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'LogRuleErrors',
        actions: ['logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
        resources: [this.errorLogGroup.logGroupArn],
      }),
    );

    this.rule = new iot.CfnTopicRule(this, 'Rule', {
      ruleName: props.ruleName,
      topicRulePayload: {
        description: 'Device telemetry → Kinesis (partition key = pump id from the topic)',
        sql: TELEMETRY_RULE_SQL,
        awsIotSqlVersion: '2016-03-23',
        ruleDisabled: false,
        actions: [
          {
            kinesis: {
              streamName: props.stream.streamName,
              partitionKey: TELEMETRY_PARTITION_KEY,
              roleArn: this.role.roleArn,
            },
          },
        ],
        errorAction: {
          cloudwatchLogs: { logGroupName: this.errorLogGroup.logGroupName, roleArn: this.role.roleArn },
        },
      },
    });
    // IoT checks that it can assume the role when the rule is created.
    this.rule.node.addDependency(this.role);
  }
}
