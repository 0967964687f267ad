import { CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { modelPackageGroupName, pumpModelPackageGroupPrefix } from '../../shared/names';
import { modelEndpointName, modelImageParameterName } from '../config';
import { EncryptionKey, SERVICE_ENCRYPT_ACTIONS } from '../constructs/encryption-key';
import { ModelEndpoint } from '../constructs/model-endpoint';
import { ModelRegistry } from '../constructs/model-registry';
import { logRetention, namePrefix, type PumpwatchStackProps } from './stack-props';

export interface ModelEndpointStackProps extends PumpwatchStackProps {
  /** The key of the data bucket's objects (model artifacts are read from `models/`). */
  readonly dataKey: kms.IKey;
}

/**
 * Owned by data science and deployable on its own (`cdk deploy Pumpwatch-<stage>-Models
 * --exclusively`): the multi-model endpoint, the model package groups and the routing update queue.
 * It reads the data bucket by name, so the pipeline stacks do not need redeploying when it changes.
 */
export class ModelEndpointStack extends Stack {
  readonly endpointName: string;
  readonly endpoint: ModelEndpoint;
  readonly registry: ModelRegistry;
  readonly modelKey: kms.Key;
  readonly routingQueue: sqs.IQueue;
  /** The pump types' model package groups (created here, owned by data science). */
  readonly groupNames: readonly string[];
  /** The prefix of the single pumps' groups (created by the workers' learning phase). */
  readonly pumpGroupPrefix: string;
  /** The model server image URI, for the model packages the workers register. */
  readonly modelImage: ssm.StringParameter;

  constructor(scope: Construct, id: string, props: ModelEndpointStackProps) {
    super(scope, id, props);
    const { config, names } = props;
    const prefix = namePrefix(config);
    this.endpointName = modelEndpointName(config);
    this.groupNames = config.model.pumpTypes.map((t) => modelPackageGroupName(config.stage, t));
    this.pumpGroupPrefix = pumpModelPackageGroupPrefix(config.stage);

    const key = new EncryptionKey(this, 'ModelKey', {
      alias: `${prefix}-models`,
      description: `pumpwatch ${config.stage}: endpoint storage, endpoint logs, routing queue`,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    key.allowService('EventBridgeDeliversRoutingUpdates', 'events.amazonaws.com', SERVICE_ENCRYPT_ACTIONS);
    key.allowCloudWatchLogs();
    this.modelKey = key.key;

    this.endpoint = new ModelEndpoint(this, 'Endpoint', {
      endpointName: this.endpointName,
      bucketName: names.bucketName,
      bucketKey: props.dataKey,
      encryptionKey: this.modelKey,
      instanceType: config.model.instanceType,
      initialInstanceCount: config.model.initialInstanceCount,
      minInstanceCount: config.model.minInstanceCount,
      maxInstanceCount: config.model.maxInstanceCount,
      targetInvocationsPerInstance: config.model.targetInvocationsPerInstance,
      logRetention: logRetention(config),
    });

    this.registry = new ModelRegistry(this, 'Registry', {
      groupNames: this.groupNames,
      groupPrefixes: [this.pumpGroupPrefix],
      routingQueueName: `${prefix}-model-routing`,
      encryptionKey: this.modelKey,
      maxEventAge: Duration.seconds(config.alerts.maxEventAgeSeconds),
      retryAttempts: config.alerts.retryAttempts,
    });
    this.routingQueue = this.registry.routing.queue;

    this.modelImage = new ssm.StringParameter(this, 'ModelImage', {
      parameterName: modelImageParameterName(config.stage),
      description: `pumpwatch ${config.stage}: model server image, recorded in the model packages the workers register`,
      stringValue: this.endpoint.image.imageUri,
      tier: ssm.ParameterTier.STANDARD,
    });

    new CfnOutput(this, 'EndpointName', { value: this.endpointName });
    new CfnOutput(this, 'ModelDataUrl', { value: `s3://${names.bucketName}/models/` });
    new CfnOutput(this, 'ModelPackageGroups', { value: this.groupNames.join(',') });
    new CfnOutput(this, 'RoutingQueueUrl', { value: this.routingQueue.queueUrl });
  }
}
