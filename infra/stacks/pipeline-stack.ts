import { CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { type Config, configToEnv, loadConfig } from '../../shared/config';
import { ENV } from '../../shared/env';
import { modelEndpointName, modelImageParameterName, type StageConfig } from '../config';
import { ConsumerService } from '../constructs/consumer-service';
import { EncryptionKey } from '../constructs/encryption-key';
import { IotIngest } from '../constructs/iot-ingest';
import { Network } from '../constructs/network';
import { WorkerTask } from '../constructs/worker-task';
import { INFRA_ENV } from '../env';
import { IMAGE_ASSET_EXCLUDES, REPO_ROOT } from '../image-assets';
import { logRetention, namePrefix, type PumpwatchStackProps } from './stack-props';

export interface PipelineStackProps extends PumpwatchStackProps {
  readonly stream: kinesis.IStream;
  /** The key of the stream (the IoT rule encrypts records with it). */
  readonly streamKey: kms.IKey;
  /** SageMaker model package state changes, read by the workers to refresh routing. */
  readonly routingQueue: sqs.IQueue;
}

/** Application names (lease groups / log context) of the two task kinds. */
export const APPLICATION_NAMES = { consumer: 'pumpwatch-consumer', replay: 'pumpwatch-replay' } as const;

/**
 * The runtime configuration a task on AWS runs with: names from resourceNames (with the account),
 * the stage's window settings, no endpoint overrides (real AWS), every other knob at loadConfig's
 * default. Built through `loadConfig` itself, and the task environment is `configToEnv` of it, so the
 * environment is exactly what `loadConfig` reads — including knobs added to the schema later.
 */
export function runtimeConfig(config: StageConfig, names: PumpwatchStackProps['names'], applicationName: string): Config {
  return loadConfig(
    { [ENV.stage]: config.stage, [ENV.region]: config.region, [ENV.logLevel]: config.logLevel },
    {
      names: {
        streamName: names.streamName,
        bucketName: names.bucketName,
        eventBusName: names.eventBusName,
        modelEndpointName: modelEndpointName(config),
        tables: { ...names.tables },
      },
      window: { ...config.window },
      applicationName,
      modelRegistry: config.model.registry,
    },
  );
}

/**
 * Pipeline compute: IoT ingest onto the stream, the consumer workers (Fargate service scaled on the
 * stream's iterator age) and the replay job (a task definition run on demand), in their own VPC.
 * The task roles start empty; infra/compose.ts grants them exactly what they use.
 */
export class PipelineStack extends Stack {
  readonly vpc: ec2.Vpc;
  readonly cluster: ecs.Cluster;
  readonly consumer: WorkerTask;
  readonly consumerService: ConsumerService;
  readonly replay: WorkerTask;
  readonly replaySecurityGroup: ec2.SecurityGroup;
  readonly ingest: IotIngest;
  readonly image: ecrAssets.DockerImageAsset;
  private readonly pinnedAvailabilityZones?: readonly string[];

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const { config, names } = props;
    this.pinnedAvailabilityZones = config.network.availabilityZones;
    const prefix = namePrefix(config);
    const retention = logRetention(config);

    const key = new EncryptionKey(this, 'PipelineKey', {
      alias: `${prefix}-pipeline`,
      description: `pumpwatch ${config.stage}: worker, replay, ingest and flow logs`,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    key.allowCloudWatchLogs();

    this.vpc = new Network(this, 'Network', {
      maxAzs: config.network.maxAzs,
      availabilityZones: config.network.availabilityZones,
      natGateways: config.network.natGateways,
      flowLogGroupName: `/pumpwatch/${config.stage}/vpc-flow-logs`,
      logRetention: retention,
      encryptionKey: key.key,
    }).vpc;

    this.ingest = new IotIngest(this, 'Ingest', {
      ruleName: `${prefix}-telemetry`.replace(/-/g, '_'),
      stream: props.stream,
      streamKey: props.streamKey,
      errorLogGroupName: `/pumpwatch/${config.stage}/iot-ingest-errors`,
      logRetention: retention,
      logKey: key.key,
    });

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: this.vpc,
      clusterName: prefix,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    // One image for the worker and the replay job: the repository's root Dockerfile.
    this.image = new ecrAssets.DockerImageAsset(this, 'Image', {
      directory: REPO_ROOT,
      exclude: IMAGE_ASSET_EXCLUDES,
      platform: ecrAssets.Platform.LINUX_AMD64,
    });
    const image = ecs.ContainerImage.fromDockerImageAsset(this.image);
    const extraEnv = { [INFRA_ENV.routingQueueUrl]: props.routingQueue.queueUrl };
    // On the SageMaker registry, versions record the model server image: the model stack's
    // parameter, read by ECS when a task starts (by name: no cross-stack export to pin it).
    const secrets: Record<string, ecs.Secret> =
      config.model.registry === 'sagemaker'
        ? {
            [INFRA_ENV.modelImageUri]: ecs.Secret.fromSsmParameter(
              ssm.StringParameter.fromStringParameterName(this, 'ModelImageParameter', modelImageParameterName(config.stage)),
            ),
          }
        : {};

    this.consumer = new WorkerTask(this, 'Consumer', {
      family: `${prefix}-consumer`,
      containerName: 'consumer',
      image,
      command: ['worker'],
      environment: { ...configToEnv(runtimeConfig(config, names, APPLICATION_NAMES.consumer)), ...extraEnv },
      secrets,
      cpu: config.consumer.cpu,
      memoryMiB: config.consumer.memoryMiB,
      stopTimeout: Duration.seconds(config.consumer.stopTimeoutSeconds),
      logGroupName: `/pumpwatch/${config.stage}/consumer`,
      logRetention: retention,
      logKey: key.key,
    });

    this.consumerService = new ConsumerService(this, 'ConsumerService', {
      cluster: this.cluster,
      serviceName: `${prefix}-consumer`,
      taskDefinition: this.consumer.taskDefinition,
      minCount: config.consumer.minCount,
      maxCount: config.consumer.maxCount,
      iteratorAge: props.stream.metricGetRecordsIteratorAgeMilliseconds({
        statistic: cloudwatch.Stats.MAXIMUM,
        period: Duration.minutes(1),
      }),
      scaleOutIteratorAgeMs: config.consumer.scaleOutIteratorAgeMs,
      scaleInIteratorAgeMs: config.consumer.scaleInIteratorAgeMs,
    });

    // The replay job: `aws ecs run-task` with a command override, e.g.
    // ["replay","start","--from","2025-01-01T00:00:00Z","--to","2025-01-02T00:00:00Z","--source","archive"].
    this.replay = new WorkerTask(this, 'Replay', {
      family: `${prefix}-replay`,
      containerName: 'replay',
      image,
      command: ['replay', 'start'],
      environment: { ...configToEnv(runtimeConfig(config, names, APPLICATION_NAMES.replay)), ...extraEnv },
      secrets,
      cpu: config.replay.cpu,
      memoryMiB: config.replay.memoryMiB,
      stopTimeout: Duration.seconds(120),
      logGroupName: `/pumpwatch/${config.stage}/replay`,
      logRetention: retention,
      logKey: key.key,
    });
    this.replaySecurityGroup = new ec2.SecurityGroup(this, 'ReplaySecurityGroup', {
      vpc: this.vpc,
      description: 'pumpwatch replay tasks: no ingress, HTTPS egress to AWS APIs',
      allowAllOutbound: false,
    });
    this.replaySecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs over TLS');

    new CfnOutput(this, 'ClusterName', { value: this.cluster.clusterName });
    new CfnOutput(this, 'ReplayTaskDefinitionArn', { value: this.replay.taskDefinition.taskDefinitionArn });
    new CfnOutput(this, 'ReplaySecurityGroupId', { value: this.replaySecurityGroup.securityGroupId });
    new CfnOutput(this, 'WorkerSubnetIds', {
      value: this.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds.join(','),
    });
  }

  /** Pinned AZs need no lookup, so a synth for a concrete account works offline. */
  override get availabilityZones(): string[] {
    return this.pinnedAvailabilityZones ? [...this.pinnedAvailabilityZones] : super.availabilityZones;
  }
}
