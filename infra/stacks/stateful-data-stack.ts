import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { DataBucket } from '../constructs/data-bucket';
import { DataTables } from '../constructs/data-tables';
import { EncryptionKey } from '../constructs/encryption-key';
import { RawArchive } from '../constructs/raw-archive';
import { TelemetryStream } from '../constructs/telemetry-stream';
import type { TableId } from '../../shared/tables';
import { logRetention, namePrefix, type PumpwatchStackProps } from './stack-props';

/**
 * Everything that holds data: the telemetry stream, the tables, the data bucket and its raw archive
 * delivery, under one customer managed key. Termination protection (by config) and RETAIN on every
 * stateful resource: deleting the compute stacks never touches data.
 */
export class StatefulDataStack extends Stack {
  readonly dataKey: kms.Key;
  readonly stream: kinesis.Stream;
  readonly tables: Readonly<Record<TableId, dynamodb.Table>>;
  readonly bucket: s3.Bucket;
  readonly deliveryStreamName: string;

  constructor(scope: Construct, id: string, props: PumpwatchStackProps) {
    super(scope, id, { ...props, terminationProtection: props.config.protectData });
    const { config, names } = props;
    const prefix = namePrefix(config);

    const key = new EncryptionKey(this, 'DataKey', {
      alias: `${prefix}-data`,
      description: `pumpwatch ${config.stage}: telemetry stream, tables, data bucket`,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    key.allowCloudWatchLogs();
    this.dataKey = key.key;

    this.stream = new TelemetryStream(this, 'Telemetry', {
      streamName: names.streamName,
      mode: config.stream.mode,
      shardCount: config.stream.shardCount,
      retentionHours: config.stream.retentionHours,
      encryptionKey: this.dataKey,
    }).stream;

    this.tables = new DataTables(this, 'Tables', {
      names: names.tables,
      encryptionKey: this.dataKey,
      deletionProtection: config.protectData,
    }).tables;

    this.bucket = new DataBucket(this, 'Data', {
      bucketName: names.bucketName,
      encryptionKey: this.dataKey,
      ...config.archive,
    }).bucket;

    this.deliveryStreamName = `${prefix}-raw-archive`;
    new RawArchive(this, 'RawArchive', {
      deliveryStreamName: this.deliveryStreamName,
      stream: this.stream,
      bucket: this.bucket,
      encryptionKey: this.dataKey,
      bufferIntervalSeconds: config.archive.bufferIntervalSeconds,
      bufferSizeMiB: config.archive.bufferSizeMiB,
      logRetention: logRetention(config),
    });
  }
}
