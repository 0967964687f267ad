import { Aws, type Environment } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { resourceNames, S3_PREFIXES } from '../shared/names';
import { TABLE_SCHEMAS, type TableId } from '../shared/tables';
import type { StageConfig } from './config';
import { VARIANT_NAME } from './constructs/model-endpoint';
import {
  acknowledgeWildcardResources,
  grantInvokeEndpoint,
  grantModelRegistryRead,
  grantModelRegistryWrite,
  grantObjectRead,
  grantObjectWrite,
  grantPutEvents,
  grantQueueConsume,
  grantStreamRead,
  grantTables,
  type TableAccess,
} from './grants';
import { AlertsStack } from './stacks/alerts-stack';
import { ModelEndpointStack } from './stacks/model-endpoint-stack';
import { ObservabilityStack } from './stacks/observability-stack';
import { PipelineStack } from './stacks/pipeline-stack';
import { StatefulDataStack } from './stacks/stateful-data-stack';

/** The stacks of one stage. */
export interface PumpwatchStacks {
  readonly data: StatefulDataStack;
  readonly alerts: AlertsStack;
  readonly models: ModelEndpointStack;
  readonly pipeline: PipelineStack;
  readonly observability: ObservabilityStack;
}

/** Stack ids (and CloudFormation stack names) of a stage. */
export function stackIds(stage: string) {
  const p = `Pumpwatch-${stage}`;
  return {
    data: `${p}-Data`,
    alerts: `${p}-Alerts`,
    models: `${p}-Models`,
    pipeline: `${p}-Pipeline`,
    observability: `${p}-Observability`,
  } as const;
}

/**
 * Builds the stacks of one stage and wires them: resources pass between stacks as props, and the
 * grants between them are made here, where the pieces meet.
 */
export function composeApp(scope: Construct, config: StageConfig): PumpwatchStacks {
  // Without an account the stacks are environment-agnostic and the bucket name uses AWS::AccountId.
  const names = resourceNames(config.stage, config.account ?? Aws.ACCOUNT_ID);
  const env: Environment = { account: config.account, region: config.region };
  const ids = stackIds(config.stage);
  const common = { env, config, names };

  const data = new StatefulDataStack(scope, ids.data, {
    ...common,
    description: `pumpwatch ${config.stage}: stream, tables, data bucket, raw archive (stateful)`,
  });
  const alerts = new AlertsStack(scope, ids.alerts, {
    ...common,
    description: `pumpwatch ${config.stage}: event bus, archive, alert subscriptions`,
  });
  const models = new ModelEndpointStack(scope, ids.models, {
    ...common,
    description: `pumpwatch ${config.stage}: SageMaker multi-model endpoint, model registry, routing updates (data science)`,
    dataKey: data.dataKey,
  });
  const pipeline = new PipelineStack(scope, ids.pipeline, {
    ...common,
    description: `pumpwatch ${config.stage}: IoT ingest, consumer workers, replay job`,
    stream: data.stream,
    streamKey: data.dataKey,
    routingQueue: models.routingQueue,
  });

  wireConsumerGrants({ data, alerts, models, pipeline }, names.bucketName, config.model.registry);
  wireReplayGrants({ data, alerts, models, pipeline }, names.bucketName, config.model.registry);

  const observability = new ObservabilityStack(scope, ids.observability, {
    ...common,
    description: `pumpwatch ${config.stage}: alarms, dashboard, ops topic`,
    resources: {
      streamName: names.streamName,
      deliveryStreamName: data.deliveryStreamName,
      clusterName: pipeline.cluster.clusterName,
      serviceName: pipeline.consumerService.service.serviceName,
      endpointName: models.endpointName,
      variantName: VARIANT_NAME,
      deadLetterQueues: new Map([
        ...alerts.deadLetterQueues,
        ['model-routing', models.registry.routing.deadLetterQueue],
      ]),
    },
  });

  return { data, alerts, models, pipeline, observability };
}

/** Why read access to an object prefix cannot name objects, per prefix. */
const OBJECT_PREFIX_REASONS: Readonly<Record<string, string>> = {
  [S3_PREFIXES.models]:
    'Model artifacts are versioned keys (pumps/<id>/v<n>/model.tar.gz) written by training after deployment; the task reads their feature specs, so read-only access to the models/ prefix is the narrowest grant.',
  [S3_PREFIXES.archive]:
    'Raw archive objects are named by Firehose at delivery time under raw/year=/month=/day=/hour=/; the replay job lists and reads them, so read-only access to the raw/ prefix is the narrowest grant.',
};

/** Grants object reads under prefixes and acknowledges each prefix's wildcard with its own reason. */
function grantPrefixes(role: iam.IRole, bucketName: string, prefixes: readonly string[], key: kms.IKey): void {
  const arns = grantObjectRead(role, bucketName, prefixes, key);
  prefixes.forEach((prefix, i) => acknowledgeWildcardResources(role, [arns[i]!], OBJECT_PREFIX_REASONS[prefix]!));
}
const MODEL_VERSION_REASON =
  'Model package versions (<group>/<n>) are created by data scientists after deployment; describe-only access to the versions of the pumpwatch groups.';
