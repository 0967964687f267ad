import { Duration, RemovalPolicy, Token, Validations } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface TelemetryStreamProps {
  readonly streamName: string;
  readonly mode: 'on-demand' | 'provisioned';
  /** Required for `provisioned`, not allowed for `on-demand`. */
  readonly shardCount?: number;
  readonly retentionHours: number;
  readonly encryptionKey: kms.IKey;
}

/**
 * The telemetry stream (partition key = pumpId), encrypted with a customer managed key and retained.
 * Validates its props unless they are tokens.
 */
export class TelemetryStream extends Construct {
  readonly stream: kinesis.Stream;

  constructor(scope: Construct, id: string, props: TelemetryStreamProps) {
    super(scope, id);
    if (!Token.isUnresolved(props.streamName) && !/^[a-zA-Z0-9_.-]{1,128}$/.test(props.streamName)) {
      throw new Error(`TelemetryStream ${id}: invalid stream name ${JSON.stringify(props.streamName)}`);
    }
    if (!Token.isUnresolved(props.retentionHours) && (props.retentionHours < 24 || props.retentionHours > 8760)) {
      throw new Error(`TelemetryStream ${id}: retentionHours must be 24..8760, got ${props.retentionHours}`);
    }
    if (props.mode === 'provisioned') {
      if (props.shardCount === undefined) throw new Error(`TelemetryStream ${id}: shardCount is required in provisioned mode`);
      if (!Token.isUnresolved(props.shardCount) && (!Number.isInteger(props.shardCount) || props.shardCount < 1)) {
        throw new Error(`TelemetryStream ${id}: shardCount must be a positive integer, got ${props.shardCount}`);
      }
    } else if (props.shardCount !== undefined) {
      throw new Error(`TelemetryStream ${id}: shardCount is only allowed in provisioned mode`);
    }
    this.stream = new kinesis.Stream(this, 'Stream', {
      streamName: props.streamName,
      streamMode: props.mode === 'provisioned' ? kinesis.StreamMode.PROVISIONED : kinesis.StreamMode.ON_DEMAND,
      shardCount: props.mode === 'provisioned' ? props.shardCount : undefined,
      retentionPeriod: Duration.hours(props.retentionHours),
      encryption: kinesis.StreamEncryption.KMS,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.stream).acknowledge({
      id: 'AwsSolutions-KDS3',
      reason:
        'A customer managed key is deliberate: its key policy and the exact kms grants of the consumer, IoT and Firehose roles control who can read telemetry, and its use is auditable per principal; the aws/kinesis key cannot be scoped.',
    });
  }
}
