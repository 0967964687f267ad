import { Duration, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AlertSubscriptions, type AlertSubscriptionsProps } from '../../infra/constructs/alert-subscriptions';
import { resourceNames } from '../../shared/names';
import { STANDARD_SUBSCRIPTIONS, type Subscription } from '../../shared/subscriptions';
import { findOne, logicalIdOf, resourcesOfType, synthStage, TEST_ACCOUNT, testStack, toArray } from './helpers';

const stage = synthStage();
const template = stage.template('alerts');
const names = resourceNames('test', TEST_ACCOUNT);
const busId = logicalIdOf(template, 'AWS::Events::EventBus', () => true);
const keyId = logicalIdOf(template, 'AWS::KMS::Key', () => true);
const keyArn = { 'Fn::GetAtt': [keyId, 'Arn'] };

describe('event bus and archive', () => {
  test('the custom bus is named from resourceNames', () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: names.eventBusName });
  });

  test('an archive of every pumpwatch event with the configured retention, for EventBridge replay', () => {
    template.hasResourceProperties('AWS::Events::Archive', {
      ArchiveName: `${names.eventBusName}-archive`,
      SourceArn: { 'Fn::GetAtt': [busId, 'Arn'] },
      EventPattern: { source: ['pumpwatch'] },
      RetentionDays: 30,
    });
  });
});

describe('standard subscriptions', () => {
  const rules = Object.values(resourcesOfType(template, 'AWS::Events::Rule'));

  test('one rule per STANDARD_SUBSCRIPTIONS entry, on the custom bus, with exactly its event pattern', () => {
    expect(rules).toHaveLength(STANDARD_SUBSCRIPTIONS.length);
    for (const s of STANDARD_SUBSCRIPTIONS) {
      const rule = findOne(template, 'AWS::Events::Rule', (p) => p.Name === `pumpwatch-test-${s.name}`).Properties;
      expect(rule.EventPattern).toEqual(s.pattern);
      expect(rule.EventBusName).toEqual({ Ref: busId });
      expect(rule.State).toBe('ENABLED');
      expect(rule.Description).toBe(s.description);
      expect(rule.Targets.map((t: any) => t.Id)).toEqual(s.targets.map((t) => `${t.kind}-${t.id}`));
    }
  });

  test('every target has its own dead-letter queue and the configured retry policy', () => {
    for (const rule of rules) {
      for (const target of rule.Properties.Targets) {
        expect(target.RetryPolicy).toEqual({ MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 24 });
        const dlqId = target.DeadLetterConfig.Arn['Fn::GetAtt'][0];
        expect(template.toJSON().Resources[dlqId].Type).toBe('AWS::SQS::Queue');
      }
    }
  });

  test('topic targets: SNS topics encrypted with the alerts key, publish allowed only to their rules over TLS', () => {
    const topic = findOne(template, 'AWS::SNS::Topic', (p) => p.TopicName === 'pumpwatch-test-alarms');
    expect(topic.Properties.KmsMasterKeyId).toEqual(keyArn);
    const ruleId = logicalIdOf(template, 'AWS::Events::Rule', (p) => p.Name === 'pumpwatch-test-pump-alarms');
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: [
          Match.objectLike({ Effect: 'Deny', Action: 'sns:Publish', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } } },
          }),
        ],
      },
    });
  });

  test('queue targets: SQS encrypted with the alerts key, with a redrive DLQ, TLS-only, sends only from their rule', () => {
    const queue = findOne(template, 'AWS::SQS::Queue', (p) => p.QueueName === 'pumpwatch-test-anomalies');
    const dlqId = logicalIdOf(template, 'AWS::SQS::Queue', (p) => p.QueueName === 'pumpwatch-test-anomalies-dlq');
    expect(queue.Properties).toMatchObject({
      KmsMasterKeyId: keyArn,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 5 },
    });
    const ruleId = logicalIdOf(template, 'AWS::Events::Rule', (p) => p.Name === 'pumpwatch-test-pump-anomalies');
    const queueId = logicalIdOf(template, 'AWS::SQS::Queue', (p) => p.QueueName === 'pumpwatch-test-anomalies');
    for (const id of [queueId, dlqId]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            Match.objectLike({
              Effect: 'Allow',
              Principal: { Service: 'events.amazonaws.com' },
              Action: 'sqs:SendMessage',
              Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } } },
            }),
          ]),
        },
      });
    }
  });

  test('log targets: encrypted log group with retention; a native logs resource policy admits only the rule', () => {
    const logGroupId = logicalIdOf(template, 'AWS::Logs::LogGroup', (p) => p.LogGroupName === '/aws/events/pumpwatch-test-conditions');
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/aws/events/pumpwatch-test-conditions', KmsKeyId: keyArn, RetentionInDays: 30 });
    const policy = findOne(template, 'AWS::Logs::ResourcePolicy', () => true).Properties;
    const parts: unknown[] = policy.PolicyDocument['Fn::Join'][1];
    const ruleId = logicalIdOf(template, 'AWS::Events::Rule', (p) => p.Name === 'pumpwatch-test-pump-condition-log');
    expect(parts).toContainEqual({ 'Fn::GetAtt': [ruleId, 'Arn'] });
    expect(parts).toContainEqual({ 'Fn::GetAtt': [logGroupId, 'Arn'] });
    const text = parts.filter((p) => typeof p === 'string').join('');
    expect(text).toContain('"Action":["logs:CreateLogStream","logs:PutLogEvents"]');
    expect(text).toContain('"Principal":{"Service":"events.amazonaws.com"}');
    // No Lambda-backed custom resource (CDK's log group target would add one).
    template.resourceCountIs('AWS::Lambda::Function', 0);
  });

  test('every queue (targets and DLQs) is KMS-encrypted and TLS-only; DLQs keep messages 14 days', () => {
    const queues = resourcesOfType(template, 'AWS::SQS::Queue');
    expect(Object.keys(queues)).toHaveLength(4);
    for (const [id, q] of Object.entries(queues)) {
      expect(q.Properties.KmsMasterKeyId).toEqual(keyArn);
      if (String(q.Properties.QueueName).endsWith('dlq')) expect(q.Properties.MessageRetentionPeriod).toBe(1_209_600);
      const policies = Object.values(resourcesOfType(template, 'AWS::SQS::QueuePolicy')).filter((p) =>
        toArray(p.Properties.Queues).some((r: any) => r.Ref === id),
      );
      expect(policies).toHaveLength(1);
    }
  });

  test('the alerts key lets EventBridge and CloudWatch Logs use it (exact actions)', () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'EventBridgeDeliversAlerts',
            Principal: { Service: 'events.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
          }),
          Match.objectLike({ Sid: 'CloudWatchLogsEncryptsLogGroups' }),
        ]),
      },
    });
  });
});

