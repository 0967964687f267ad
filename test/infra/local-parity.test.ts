import { ensureResources, type ResourceClients } from '../../services/local/resources';
import { loadConfig } from '../../shared/config';
import { resourceNames } from '../../shared/names';
import { STANDARD_SUBSCRIPTIONS } from '../../shared/subscriptions';
import { TABLE_SCHEMAS, type TableId } from '../../shared/tables';
import { findOne, resourcesOfType, synthStage, TEST_ACCOUNT } from './helpers';

/**
 * The local stack and the CDK app must create the same things under the same names. The CDK app is
 * synthesized for stage `local`; the local stack's own resource creation (services/local) runs
 * against recording fake clients; both are compared field by field.
 */

interface Recorded {
  readonly command: string;
  readonly input: Record<string, any>;
}

function recordingClients(): { clients: ResourceClients; calls: Recorded[] } {
  const calls: Recorded[] = [];
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, any> }) => {
      calls.push({ command: command.constructor.name, input: command.input });
      switch (command.constructor.name) {
        case 'DescribeTableCommand':
          return { Table: { TableStatus: 'ACTIVE' } };
        case 'DescribeStreamSummaryCommand':
          return { StreamDescriptionSummary: { StreamStatus: 'ACTIVE' } };
        default:
          return {};
      }
    },
  };
  return { clients: { kinesis: client, dynamodb: client, s3: client, eventBridge: client } as unknown as ResourceClients, calls };
}

const stage = synthStage({ stage: 'local' });
const data = stage.template('data');
const alerts = stage.template('alerts');
const localConfig = loadConfig({}); // what the local stack runs with: stage `local`, default names
let calls: Recorded[];

beforeAll(async () => {
  const recording = recordingClients();
  await ensureResources(recording.clients, localConfig);
  calls = recording.calls;
});

const created = (command: string) => calls.filter((c) => c.command === command).map((c) => c.input);
const normaliseAttrs = (defs: { AttributeName: string; AttributeType: string }[]) =>
  Object.fromEntries(defs.map((d) => [d.AttributeName, d.AttributeType]));
const normaliseIndexes = (indexes: any[] | undefined) =>
  (indexes ?? [])
    .map((i) => ({ IndexName: i.IndexName, KeySchema: i.KeySchema, Projection: i.Projection }))
    .sort((a, b) => a.IndexName.localeCompare(b.IndexName));

describe('local stack ⇄ CDK (stage local)', () => {
  test('both use resourceNames: the local names are the CDK names (the bucket adds the account on AWS)', () => {
    const local = resourceNames('local');
    expect(localConfig.names).toEqual(local);
    const aws = resourceNames('local', TEST_ACCOUNT);
    expect(aws).toEqual({ ...local, bucketName: `${local.bucketName}-${TEST_ACCOUNT}` });
    data.hasResourceProperties('AWS::Kinesis::Stream', { Name: local.streamName });
    data.hasResourceProperties('AWS::S3::Bucket', { BucketName: aws.bucketName });
    alerts.hasResourceProperties('AWS::Events::EventBus', { Name: local.eventBusName });
    stage.template('models').hasResourceProperties('AWS::SageMaker::Endpoint', { EndpointName: local.modelEndpointName });
    const cdkTables = Object.values(resourcesOfType(data, 'AWS::DynamoDB::Table')).map((t) => t.Properties.TableName).sort();
    expect(cdkTables).toEqual(Object.values(local.tables).sort());
  });

  test('the local stack creates the same stream, bucket and bus', () => {
    expect(created('CreateStreamCommand').map((i) => i.StreamName)).toEqual([localConfig.names.streamName]);
    expect(created('CreateBucketCommand').map((i) => i.Bucket)).toEqual([localConfig.names.bucketName]);
    expect(created('CreateEventBusCommand').map((i) => i.Name)).toEqual([localConfig.names.eventBusName]);
  });

  test.each(Object.keys(TABLE_SCHEMAS) as TableId[])('table %s: same name, keys, attributes and indexes locally and in CDK', (id) => {
    const name = resourceNames('local').tables[id];
    const local = created('CreateTableCommand').find((i) => i.TableName === name);
    expect(local).toBeDefined();
    const cdk = findOne(data, 'AWS::DynamoDB::Table', (p) => p.TableName === name).Properties;
    expect(cdk.KeySchema).toEqual(local!.KeySchema);
    expect(normaliseAttrs(cdk.AttributeDefinitions)).toEqual(normaliseAttrs(local!.AttributeDefinitions));
    expect(normaliseIndexes(cdk.GlobalSecondaryIndexes)).toEqual(normaliseIndexes(local!.GlobalSecondaryIndexes));
    expect(cdk.BillingMode).toBe(local!.BillingMode);
  });

  test('every table the CDK app creates is created locally, and nothing else', () => {
    expect(created('CreateTableCommand').map((i) => i.TableName).sort()).toEqual(Object.values(resourceNames('local').tables).sort());
  });

  test('the subscription rules are STANDARD_SUBSCRIPTIONS, the list the local bus routes with', () => {
    const rules = Object.values(resourcesOfType(alerts, 'AWS::Events::Rule')).map((r) => r.Properties);
    expect(rules.map((r) => r.Name).sort()).toEqual(STANDARD_SUBSCRIPTIONS.map((s) => `pumpwatch-local-${s.name}`).sort());
    for (const s of STANDARD_SUBSCRIPTIONS) {
      const rule = rules.find((r) => r.Name === `pumpwatch-local-${s.name}`)!;
      expect(rule.EventPattern).toEqual(s.pattern);
      expect(rule.Targets.map((t: any) => t.Id)).toEqual(s.targets.map((t) => `${t.kind}-${t.id}`));
    }
  });
});
