import { Aws, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ARCHIVE_ERROR_PREFIX_EXPRESSION, ARCHIVE_PREFIX_EXPRESSION } from '../archive-layout';
import { acknowledgeWildcardResources } from '../grants';

export interface RawArchiveProps {
  readonly deliveryStreamName: string;
  readonly stream: kinesis.IStream;
  readonly bucket: s3.IBucket;
  /** The key of the stream, the bucket and the error log group. */
  readonly encryptionKey: kms.IKey;
  readonly bufferIntervalSeconds: number;
  readonly bufferSizeMiB: number;
  readonly logRetention: logs.RetentionDays;
}

/**
 * Kinesis → Firehose → S3 raw archive in the layout of infra/archive-layout.ts (time-partitioned
 * under `raw/`, GZIP, one record per line), with its own least-privilege role and an error log.
 */
export class RawArchive extends Construct {
  readonly deliveryStream: firehose.CfnDeliveryStream;
  readonly role: iam.Role;
  readonly errorLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: RawArchiveProps) {
    super(scope, id);
    if (!Token.isUnresolved(props.deliveryStreamName) && !/^[a-zA-Z0-9_.-]{1,64}$/.test(props.deliveryStreamName)) {
      throw new Error(`RawArchive ${id}: invalid delivery stream name ${JSON.stringify(props.deliveryStreamName)}`);
    }
    if (!Token.isUnresolved(props.bufferIntervalSeconds) && (props.bufferIntervalSeconds < 0 || props.bufferIntervalSeconds > 900)) {
      throw new Error(`RawArchive ${id}: bufferIntervalSeconds must be 0..900`);
    }
    if (!Token.isUnresolved(props.bufferSizeMiB) && (props.bufferSizeMiB < 1 || props.bufferSizeMiB > 128)) {
      throw new Error(`RawArchive ${id}: bufferSizeMiB must be 1..128`);
    }

    this.errorLogGroup = new logs.LogGroup(this, 'ErrorLogs', {
      logGroupName: `/aws/kinesisfirehose/${props.deliveryStreamName}`,
      retention: props.logRetention,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const errorLogStream = new logs.LogStream(this, 'ErrorLogStream', {
      logGroup: this.errorLogGroup,
      logStreamName: 'S3Delivery',
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.role = new iam.Role(this, 'Role', {
      description: 'Firehose raw archive: read the telemetry stream, write raw/ objects',
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', {
        conditions: { StringEquals: { 'sts:ExternalId': Stack.of(this).account } },
      }),
    });
    const rawObjects = props.bucket.arnForObjects('raw/*');
    const errorObjects = props.bucket.arnForObjects('archive-errors/*');
    const policy = new iam.Policy(this, 'Policy', {
      roles: [this.role],
      statements: [
        new iam.PolicyStatement({
          sid: 'ReadTelemetryStream',
          actions: ['kinesis:DescribeStream', 'kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:ListShards'],
          resources: [props.stream.streamArn],
        }),
        new iam.PolicyStatement({
          sid: 'LocateBucket',
          actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
          resources: [props.bucket.bucketArn],
        }),
        new iam.PolicyStatement({
          sid: 'WriteArchiveObjects',
          actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
          resources: [rawObjects, errorObjects],
        }),
        new iam.PolicyStatement({
          sid: 'UseDataKey',
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [props.encryptionKey.keyArn],
        }),
        new iam.PolicyStatement({
          sid: 'WriteErrorLog',
          actions: ['logs:PutLogEvents'],
          resources: [
            `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:${this.errorLogGroup.logGroupName}:log-stream:${errorLogStream.logStreamName}`,
          ],
        }),
      ],
    });
    acknowledgeWildcardResources(
      policy,
      [rawObjects],
      'Firehose writes one new object per buffer flush under the time-partitioned raw/ prefix with keys it generates at delivery time, so the write grant can only name the prefix.',
    );
    acknowledgeWildcardResources(
      policy,
      [errorObjects],
      'Firehose writes records it failed to deliver under archive-errors/ with keys it generates (error type and hour partitions), so the grant can only name the prefix.',
    );

    this.deliveryStream = new firehose.CfnDeliveryStream(this, 'DeliveryStream', {
      deliveryStreamName: props.deliveryStreamName,
      deliveryStreamType: 'KinesisStreamAsSource',
      kinesisStreamSourceConfiguration: {
        kinesisStreamArn: props.stream.streamArn,
        roleArn: this.role.roleArn,
      },
      extendedS3DestinationConfiguration: {
        bucketArn: props.bucket.bucketArn,
        roleArn: this.role.roleArn,
        prefix: ARCHIVE_PREFIX_EXPRESSION,
        errorOutputPrefix: ARCHIVE_ERROR_PREFIX_EXPRESSION,
        compressionFormat: 'GZIP',
        bufferingHints: { intervalInSeconds: props.bufferIntervalSeconds, sizeInMBs: props.bufferSizeMiB },
        encryptionConfiguration: { kmsEncryptionConfig: { awskmsKeyArn: props.encryptionKey.keyArn } },
        // One record per line, so the replay job reads JSON lines.
        processingConfiguration: { enabled: true, processors: [{ type: 'AppendDelimiterToRecord' }] },
        cloudWatchLoggingOptions: {
          enabled: true,
          logGroupName: this.errorLogGroup.logGroupName,
          logStreamName: errorLogStream.logStreamName,
        },
      },
    });
    // Firehose validates its role when the stream is created.
    this.deliveryStream.node.addDependency(policy);
    Validations.of(this.deliveryStream).acknowledge({
      id: 'AwsSolutions-KDF1',
      reason:
        'Firehose does not accept DeliveryStreamEncryptionConfigurationInput when the source is a Kinesis stream; the data is encrypted at rest in the source stream (customer managed key) and in S3 (SSE-KMS, same key), and in transit with TLS.',
    });
  }
}
