import { Match } from 'aws-cdk-lib/assertions';
import { ARCHIVE_ERROR_PREFIX_EXPRESSION, ARCHIVE_PREFIX_EXPRESSION } from '../../infra/archive-layout';
import { KEY_ADMIN_ACTIONS, KEY_USAGE_ACTIONS } from '../../infra/constructs/encryption-key';
import { resourceNames } from '../../shared/names';
import { TABLE_SCHEMAS, type TableId } from '../../shared/tables';
import { findOne, logicalIdOf, resourcesOfType, roleStatements, synthStage, TEST_ACCOUNT } from './helpers';

const stage = synthStage();
const template = stage.template('data');
const names = resourceNames('test', TEST_ACCOUNT);
const keyId = logicalIdOf(template, 'AWS::KMS::Key', () => true);
const keyArn = { 'Fn::GetAtt': [keyId, 'Arn'] };
const bucketId = logicalIdOf(template, 'AWS::S3::Bucket', (p) => p.BucketName === names.bucketName);
const logsBucketId = logicalIdOf(template, 'AWS::S3::Bucket', (p) => p.BucketName === `${names.bucketName}-logs`);
const streamId = logicalIdOf(template, 'AWS::Kinesis::Stream', () => true);

describe('stateful data stack', () => {
  test('has termination protection and only retained stateful resources', () => {
    expect(stage.stacks.data.terminationProtection).toBe(true);
    for (const type of ['AWS::KMS::Key', 'AWS::Kinesis::Stream', 'AWS::DynamoDB::Table', 'AWS::S3::Bucket', 'AWS::Logs::LogGroup']) {
      for (const r of Object.values(resourcesOfType(template, type))) {
        expect({ type, policy: r.DeletionPolicy, replace: r.UpdateReplacePolicy }).toEqual({ type, policy: 'Retain', replace: 'Retain' });
      }
    }
  });

  test('termination protection follows protectData', () => {
    const dev = synthStage({ stage: 'scratch', protectData: false });
    expect(dev.stacks.data.terminationProtection).toBe(false);
    dev.template('data').hasResourceProperties('AWS::DynamoDB::Table', { DeletionProtectionEnabled: false });
  });
});

describe('customer managed key', () => {
  test('rotates, is retained, has an alias and an explicit key policy (no kms:*)', () => {
    template.hasResource('AWS::KMS::Key', {
      Properties: {
        EnableKeyRotation: true,
        PendingWindowInDays: 30,
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({ Sid: 'AccountAdministersKeyThroughIam', Action: [...KEY_ADMIN_ACTIONS], Resource: '*' }),
            Match.objectLike({ Sid: 'AccountUsesKeyThroughIam', Action: [...KEY_USAGE_ACTIONS], Resource: '*' }),
            Match.objectLike({ Sid: 'CloudWatchLogsEncryptsLogGroups' }),
          ]),
        },
      },
      DeletionPolicy: 'Retain',
    });
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/pumpwatch-test-data', TargetKeyId: keyArn });
  });
});

describe('telemetry stream', () => {
  test('on-demand by default, KMS with the customer managed key, retention from config, named from resourceNames', () => {
    template.resourceCountIs('AWS::Kinesis::Stream', 1);
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      Name: names.streamName,
      RetentionPeriodHours: 48,
      StreamModeDetails: { StreamMode: 'ON_DEMAND' },
      StreamEncryption: { EncryptionType: 'KMS', KeyId: keyArn },
      ShardCount: Match.absent(),
    });
  });
});

