import { Duration, Token } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';

export interface ConsumerServiceProps {
  readonly cluster: ecs.ICluster;
  readonly serviceName: string;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly minCount: number;
  readonly maxCount: number;
  /** The stream's GetRecords.IteratorAgeMilliseconds (Maximum, 1 minute). */
  readonly iteratorAge: cloudwatch.IMetric;
  /** Above this the workers are behind: add tasks. */
  readonly scaleOutIteratorAgeMs: number;
  /** Below this the workers are at the tip: remove a task. */
  readonly scaleInIteratorAgeMs: number;
}

/**
 * The consumer workers as a Fargate service in private subnets (no ingress), with deployment
 * circuit breaker and rollback, scaled between min and max on the stream's iterator age (step
 * scaling: +1 when behind, +2 when far behind, -1 at the tip). Workers balance shard leases among
 * themselves, so a new task takes leases and an old one hands them over on SIGTERM.
 */
export class ConsumerService extends Construct {
  readonly service: ecs.FargateService;
  readonly securityGroup: ec2.SecurityGroup;
  readonly scaling: ecs.ScalableTaskCount;

  constructor(scope: Construct, id: string, props: ConsumerServiceProps) {
    super(scope, id);
    const numbers = [props.minCount, props.maxCount, props.scaleInIteratorAgeMs, props.scaleOutIteratorAgeMs];
    if (numbers.every((n) => !Token.isUnresolved(n))) {
      if (!Number.isInteger(props.minCount) || props.minCount < 1) throw new Error(`ConsumerService ${id}: minCount must be >= 1`);
      if (props.maxCount < props.minCount) throw new Error(`ConsumerService ${id}: maxCount must be >= minCount`);
      if (props.scaleInIteratorAgeMs >= props.scaleOutIteratorAgeMs) {
        throw new Error(`ConsumerService ${id}: scaleInIteratorAgeMs must be below scaleOutIteratorAgeMs`);
      }
    }
    if (!Token.isUnresolved(props.serviceName) && !/^[a-zA-Z0-9_-]{1,255}$/.test(props.serviceName)) {
      throw new Error(`ConsumerService ${id}: invalid service name ${JSON.stringify(props.serviceName)}`);
    }

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.cluster.vpc,
      description: 'pumpwatch consumer workers: no ingress, HTTPS egress to AWS APIs',
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'AWS APIs over TLS (via NAT or gateway endpoints)');

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: props.cluster,
      serviceName: props.serviceName,
      taskDefinition: props.taskDefinition,
      // No desiredCount: CloudFormation would reset the task count to it on every deployment,
      // undoing autoscaling. A new service starts with one task and scaling lifts it to minCount.
      // Start the new task before stopping the old one: leases move, they are never all dropped.
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      securityGroups: [this.securityGroup],
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      assignPublicIp: false,
      platformVersion: ecs.FargatePlatformVersion.LATEST,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
      enableECSManagedTags: true,
    });

    this.scaling = this.service.autoScaleTaskCount({ minCapacity: props.minCount, maxCapacity: props.maxCount });
    this.scaling.scaleOnMetric('IteratorAge', {
      metric: props.iteratorAge,
      adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
      scalingSteps: [
        { upper: props.scaleInIteratorAgeMs, change: -1 },
        { lower: props.scaleOutIteratorAgeMs, change: +1 },
        { lower: props.scaleOutIteratorAgeMs * 5, change: +2 },
      ],
      cooldown: Duration.minutes(3),
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      metricAggregationType: appscaling.MetricAggregationType.MAXIMUM,
    });
  }
}
