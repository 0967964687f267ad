import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { S3_PREFIXES } from '../../shared/names';

export interface DataBucketProps {
  readonly bucketName: string;
  readonly encryptionKey: kms.IKey;
  /** Days until raw telemetry moves to STANDARD_IA (S3 minimum: 30). */
  readonly infrequentAccessAfterDays: number;
  readonly coldStorageClass: 'GLACIER_IR' | 'GLACIER' | 'DEEP_ARCHIVE';
  readonly coldAfterDays: number;
  /** Days until raw telemetry is deleted; undefined keeps it. */
  readonly expireAfterDays?: number;
  readonly noncurrentVersionExpirationDays: number;
  readonly accessLogExpirationDays: number;
}

const COLD: Record<DataBucketProps['coldStorageClass'], s3.StorageClass> = {
  GLACIER_IR: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
  GLACIER: s3.StorageClass.GLACIER,
  DEEP_ARCHIVE: s3.StorageClass.DEEP_ARCHIVE,
};

/**
 * The data bucket: raw archive under `raw/`, model artifacts under `models/` (S3_PREFIXES).
 * KMS (customer managed key, S3 Bucket Keys), public access blocked, TLS only, versioned, access logs
 * to a separate logs bucket, lifecycle rules for the archive and for noncurrent versions.
 */
export class DataBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: DataBucketProps) {
    super(scope, id);
    if (!Token.isUnresolved(props.bucketName) && !/^[a-z0-9][a-z0-9.-]{1,56}[a-z0-9]$/.test(props.bucketName)) {
      throw new Error(`DataBucket ${id}: invalid bucket name ${JSON.stringify(props.bucketName)} (max 58 chars, room for "-logs")`);
    }
    for (const [field, days] of [
      ['infrequentAccessAfterDays', props.infrequentAccessAfterDays],
      ['coldAfterDays', props.coldAfterDays],
      ['noncurrentVersionExpirationDays', props.noncurrentVersionExpirationDays],
      ['accessLogExpirationDays', props.accessLogExpirationDays],
      ['expireAfterDays', props.expireAfterDays ?? 1],
    ] as const) {
      if (!Token.isUnresolved(days) && (!Number.isInteger(days) || days < 1)) {
        throw new Error(`DataBucket ${id}: ${field} must be a positive integer, got ${days}`);
      }
    }
    if (props.infrequentAccessAfterDays < 30) throw new Error(`DataBucket ${id}: S3 needs >= 30 days before STANDARD_IA`);
    if (props.coldAfterDays <= props.infrequentAccessAfterDays) {
      throw new Error(`DataBucket ${id}: coldAfterDays must be greater than infrequentAccessAfterDays`);
    }

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      bucketName: Token.isUnresolved(props.bucketName) ? undefined : `${props.bucketName}-logs`,
      // Server access log delivery only supports SSE-S3 on the target bucket.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      lifecycleRules: [
        {
          id: 'ExpireAccessLogs',
          expiration: Duration.days(props.accessLogExpirationDays),
          noncurrentVersionExpiration: Duration.days(1),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      bucketName: props.bucketName,
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'data-bucket/',
      lifecycleRules: [
        {
          id: 'RawArchiveTiering',
          prefix: S3_PREFIXES.archive,
          transitions: [
            { storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(props.infrequentAccessAfterDays) },
            { storageClass: COLD[props.coldStorageClass], transitionAfter: Duration.days(props.coldAfterDays) },
          ],
          expiration: props.expireAfterDays === undefined ? undefined : Duration.days(props.expireAfterDays),
        },
        {
          id: 'NoncurrentVersionsAndUploads',
          noncurrentVersionExpiration: Duration.days(props.noncurrentVersionExpirationDays),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