describe('DynamoDB tables', () => {
  const tables = Object.values(resourcesOfType(template, 'AWS::DynamoDB::Table'));

  test('one table per TABLE_SCHEMAS entry, named from resourceNames', () => {
    expect(tables.map((t) => t.Properties.TableName).sort()).toEqual(Object.values(names.tables).sort());
  });

  test.each(Object.keys(TABLE_SCHEMAS) as TableId[])('%s: keys, indexes, TTL as in shared/tables.ts', (id) => {
    const schema = TABLE_SCHEMAS[id];
    const key = (pk: { name: string }, sk?: { name: string }) => [
      { AttributeName: pk.name, KeyType: 'HASH' },
      ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' }] : []),
    ];
    const attrs = new Map<string, string>();
    for (const a of [schema.partitionKey, schema.sortKey, ...schema.indexes.flatMap((i) => [i.partitionKey, i.sortKey])]) {
      if (a) attrs.set(a.name, a.type);
    }
    const props = findOne(template, 'AWS::DynamoDB::Table', (p) => p.TableName === names.tables[id]).Properties;
    expect(props.KeySchema).toEqual(key(schema.partitionKey, schema.sortKey));
    expect(Object.fromEntries(props.AttributeDefinitions.map((a: any) => [a.AttributeName, a.AttributeType]))).toEqual(Object.fromEntries(attrs));
    expect(props.GlobalSecondaryIndexes ?? []).toEqual(
      schema.indexes.map((i) => ({ IndexName: i.indexName, KeySchema: key(i.partitionKey, i.sortKey), Projection: { ProjectionType: 'ALL' } })),
    );
    expect(props.TimeToLiveSpecification).toEqual(schema.ttlAttribute ? { AttributeName: schema.ttlAttribute, Enabled: true } : undefined);
  });

  test('the exact keys the issue asks for (windows TTL + unscored, events pending/byPump, quarantine byReason)', () => {
    const t = (id: TableId) => findOne(template, 'AWS::DynamoDB::Table', (p) => p.TableName === names.tables[id]).Properties;
    expect(t('windows').TimeToLiveSpecification).toEqual({ AttributeName: 'expiresAt', Enabled: true });
    expect(t('windows').GlobalSecondaryIndexes.map((i: any) => i.IndexName)).toEqual(['unscored']);
    expect(t('events').GlobalSecondaryIndexes.map((i: any) => i.IndexName)).toEqual(['pending', 'byPump']);
    expect(t('quarantine').GlobalSecondaryIndexes.map((i: any) => i.IndexName)).toEqual(['byReason']);
    expect(t('models').KeySchema).toEqual([
      { AttributeName: 'modelGroup', KeyType: 'HASH' },
      { AttributeName: 'version', KeyType: 'RANGE' },
    ]);
  });

  test('every table: on-demand, PITR, KMS with the customer managed key, deletion protection, retained', () => {
    for (const t of tables) {
      expect(t.Properties).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: keyArn },
        DeletionProtectionEnabled: true,
      });
      expect(t.DeletionPolicy).toBe('Retain');
    }
  });
});

describe('data bucket', () => {
  const bucket = template.toJSON().Resources[bucketId];

  test('KMS with bucket keys, public access blocked, versioned, owner-enforced, access logs to the logs bucket', () => {
    expect(bucket.Properties).toMatchObject({
      BucketName: names.bucketName,
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn } },
        ],
      },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      VersioningConfiguration: { Status: 'Enabled' },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LoggingConfiguration: { DestinationBucketName: { Ref: logsBucketId }, LogFilePrefix: 'data-bucket/' },
    });
    expect(bucket.DeletionPolicy).toBe('Retain');
  });

  test('lifecycle: raw/ to STANDARD_IA then Glacier IR by config; noncurrent versions expire; uploads aborted', () => {
    expect(bucket.Properties.LifecycleConfiguration.Rules).toEqual([
      {
        Id: 'RawArchiveTiering',
        Prefix: 'raw/',
        Status: 'Enabled',
        Transitions: [
          { StorageClass: 'STANDARD_IA', TransitionInDays: 30 },
          { StorageClass: 'GLACIER_IR', TransitionInDays: 90 },
        ],
      },
      {
        Id: 'NoncurrentVersionsAndUploads',
        Status: 'Enabled',
        NoncurrentVersionExpiration: { NoncurrentDays: 30 },
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
      },
    ]);
  });

  test('TLS only (SecureTransport and TLS 1.2) on both buckets', () => {
    for (const id of [bucketId, logsBucketId]) {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: id },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
          ]),
        },
      });
    }
  });

  test('the logs bucket: SSE-S3 (what access logging supports), blocked, expiring, written only by S3 logging for this bucket', () => {
    const logs = template.toJSON().Resources[logsBucketId];
    expect(logs.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault).toEqual({ SSEAlgorithm: 'AES256' });
    expect(logs.Properties.PublicAccessBlockConfiguration.RestrictPublicBuckets).toBe(true);
    expect(logs.Properties.LifecycleConfiguration.Rules[0]).toMatchObject({ ExpirationInDays: 365 });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logsBucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'logging.s3.amazonaws.com' },
            Action: 's3:PutObject',
            Condition: { ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [bucketId, 'Arn'] } }, StringEquals: { 'aws:SourceAccount': TEST_ACCOUNT } },
          }),
        ]),
      },
    });
  });

  test('archive tiering and expiry follow the config', () => {
    const custom = synthStage({
      stage: 'archive',
      archive: { infrequentAccessAfterDays: 45, coldStorageClass: 'DEEP_ARCHIVE', coldAfterDays: 180, expireAfterDays: 730, noncurrentVersionExpirationDays: 7 },
    });
    custom.template('data').hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({
            Prefix: 'raw/',
            ExpirationInDays: 730,
            Transitions: [
              { StorageClass: 'STANDARD_IA', TransitionInDays: 45 },
              { StorageClass: 'DEEP_ARCHIVE', TransitionInDays: 180 },
            ],
          }),
          Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 7 } }),
        ],
      },
    });
  });
});

