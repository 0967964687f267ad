import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sagemaker from 'aws-cdk-lib/aws-sagemaker';
import { Construct } from 'constructs';
import { S3_PREFIXES } from '../../shared/names';
import { acknowledgeWildcardResources, grantObjectRead } from '../grants';
import { REPO_ROOT, IMAGE_ASSET_EXCLUDES } from '../image-assets';

export interface ModelEndpointProps {
  readonly endpointName: string;
  /** The data bucket (by name: names are shared by all stacks) and the key of its objects. */
  readonly bucketName: string;
  readonly bucketKey: kms.IKey;
  /** Encrypts the endpoint's ML storage volumes and its log group. */
  readonly encryptionKey: kms.IKey;
  readonly instanceType: string;
  readonly initialInstanceCount: number;
  readonly minInstanceCount: number;
  readonly maxInstanceCount: number;
  /** SageMakerVariantInvocationsPerInstance target (per instance per minute). */
  readonly targetInvocationsPerInstance: number;
  readonly logRetention: logs.RetentionDays;
  /** Model server image; defaults to services/model-server/Dockerfile built from the repository root. */
  readonly image?: ecrAssets.DockerImageAsset;
}

/** The production variant name; the observability stack's SageMaker metrics use it. */
export const VARIANT_NAME = 'AllTraffic';

/**
 * The SageMaker multi-model endpoint: the model server container in MultiModel mode over the
 * `models/` prefix of the data bucket (TargetModel = key relative to that prefix), an endpoint config
 * with KMS-encrypted storage, the endpoint, and autoscaling on invocations per instance.
 */
export class ModelEndpoint extends Construct {
  readonly endpoint: sagemaker.CfnEndpoint;
  readonly endpointName: string;
  readonly executionRole: iam.Role;
  readonly image: ecrAssets.DockerImageAsset;
  readonly scalableTarget: appscaling.ScalableTarget;

  constructor(scope: Construct, id: string, props: ModelEndpointProps) {
    super(scope, id);
    validate(id, props);
    this.endpointName = props.endpointName;
    const stack = Stack.of(this);

    this.image =
      props.image ??
      new ecrAssets.DockerImageAsset(this, 'Image', {
        directory: REPO_ROOT,
        file: path.join('services', 'model-server', 'Dockerfile'),
        exclude: IMAGE_ASSET_EXCLUDES,
        platform: ecrAssets.Platform.LINUX_AMD64,
      });

    // SageMaker writes container logs here; created up front for retention and encryption.
    const logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/sagemaker/Endpoints/${props.endpointName}`,
      retention: props.logRetention,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      description: 'SageMaker model execution: pull the model server image, read models/ artifacts, write logs',
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    });
    this.image.repository.grantPull(this.executionRole);
    const modelObjects = grantObjectRead(this.executionRole, props.bucketName, [S3_PREFIXES.models], props.bucketKey);
    this.executionRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteEndpointLogs',
        actions: ['logs:CreateLogStream', 'logs:DescribeLogStreams', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    acknowledgeWildcardResources(
      this.executionRole,
      modelObjects,
      'A multi-model endpoint loads any TargetModel under its model data prefix on demand; artifacts are versioned keys (pumps/<id>/v<n>/model.tar.gz) created after deployment, so the grant is the models/ prefix (read only).',
    );
    Validations.of(this.executionRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken (added by the image asset grantPull) has no resource-level permissions; image layer actions are scoped to the asset repository.',
    });

    const model = new sagemaker.CfnModel(this, 'Model', {
      executionRoleArn: this.executionRole.roleArn,
      primaryContainer: {
        image: this.image.imageUri,
        mode: 'MultiModel',
        modelDataUrl: `s3://${props.bucketName}/${S3_PREFIXES.models}`,
        multiModelConfig: { modelCacheSetting: 'Enabled' },
      },
    });
    // The role's policy must exist before SageMaker validates image and artifact access.
    model.node.addDependency(this.executionRole);

    const endpointConfig = new sagemaker.CfnEndpointConfig(this, 'EndpointConfig', {
      kmsKeyId: props.encryptionKey.keyArn,
      productionVariants: [
        {
          variantName: VARIANT_NAME,
          modelName: model.attrModelName,
          instanceType: props.instanceType,
          initialInstanceCount: props.initialInstanceCount,
          initialVariantWeight: 1,
        },
      ],
    });

    this.endpoint = new sagemaker.CfnEndpoint(this, 'Endpoint', {
      endpointName: props.endpointName,
      endpointConfigName: endpointConfig.attrEndpointConfigName,
    });
    this.endpoint.node.addDependency(logGroup);

    this.scalableTarget = new appscaling.ScalableTarget(this, 'Scaling', {
      serviceNamespace: appscaling.ServiceNamespace.SAGEMAKER,
      resourceId: `endpoint/${props.endpointName}/variant/${VARIANT_NAME}`,
      scalableDimension: 'sagemaker:variant:DesiredInstanceCount',
      minCapacity: props.minInstanceCount,
      maxCapacity: props.maxInstanceCount,
      // Application Auto Scaling's service-linked role for SageMaker (created by AWS on first use).
      role: iam.Role.fromRoleArn(
        this,
        'ScalingRole',
        stack.formatArn({
          service: 'iam',
          region: '',
          resource: 'role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com',
          resourceName: 'AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint',
        }),
      ),
    });
    this.scalableTarget.node.addDependency(this.endpoint);
    this.scalableTarget.scaleToTrackMetric('InvocationsPerInstance', {
      predefinedMetric: appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
      targetValue: props.targetInvocationsPerInstance,
      scaleInCooldown: Duration.minutes(5),
      scaleOutCooldown: Duration.minutes(1),
    });
  }
}

function validate(id: string, props: ModelEndpointProps): void {
  if (!Token.isUnresolved(props.endpointName) && !/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/.test(props.endpointName)) {
    throw new Error(`ModelEndpoint ${id}: invalid endpoint name ${JSON.stringify(props.endpointName)}`);
  }
  if (!Token.isUnresolved(props.instanceType) && !/^ml\.[a-z0-9]+\.[a-z0-9]+$/.test(props.instanceType)) {
    throw new Error(`ModelEndpoint ${id}: invalid instance type ${JSON.stringify(props.instanceType)}`);
  }
  const counts = [props.initialInstanceCount, props.minInstanceCount, props.maxInstanceCount, props.targetInvocationsPerInstance];
  if (counts.some((c) => !Token.isUnresolved(c) && (!Number.isInteger(c) || c < 1))) {
    throw new Error(`ModelEndpoint ${id}: instance counts and target must be positive integers`);
  }
  if (props.maxInstanceCount < props.minInstanceCount) {
    throw new Error(`ModelEndpoint ${id}: maxInstanceCount must be >= minInstanceCount`);
  }
  if (props.initialInstanceCount < props.minInstanceCount || props.initialInstanceCount > props.maxInstanceCount) {
    throw new Error(`ModelEndpoint ${id}: initialInstanceCount must be between min and max`);
  }
}