describe('AlertSubscriptions construct', () => {
  const key = (stack: Stack) => new kms.Key(stack, 'Key');
  const base = (stack: Stack, subscriptions: readonly Subscription[]): AlertSubscriptionsProps => ({
    bus: new events.EventBus(stack, 'Bus'),
    encryptionKey: key(stack),
    subscriptions,
    namePrefix: 'pumpwatch-x',
    maxEventAge: Duration.hours(2),
    retryAttempts: 5,
    logRetention: logs.RetentionDays.ONE_WEEK,
  });
  const pattern = { source: ['pumpwatch'] };

  test('a target shared by two rules is created once and admits both rules', () => {
    const stack = testStack();
    new AlertSubscriptions(stack, 'Subs', base(stack, [
      { name: 'a', description: 'a', pattern, targets: [{ kind: 'queue', id: 'shared' }, { kind: 'log', id: 'all' }] },
      { name: 'b', description: 'b', pattern: { source: ['pumpwatch'], 'detail-type': ['Pump Enrolled'] }, targets: [{ kind: 'queue', id: 'shared' }] },
    ]));
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::Events::Rule', 2);
    expect(Object.values(resourcesOfType(t, 'AWS::SQS::Queue')).map((q) => q.Properties.QueueName).sort()).toEqual([
      'pumpwatch-x-all-log-dlq',
      'pumpwatch-x-shared',
      'pumpwatch-x-shared-dlq',
    ]);
    const queueId = logicalIdOf(t, 'AWS::SQS::Queue', (p) => p.QueueName === 'pumpwatch-x-shared');
    const ruleIds = ['a', 'b'].map((n) => logicalIdOf(t, 'AWS::Events::Rule', (p) => p.Name === `pumpwatch-x-${n}`));
    t.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Condition: { ArnEquals: { 'aws:SourceArn': ruleIds.map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] })) } } }),
        ]),
      },
    });
    t.hasResourceProperties('AWS::Events::Rule', {
      Name: 'pumpwatch-x-a',
      Targets: Match.arrayWith([Match.objectLike({ RetryPolicy: { MaximumEventAgeInSeconds: 7200, MaximumRetryAttempts: 5 } })]),
    });
  });

  test.each<[string, (s: Stack) => AlertSubscriptionsProps, RegExp]>([
    ['no subscriptions', (s) => base(s, []), /no subscriptions/],
    [
      'duplicate names',
      (s) => base(s, [
        { name: 'a', description: '', pattern, targets: [{ kind: 'topic', id: 't' }] },
        { name: 'a', description: '', pattern, targets: [{ kind: 'topic', id: 't' }] },
      ]),
      /subscription a defined twice/,
    ],
    ['invalid subscription', (s) => base(s, [{ name: 'bad name!', description: '', pattern, targets: [] }]), /subscriptions\[0\]\.name/],
    [
      'rule name too long',
      (s) => ({ ...base(s, [{ name: 'x'.repeat(60), description: '', pattern, targets: [{ kind: 'log', id: 'l' }] }]) }),
      /longer than 64 characters/,
    ],
    [
      'retry attempts',
      (s) => ({ ...base(s, [{ name: 'a', description: '', pattern, targets: [{ kind: 'log', id: 'l' }] }]), retryAttempts: 200 }),
      /retryAttempts must be 0\.\.185/,
    ],
    [
      'event age',
      (s) => ({ ...base(s, [{ name: 'a', description: '', pattern, targets: [{ kind: 'log', id: 'l' }] }]), maxEventAge: Duration.days(2) }),
      /maxEventAge must be 60 s\.\.24 h/,
    ],
  ])('rejects %s', (_name, props, message) => {
    const stack = testStack();
    expect(() => new AlertSubscriptions(stack, 'Subs', props(stack))).toThrow(message);
  });
});