describe('raw archive (Firehose)', () => {
  const stream = findOne(template, 'AWS::KinesisFirehose::DeliveryStream', () => true);
  const roleId = logicalIdOf(template, 'AWS::IAM::Role', (p) => p.AssumeRolePolicyDocument.Statement[0].Principal.Service === 'firehose.amazonaws.com');

  test('reads the stream and writes raw/year=/month=/day=/hour=/ with GZIP, KMS, buffering, error prefix, one record per line', () => {
    expect(stream.Properties).toMatchObject({
      DeliveryStreamName: 'pumpwatch-test-raw-archive',
      DeliveryStreamType: 'KinesisStreamAsSource',
      KinesisStreamSourceConfiguration: { KinesisStreamARN: { 'Fn::GetAtt': [streamId, 'Arn'] }, RoleARN: { 'Fn::GetAtt': [roleId, 'Arn'] } },
      ExtendedS3DestinationConfiguration: {
        BucketARN: { 'Fn::GetAtt': [bucketId, 'Arn'] },
        RoleARN: { 'Fn::GetAtt': [roleId, 'Arn'] },
        Prefix: 'raw/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/',
        ErrorOutputPrefix: ARCHIVE_ERROR_PREFIX_EXPRESSION,
        CompressionFormat: 'GZIP',
        BufferingHints: { IntervalInSeconds: 300, SizeInMBs: 64 },
        EncryptionConfiguration: { KMSEncryptionConfig: { AWSKMSKeyARN: keyArn } },
        ProcessingConfiguration: { Enabled: true, Processors: [{ Type: 'AppendDelimiterToRecord' }] },
        CloudWatchLoggingOptions: { Enabled: true },
      },
    });
    expect(stream.Properties.ExtendedS3DestinationConfiguration.Prefix).toBe(ARCHIVE_PREFIX_EXPRESSION);
    expect(ARCHIVE_ERROR_PREFIX_EXPRESSION.startsWith('raw/')).toBe(false);
  });

  test('its role is assumable by Firehose of this account only and holds exactly the delivery permissions', () => {
    const role = template.toJSON().Resources[roleId];
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'firehose.amazonaws.com' },
        Condition: { StringEquals: { 'sts:ExternalId': TEST_ACCOUNT } },
      },
    ]);
    const statements = roleStatements(template, roleId);
    const bySid = Object.fromEntries(statements.map((s) => [s.Sid, s]));
    expect(Object.keys(bySid).sort()).toEqual(['LocateBucket', 'ReadTelemetryStream', 'UseDataKey', 'WriteArchiveObjects', 'WriteErrorLog']);
    expect(bySid.ReadTelemetryStream).toMatchObject({
      Action: ['kinesis:DescribeStream', 'kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:ListShards'],
      Resource: { 'Fn::GetAtt': [streamId, 'Arn'] },
    });
    expect(bySid.LocateBucket).toMatchObject({
      Action: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
      Resource: { 'Fn::GetAtt': [bucketId, 'Arn'] },
    });
    expect(bySid.WriteArchiveObjects).toMatchObject({
      Action: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
    });
    expect(bySid.WriteArchiveObjects!.Resource).toEqual(
      expect.arrayContaining([
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/raw/*']] },
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/archive-errors/*']] },
      ]),
    );
    expect(bySid.WriteArchiveObjects!.Resource).toHaveLength(2);
    expect(bySid.UseDataKey).toMatchObject({ Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: keyArn });
    expect(bySid.WriteErrorLog).toMatchObject({ Action: 'logs:PutLogEvents' });
  });

  test('error log group is encrypted, with retention', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/kinesisfirehose/pumpwatch-test-raw-archive',
      RetentionInDays: 30,
      KmsKeyId: keyArn,
    });
  });
});
