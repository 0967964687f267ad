import { Aws, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import type { IConstruct } from 'constructs';
import { EVENT_SOURCE } from '../shared/names';

/**
 * Least-privilege grants: exact actions on exact resources. CDK's `grant*` helpers add action
 * wildcards (`s3:GetObject*`, `kms:GenerateDataKey*`, ...), so pumpwatch writes its statements here.
 * The only wildcards are in resources where the resource itself is a set (objects under a prefix,
 * versions of a model package group); each is acknowledged for cdk-nag where it is granted.
 */

export const KINESIS_READ_ACTIONS = [
  'kinesis:DescribeStream',
  'kinesis:DescribeStreamSummary',
  'kinesis:GetRecords',
  'kinesis:GetShardIterator',
  'kinesis:ListShards',
] as const;
export const KINESIS_WRITE_ACTIONS = ['kinesis:PutRecord', 'kinesis:PutRecords'] as const;

export const TABLE_READ_ACTIONS = ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan'] as const;
export const TABLE_WRITE_ACTIONS = [
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DeleteItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
] as const;
export const INDEX_READ_ACTIONS = ['dynamodb:Query', 'dynamodb:Scan'] as const;

export const KEY_DECRYPT_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey'] as const;
export const KEY_ENCRYPT_DECRYPT_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'] as const;
export const KEY_ENCRYPT_ACTIONS = ['kms:DescribeKey', 'kms:GenerateDataKey'] as const;

export const QUEUE_CONSUME_ACTIONS = [
  'sqs:ChangeMessageVisibility',
  'sqs:DeleteMessage',
  'sqs:GetQueueAttributes',
  'sqs:GetQueueUrl',
  'sqs:ReceiveMessage',
] as const;

/** The AWS principal a grant lands on. */
function addToPolicy(grantee: iam.IGrantable, statement: iam.PolicyStatement): void {
  const result = grantee.grantPrincipal.addToPrincipalPolicy(statement);
  if (!result.statementAdded) {
    throw new Error(`could not add a policy statement to ${grantee.grantPrincipal}`);
  }
}

function statement(sid: string, actions: readonly string[], resources: readonly string[], conditions?: Record<string, unknown>) {
  return new iam.PolicyStatement({ sid, actions: [...actions], resources: [...resources], conditions });
}

/** Read a stream (shard discovery, iterators, records) and decrypt it. */
export function grantStreamRead(grantee: iam.IGrantable, stream: kinesis.IStream, key: kms.IKey): void {
  addToPolicy(grantee, statement('ReadTelemetryStream', KINESIS_READ_ACTIONS, [stream.streamArn]));
  addToPolicy(grantee, statement('DecryptTelemetryStream', KEY_DECRYPT_ACTIONS, [key.keyArn]));
}

/** Put records on a stream (encrypting them). */
export function grantStreamWrite(grantee: iam.IGrantable, stream: kinesis.IStream, key: kms.IKey): void {
  addToPolicy(grantee, statement('WriteTelemetryStream', KINESIS_WRITE_ACTIONS, [stream.streamArn]));
  addToPolicy(grantee, statement('EncryptTelemetryStream', KEY_ENCRYPT_ACTIONS, [key.keyArn]));
}

/** One table's access: item reads or reads and writes, plus the named indexes (exact index ARNs). */
export interface TableAccess {
  readonly table: dynamodb.ITable;
  readonly access: 'read' | 'readWrite';
  readonly indexes: readonly string[];
}

/** Item-level access to tables and their indexes, and use of the tables' key. */
export function grantTables(grantee: iam.IGrantable, tables: readonly TableAccess[], key: kms.IKey): void {
  const tableArns = tables.map((t) => t.table.tableArn);
  const writable = tables.filter((t) => t.access === 'readWrite').map((t) => t.table.tableArn);
  const indexArns = tables.flatMap((t) => t.indexes.map((i) => `${t.table.tableArn}/index/${i}`));
  addToPolicy(grantee, statement('ReadTableItems', TABLE_READ_ACTIONS, tableArns));
  if (writable.length > 0) addToPolicy(grantee, statement('WriteTableItems', TABLE_WRITE_ACTIONS, writable));
  if (indexArns.length > 0) addToPolicy(grantee, statement('QueryTableIndexes', INDEX_READ_ACTIONS, indexArns));
  addToPolicy(grantee, statement('UseTableKey', writable.length > 0 ? KEY_ENCRYPT_DECRYPT_ACTIONS : KEY_DECRYPT_ACTIONS, [key.keyArn]));
}

/** The ARN of a bucket known by name (names come from resourceNames, shared by all stacks). */
export function bucketArn(bucketName: string): string {
  return `arn:${Aws.PARTITION}:s3:::${bucketName}`;
}

/** The ARN pattern of the objects under a prefix (`prefix` ends with `/`). */
export function objectsArn(bucketName: string, prefix: string): string {
  if (!prefix.endsWith('/')) throw new Error(`object prefix must end with "/": ${prefix}`);
  return `${bucketArn(bucketName)}/${prefix}*`;
}

/**
 * Read objects under prefixes (GetObject) and list those prefixes (ListBucket, conditioned on
 * `s3:prefix`), decrypting with the bucket key. Returns the object ARN patterns it granted, for
 * {@link acknowledgeWildcardResources}.
 */
export function grantObjectRead(
  grantee: iam.IGrantable,
  bucketName: string,
  prefixes: readonly string[],
  key: kms.IKey,
): string[] {
  const objectArns = prefixes.map((p) => objectsArn(bucketName, p));
  addToPolicy(grantee, statement('ReadObjects', ['s3:GetObject'], objectArns));
  addToPolicy(
    grantee,
    statement('ListObjectPrefixes', ['s3:ListBucket'], [bucketArn(bucketName)], {
      StringLike: { 's3:prefix': prefixes.flatMap((p) => [p, `${p}*`]) },
    }),
  );
  addToPolicy(grantee, statement('DecryptObjects', KEY_DECRYPT_ACTIONS, [key.keyArn]));
  return objectArns;
}

/** Publish pumpwatch events (source `pumpwatch` only) on the bus. */
export function grantPutEvents(grantee: iam.IGrantable, bus: events.IEventBus): void {
  addToPolicy(
    grantee,
    statement('PublishPumpEvents', ['events:PutEvents'], [bus.eventBusArn], {
      StringEquals: { 'events:source': EVENT_SOURCE },
    }),
  );
}

/** SageMaker ARNs use the lower-cased resource name. */
function sageMakerArn(resource: string, name: string): string {
  return `arn:${Aws.PARTITION}:sagemaker:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}/${name.toLowerCase()}`;
}

/** Invoke one endpoint. */
export function grantInvokeEndpoint(grantee: iam.IGrantable, endpointName: string): void {
  addToPolicy(grantee, statement('InvokeModelEndpoint', ['sagemaker:InvokeEndpoint'], [sageMakerArn('endpoint', endpointName)]));
}

/**
 * Read the model registry: the groups and the versions inside them. `groupNames` are exact names or
 * name prefixes ending in `-` (a set of groups created at run time, e.g. one per pump). Returns the
 * wildcard ARNs it granted (`model-package/<group>/*`, and the prefixes' group ARNs), for
 * {@link acknowledgeWildcardResources}.
 */
export function grantModelRegistryRead(grantee: iam.IGrantable, groupNames: readonly string[]): string[] {
  const groupArns = groupNames.map((g) => sageMakerArn('model-package-group', groupPattern(g)));
  const versionArns = groupNames.map((g) => `${sageMakerArn('model-package', groupPattern(g))}/*`);
  addToPolicy(
    grantee,
    statement('ReadModelPackageGroups', ['sagemaker:DescribeModelPackageGroup', 'sagemaker:ListModelPackages'], groupArns),
  );
  addToPolicy(grantee, statement('ReadModelPackages', ['sagemaker:DescribeModelPackage'], versionArns));
  return [...groupArns.filter((a) => a.endsWith('*')), ...versionArns];
}

/** A group name, or a prefix (ending in `-`) turned into a name pattern. */
function groupPattern(nameOrPrefix: string): string {
  return nameOrPrefix.endsWith('-') ? `${nameOrPrefix}*` : nameOrPrefix;
}

/**
 * Register model versions in the groups under `groupPrefix` (ending in `-`): create a group on its
 * first version, create versions and complete or approve them (the learning phase). Other groups
 * (the pump types', owned by data science) stay read-only. Returns the wildcard ARNs it granted.
 */
export function grantModelRegistryWrite(grantee: iam.IGrantable, groupPrefix: string): string[] {
  if (!groupPrefix.endsWith('-')) throw new Error(`model package group prefix must end with "-": ${groupPrefix}`);
  const groupArn = sageMakerArn('model-package-group', groupPattern(groupPrefix));
  const versionArn = `${sageMakerArn('model-package', groupPattern(groupPrefix))}/*`;
  addToPolicy(grantee, statement('CreateModelPackageGroups', ['sagemaker:CreateModelPackageGroup'], [groupArn]));
  addToPolicy(grantee, statement('WriteModelPackages', ['sagemaker:CreateModelPackage', 'sagemaker:UpdateModelPackage'], [versionArn]));
  return [groupArn, versionArn];
}

/**
 * Write new objects under a prefix (`s3:PutObject`), encrypting with the bucket key. Returns the
 * object ARN pattern, for {@link acknowledgeWildcardResources}.
 */
export function grantObjectWrite(grantee: iam.IGrantable, bucketName: string, prefix: string, key: kms.IKey): string {
  const arn = objectsArn(bucketName, prefix);
  addToPolicy(grantee, statement('WriteObjects', ['s3:PutObject'], [arn]));
  addToPolicy(grantee, statement('EncryptObjects', KEY_ENCRYPT_ACTIONS, [key.keyArn]));
  return arn;
}

/** Receive and delete messages of a queue encrypted with `key`. */
export function grantQueueConsume(grantee: iam.IGrantable, queue: sqs.IQueue, key: kms.IKey): void {
  addToPolicy(grantee, statement('ConsumeRoutingUpdates', QUEUE_CONSUME_ACTIONS, [queue.queueArn]));
  addToPolicy(grantee, statement('DecryptRoutingUpdates', KEY_DECRYPT_ACTIONS, [key.keyArn]));
}

/**
 * Acknowledges cdk-nag's AwsSolutions-IAM5 finding for each wildcard resource, on `scope` (the role
 * whose policy holds it): one finding per acknowledgement, with the reason. The finding id is computed
 * the way cdk-nag computes it, so a changed resource shows up as a new, unacknowledged finding.
 * Resources must resolve within the scope's own stack (no cross-stack references).
 */
export function acknowledgeWildcardResources(scope: IConstruct, resources: readonly string[], reason: string): void {
  const stack = Stack.of(scope);
  for (const resource of resources) {
    const flat = flattenCfnReference(stack.resolve(resource));
    if (!flat.includes('*')) throw new Error(`not a wildcard resource: ${flat}`);
    Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${flat}]`, reason });
  }
}
