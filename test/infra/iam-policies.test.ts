import { allPolicies, type FoundPolicy, synthStage, toArray, wildcardViolations } from './helpers';

const stage = synthStage();
const templates = stage.allTemplates();
const policies = allPolicies(templates);

describe('policy documents', () => {
  test('the walker finds identity, resource and trust policies in every stack', () => {
    const kinds = new Set(policies.map((p) => p.kind));
    expect(kinds).toEqual(new Set(['identity', 'resource', 'trust']));
    const types = new Set(policies.map((p) => p.type));
    for (const t of [
      'AWS::IAM::Policy',
      'AWS::IAM::Role',
      'AWS::KMS::Key',
      'AWS::S3::BucketPolicy',
      'AWS::SQS::QueuePolicy',
      'AWS::SNS::TopicPolicy',
      'AWS::Logs::ResourcePolicy',
    ]) {
      expect(types).toContain(t);
    }
    expect(new Set(policies.map((p) => p.stack))).toEqual(new Set(Object.keys(templates)));
  });

  test('no Allow statement anywhere has a wildcard action, NotAction, or "*" resource on a data action', () => {
    expect(wildcardViolations(policies)).toEqual([]);
  });

  test('the check itself catches `*`, `service:*`, prefix wildcards, NotAction and data actions on "*"', () => {
    const bad: FoundPolicy = {
      stack: 's',
      logicalId: 'P',
      type: 'AWS::IAM::Policy',
      kind: 'identity',
      statements: [
        { Effect: 'Allow', Action: '*', Resource: 'arn:x' },
        { Effect: 'Allow', Action: ['s3:*'], Resource: 'arn:x' },
        { Effect: 'Allow', Action: 'kms:GenerateDataKey*', Resource: 'arn:x' },
        { Effect: 'Allow', NotAction: 'iam:*', Resource: 'arn:x' },
        { Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: '*' },
        { Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
        { Effect: 'Deny', Action: 's3:*', Resource: '*' },
      ],
    };
    const problems = wildcardViolations([bad]);
    expect(problems).toHaveLength(5);
    expect(problems.join('\n')).toMatch(/"\*"/);
    expect(problems.join('\n')).toMatch(/s3:\*/);
    expect(problems.join('\n')).toMatch(/GenerateDataKey\*/);
    expect(problems.join('\n')).toMatch(/NotAction/);
    expect(problems.join('\n')).toMatch(/dynamodb:GetItem on Resource/);
  });

  test('key policies never grant kms:* — the account is trusted for listed actions only', () => {
    const keyPolicies = policies.filter((p) => p.type === 'AWS::KMS::Key');
    expect(keyPolicies.length).toBe(5); // data, alerts, models, pipeline, ops
    for (const p of keyPolicies) {
      const actions = p.statements.flatMap((s) => toArray(s.Action));
      expect(actions).not.toContain('kms:*');
      expect(actions).toContain('kms:PutKeyPolicy'); // no lock-out
    }
  });

  test('every role trust policy names a service principal (no account or wildcard principals)', () => {
    for (const p of policies.filter((x) => x.kind === 'trust')) {
      for (const s of p.statements) {
        expect(s.Principal).toEqual({ Service: expect.any(String) });
      }
    }
  });
});
