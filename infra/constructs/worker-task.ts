import { Aws, RemovalPolicy, Size, Stack, Token, Validations, type Duration } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { isFargateSize } from '../config';

export interface WorkerTaskProps {
  readonly family: string;
  readonly containerName: string;
  readonly image: ecs.ContainerImage;
  /** Arguments to the image's entrypoint (`node bin/pumpwatch.js`). */
  readonly command: readonly string[];
  /** The runtime environment (configToEnv output plus infra extras). */
  readonly environment: Readonly<Record<string, string>>;
  /**
   * Variables ECS reads at task start (from SSM parameters): deploy-time values owned by another
   * stack, such as the model server image. The execution role gets read access to each.
   */
  readonly secrets?: Readonly<Record<string, ecs.Secret>>;
  readonly cpu: number;
  readonly memoryMiB: number;
  /** Time between SIGTERM and SIGKILL: the worker drains and checkpoints in it. */
  readonly stopTimeout: Duration;
  readonly logGroupName: string;
  readonly logRetention: logs.RetentionDays;
  readonly logKey: kms.IKey;
}

/**
 * A Fargate task definition for one pumpwatch command (the worker, the replay job): its own task role
 * (no permissions until grants are wired where the stacks are composed), an encrypted log group with
 * retention, an init process so SIGTERM reaches node, and the runtime environment.
 */
export class WorkerTask extends Construct {
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly container: ecs.ContainerDefinition;
  readonly taskRole: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: WorkerTaskProps) {
    super(scope, id);
    if (!Token.isUnresolved(props.family) && !/^[a-zA-Z0-9_-]{1,255}$/.test(props.family)) {
      throw new Error(`WorkerTask ${id}: invalid family ${JSON.stringify(props.family)}`);
    }
    if (!Token.isUnresolved(props.cpu) && !Token.isUnresolved(props.memoryMiB) && !isFargateSize(props.cpu, props.memoryMiB)) {
      throw new Error(`WorkerTask ${id}: ${props.cpu} CPU units with ${props.memoryMiB} MiB is not a Fargate task size`);
    }
    const stopSeconds = props.stopTimeout.toSeconds();
    if (stopSeconds < 2 || stopSeconds > 120) throw new Error(`WorkerTask ${id}: stopTimeout must be 2..120 s on Fargate`);
    for (const [k, v] of Object.entries(props.environment)) {
      if (!/^[A-Z_][A-Z0-9_]*$/.test(k)) throw new Error(`WorkerTask ${id}: invalid environment variable name ${k}`);
      if (typeof v !== 'string') throw new Error(`WorkerTask ${id}: environment ${k} is not a string`);
    }
    for (const k of Object.keys(props.secrets ?? {})) {
      if (!/^[A-Z_][A-Z0-9_]*$/.test(k)) throw new Error(`WorkerTask ${id}: invalid environment variable name ${k}`);
      if (k in props.environment) throw new Error(`WorkerTask ${id}: ${k} is both a plain and a parameter variable`);
    }
    const stack = Stack.of(this);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: props.logGroupName,
      retention: props.logRetention,
      encryptionKey: props.logKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.taskRole = new iam.Role(this, 'TaskRole', {
      description: `pumpwatch ${props.family}: exact actions on exact resources (granted in infra/compose.ts)`,
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com', {
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:ecs:${Aws.REGION}:${Aws.ACCOUNT_ID}:*` },
        },
      }),
    });

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      family: props.family,
      cpu: props.cpu,
      memoryLimitMiB: props.memoryMiB,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.X86_64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
      taskRole: this.taskRole,
    });
    this.container = this.taskDefinition.addContainer(props.containerName, {
      image: props.image,
      command: [...props.command],
      environment: { ...props.environment },
      ...(props.secrets && Object.keys(props.secrets).length > 0 ? { secrets: { ...props.secrets } } : {}),
      essential: true,
      stopTimeout: props.stopTimeout,
      linuxParameters: new ecs.LinuxParameters(this, 'Linux', { initProcessEnabled: true }),
      logging: ecs.LogDrivers.awsLogs({
        logGroup: this.logGroup,
        streamPrefix: props.containerName,
        // Never block the worker on log delivery (a stalled stdout would stall lease renewal).
        mode: ecs.AwsLogDriverMode.NON_BLOCKING,
        maxBufferSize: Size.mebibytes(25),
      }),
    });

    Validations.of(this.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'The environment holds only non-secret resource names and tuning values produced by configToEnv (shared/config.ts), the same variables the local stack writes; credentials come from the task role. The only value read from SSM at start is the model server image URI, which is not secret either.',
    });
    const executionRole = this.taskDefinition.obtainExecutionRole();
    Validations.of(executionRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken (image pull from the CDK asset repository) has no resource-level permissions; the layer actions are scoped to the repository.',
    });
  }
}