const PUMP_GROUP_READ_REASON =
  'Each pump with its own baseline gets a model package group (pumpwatch-<stage>-pump-<slug>-<hash>), created by the learning phase at run time; describe/list access to those groups and their versions only.';
const PUMP_GROUP_WRITE_REASON =
  'The learning phase creates a pump\'s model package group on its first baseline and registers versions in it; create/update access is limited to the pumpwatch-<stage>-pump- groups (the pump types\' groups stay read-only).';
const MODEL_ARTIFACT_WRITE_REASON =
  'Baseline artifacts are new versioned keys (models/pumps/<id>/v<n>/model.tar.gz, never overwritten) written by the learning phase; PutObject is limited to the models/pumps/ prefix.';

/** The registry's groups a task reads: the pump types' and, on the SageMaker registry, the pumps'. */
function grantRegistryRead(role: iam.IRole, models: ModelEndpointStack, registry: StageConfig['model']['registry']): void {
  if (registry !== 'sagemaker') return;
  const granted = grantModelRegistryRead(role, [...models.groupNames, models.pumpGroupPrefix]);
  const pumpGroups = granted.filter((arn) => arn.includes(models.pumpGroupPrefix));
  acknowledgeWildcardResources(role, granted.filter((arn) => !pumpGroups.includes(arn)), MODEL_VERSION_REASON);
  acknowledgeWildcardResources(role, pumpGroups, PUMP_GROUP_READ_REASON);
}

function tableAccess(stacks: Pick<PumpwatchStacks, 'data'>, access: (key: TableId) => TableAccess['access'] | undefined): TableAccess[] {
  return (Object.keys(TABLE_SCHEMAS) as TableId[]).flatMap((key) => {
    const a = access(key);
    if (a === undefined) return [];
    return [{ table: stacks.data.tables[key], access: a, indexes: TABLE_SCHEMAS[key].indexes.map((i) => i.indexName) }];
  });
}

/**
 * The consumer worker: reads the stream, owns leases and writes windows, state, events (outbox),
 * quarantine; reads pumps and models and updates routing; publishes events; scores on the endpoint;
 * reads model metadata under models/ and the registry; consumes routing updates.
 */
function wireConsumerGrants(stacks: Omit<PumpwatchStacks, 'observability'>, bucketName: string, registry: StageConfig['model']['registry']): void {
  const { data, alerts, models, pipeline } = stacks;
  const role = pipeline.consumer.taskRole;
  grantStreamRead(role, data.stream, data.dataKey);
  grantTables(role, tableAccess(stacks, () => 'readWrite'), data.dataKey);
  grantPutEvents(role, alerts.bus);
  grantInvokeEndpoint(role, models.endpointName);
  grantQueueConsume(role, models.routingQueue, models.modelKey);
  grantPrefixes(role, bucketName, [S3_PREFIXES.models], data.dataKey);
  // The learning phase: a pump's baseline artifact, then its version in the registry.
  acknowledgeWildcardResources(role, [grantObjectWrite(role, bucketName, PUMP_ARTIFACT_PREFIX, data.dataKey)], MODEL_ARTIFACT_WRITE_REASON);
  grantRegistryRead(role, models, registry);
  if (registry === 'sagemaker') acknowledgeWildcardResources(role, grantModelRegistryWrite(role, models.pumpGroupPrefix), PUMP_GROUP_WRITE_REASON);
}

/** Where the learning phase writes pump baselines (modelTarget's `pumps/…` under the models prefix). */
const PUMP_ARTIFACT_PREFIX = `${S3_PREFIXES.models}pumps/`;

/**
 * The replay job: the same decode ▸ window ▸ score ▸ sink path as the worker, reading Kinesis
 * (AT_TIMESTAMP) or the raw archive; it never touches the live lease table and only reads the pump
 * and model registries.
 */
function wireReplayGrants(stacks: Omit<PumpwatchStacks, 'observability'>, bucketName: string, registry: StageConfig['model']['registry']): void {
  const { data, alerts, models, pipeline } = stacks;
  const role = pipeline.replay.taskRole;
  const readOnly = new Set<TableId>(['pumps', 'models']);
  grantStreamRead(role, data.stream, data.dataKey);
  grantTables(role, tableAccess(stacks, (key) => (key === 'leases' ? undefined : readOnly.has(key) ? 'read' : 'readWrite')), data.dataKey);
  grantPutEvents(role, alerts.bus);
  grantInvokeEndpoint(role, models.endpointName);
  grantPrefixes(role, bucketName, [S3_PREFIXES.archive, S3_PREFIXES.models], data.dataKey);
  grantRegistryRead(role, models, registry);
}
