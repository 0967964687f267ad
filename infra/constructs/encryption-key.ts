import { Aws, Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/** Key administration actions delegated to the account's IAM policies (no `kms:*`). */
export const KEY_ADMIN_ACTIONS = [
  'kms:CancelKeyDeletion',
  'kms:CreateAlias',
  'kms:CreateGrant',
  'kms:DeleteAlias',
  'kms:DescribeKey',
  'kms:DisableKey',
  'kms:DisableKeyRotation',
  'kms:EnableKey',
  'kms:EnableKeyRotation',
  'kms:GetKeyPolicy',
  'kms:GetKeyRotationStatus',
  'kms:ListGrants',
  'kms:ListKeyPolicies',
  'kms:ListKeyRotations',
  'kms:ListResourceTags',
  'kms:PutKeyPolicy',
  'kms:RetireGrant',
  'kms:RevokeGrant',
  'kms:RotateKeyOnDemand',
  'kms:ScheduleKeyDeletion',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:UpdateAlias',
  'kms:UpdateKeyDescription',
] as const;

/** Cryptographic actions delegated to the account's IAM policies. */
export const KEY_USAGE_ACTIONS = [
  'kms:Decrypt',
  'kms:Encrypt',
  'kms:GenerateDataKey',
  'kms:GenerateDataKeyWithoutPlaintext',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
] as const;

/** What an AWS service needs to write to (and read back from) a resource encrypted with the key. */
export const SERVICE_ENCRYPT_ACTIONS = ['kms:Decrypt', 'kms:GenerateDataKey'] as const;

export interface EncryptionKeyProps {
  /** Alias name, with or without the `alias/` prefix. */
  readonly alias: string;
  readonly description: string;
  /** RETAIN for keys that protect retained data. */
  readonly removalPolicy: RemovalPolicy;
}

const ALIAS_PATTERN = /^[a-zA-Z0-9/_-]{1,250}$/;

/**
 * A customer managed KMS key with rotation and an explicit key policy: the account's IAM policies
 * are trusted for a listed set of admin and usage actions (never `kms:*`), and AWS services are added
 * one by one with {@link allowService} / {@link allowCloudWatchLogs}. Grants to roles go through
 * IAM policies with exact actions (see infra/grants.ts).
 */
export class EncryptionKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: EncryptionKeyProps) {
    super(scope, id);
    const alias = props.alias.startsWith('alias/') ? props.alias : `alias/${props.alias}`;
    if (!Token.isUnresolved(props.alias)) {
      const bare = alias.slice('alias/'.length);
      if (!ALIAS_PATTERN.test(bare) || bare.startsWith('aws/')) {
        throw new Error(`EncryptionKey ${id}: alias ${JSON.stringify(props.alias)} is not a valid customer alias`);
      }
    }
    if (!Token.isUnresolved(props.description) && props.description.length > 8192) {
      throw new Error(`EncryptionKey ${id}: description longer than 8192 characters`);
    }
    const account = new iam.AccountRootPrincipal();
    const policy = new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          sid: 'AccountAdministersKeyThroughIam',
          principals: [account],
          actions: [...KEY_ADMIN_ACTIONS],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'AccountUsesKeyThroughIam',
          principals: [account],
          actions: [...KEY_USAGE_ACTIONS],
          resources: ['*'],
        }),
      ],
    });
    this.key = new kms.Key(this, 'Key', {
      alias,
      description: props.description,
      enableKeyRotation: true,
      pendingWindow: Duration.days(30),
      policy,
      removalPolicy: props.removalPolicy,
    });
  }

  /** Lets an AWS service principal use the key for resources it writes on the account's behalf. */
  allowService(sid: string, servicePrincipal: string, actions: readonly string[], conditions?: Record<string, unknown>): void {
    if (actions.some((a) => a.includes('*'))) {
      throw new Error(`EncryptionKey ${this.node.id}: wildcard actions are not allowed (${actions.join(', ')})`);
    }
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid,
        principals: [new iam.ServicePrincipal(servicePrincipal)],
        actions: [...actions],
        resources: ['*'],
        conditions,
      }),
    );
  }

  /** Lets CloudWatch Logs encrypt log groups of this account and region with the key. */
  allowCloudWatchLogs(): void {
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsEncryptsLogGroups',
        principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
        actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:ReEncryptFrom', 'kms:ReEncryptTo'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*`,
          },
        },
      }),
    );
  }
}
