import { RemovalPolicy, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface NetworkProps {
  readonly maxAzs: number;
  /** Pinned AZs (no lookup); otherwise up to maxAzs of the region. */
  readonly availabilityZones?: readonly string[];
  readonly natGateways: number;
  readonly flowLogGroupName: string;
  readonly logRetention: logs.RetentionDays;
  readonly encryptionKey: kms.IKey;
}

/**
 * The VPC of the workers: private subnets with NAT egress (the AWS APIs the workers call), gateway
 * endpoints for S3 and DynamoDB (the heaviest traffic stays off the NAT), flow logs of all traffic.
 * Nothing listens: the workers' security group has no ingress.
 */
export class Network extends Construct {
  readonly vpc: ec2.Vpc;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const azCount = props.availabilityZones?.length ?? props.maxAzs;
    if (!Token.isUnresolved(props.natGateways) && (props.natGateways < 1 || props.natGateways > azCount)) {
      throw new Error(`Network ${id}: natGateways must be 1..${azCount} (one per availability zone at most)`);
    }
    const flowLogs = new logs.LogGroup(this, 'FlowLogs', {
      logGroupName: props.flowLogGroupName,
      retention: props.logRetention,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.60.0.0/16'),
      ...(props.availabilityZones ? { availabilityZones: [...props.availabilityZones] } : { maxAzs: props.maxAzs }),
      natGateways: props.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'workers', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
      ],
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
        DynamoDB: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
      },
      flowLogs: {
        All: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs), trafficType: ec2.FlowLogTrafficType.ALL },
      },
      // No workload uses the default security group (tasks get their own); restricting it would add
      // a Lambda-backed custom resource to the stack for no reachable benefit.
      restrictDefaultSecurityGroup: false,
    });
  }
}
