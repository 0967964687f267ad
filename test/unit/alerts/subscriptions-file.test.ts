import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAlertsConfig, parseAlertsConfig, readAlertsConfig, SubscriptionsConfigError, subscriptionsOf } from '../../../services/alerts/config';
import { ENV } from '../../../shared/env';
import { localTargetFile, localTargets } from '../../../services/local/subscriptions';
import { ConfigError } from '../../../shared/errors';
import { STANDARD_SUBSCRIPTIONS, type ConfiguredSubscription } from '../../../shared/subscriptions';

/** A valid user subscription; override per case. */
function rule(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'site-a-alarms',
    description: 'Alarms of site A to the site team.',
    pattern: { source: ['pumpwatch'], detail: { siteId: ['site-a'], state: ['ALARM'] } },
    targets: [{ kind: 'webhook', url: 'https://hooks.example.com/site-a' }],
    ...overrides,
  };
}

function expectRejected(raw: unknown, message: RegExp, ruleName?: string): void {
  let error: unknown;
  try {
    buildAlertsConfig(raw, 'subs.json');
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(SubscriptionsConfigError);
  const e = error as SubscriptionsConfigError;
  expect(e).toBeInstanceOf(ConfigError);
  expect(e.source).toBe('subs.json');
  expect(e.rule).toBe(ruleName);
  expect(e.message).toMatch(message);
  expect(e.message.startsWith('subs.json: ')).toBe(true);
}

describe('subscriptions file', () => {
  describe('a valid file', () => {
    it('adds its rules after the standard ones, with compiled patterns', () => {
      // prepare
      const raw = {
        topics: { alarms: { webhooks: ['https://pager.example.com/hook', { url: 'https://chat.example.com/x', headers: { Authorization: 'Bearer t' } }] } },
        subscriptions: [
          rule(),
          rule({ name: 'site-a-file', targets: [{ kind: 'file', path: 'site-a.jsonl' }, { kind: 'queue', id: 'anomalies' }] }),
        ],
      };

      // act
      const config = buildAlertsConfig(raw, 'subs.json');

      // assess
      expect(config.source).toBe('subs.json');
      expect(config.rules.map((r) => [r.subscription.name, r.origin])).toEqual([
        ['pump-alarms', 'standard'],
        ['pump-anomalies', 'standard'],
        ['pump-condition-log', 'standard'],
        ['site-a-alarms', 'file'],
        ['site-a-file', 'file'],
      ]);
      expect(config.topics.alarms!.webhooks).toEqual([{ url: 'https://pager.example.com/hook' }, { url: 'https://chat.example.com/x', headers: { Authorization: 'Bearer t' } }]);
      const siteA = config.rules.find((r) => r.subscription.name === 'site-a-alarms')!;
      expect(siteA.pattern.matches({ source: 'pumpwatch', detail: { siteId: 'site-a', state: 'ALARM' } })).toBe(true);
      expect(siteA.pattern.matches({ source: 'pumpwatch', detail: { siteId: 'site-b', state: 'ALARM' } })).toBe(false);
    });

    it('keeps the standard subscriptions unchanged (the CDK app deploys them)', () => {
      const config = buildAlertsConfig({ subscriptions: [rule()] }, 'subs.json');
      expect(subscriptionsOf(config).slice(0, STANDARD_SUBSCRIPTIONS.length)).toEqual(STANDARD_SUBSCRIPTIONS);
    });

    it('may be empty', () => {
      expect(buildAlertsConfig({}, 'subs.json').rules).toHaveLength(STANDARD_SUBSCRIPTIONS.length);
    });
  });

  describe('is rejected with a message naming the rule', () => {
    const cases: [string, unknown, RegExp, string | undefined][] = [
      ['an invalid pattern (EventBridge would reject it)', { subscriptions: [rule({ pattern: { detail: { pumpId: [{ prefix: 5 }] } } })] }, /Event pattern is not valid.*detail\.pumpId\[0\]/, 'site-a-alarms'],
      ['an anything-but equals-ignore-case of a number', { subscriptions: [rule({ pattern: { detail: { state: [{ 'anything-but': { 'equals-ignore-case': 123 } }] } } })] }, /Event pattern is not valid/, 'site-a-alarms'],
      ['a pattern with a non-array leaf', { subscriptions: [rule({ pattern: { source: 'pumpwatch' } })] }, /Event pattern is not valid/, 'site-a-alarms'],
      ['a pattern longer than 4096 characters', { subscriptions: [rule({ pattern: { detail: { pumpId: Array.from({ length: 600 }, (_, i) => `P-${i}`) } } })] }, /EventBridge allows 4096/, 'site-a-alarms'],
      ['a webhook URL that is not http(s)', { subscriptions: [rule({ targets: [{ kind: 'webhook', url: 'ftp://x.example.com/' }] })] }, /subscriptions\[0\]\.targets\[0\]\.url: must be an http:\/\/ or https:\/\/ URL/, 'site-a-alarms'],
      ['an unknown target kind', { subscriptions: [rule({ targets: [{ kind: 'email', to: 'a@b' }] })] }, /targets\[0\]\.kind/, 'site-a-alarms'],
      ['too many retries', { subscriptions: [rule({ targets: [{ kind: 'webhook', url: 'https://x.example.com/', retry: { maximumRetryAttempts: 200 } }] })] }, /retry\.maximumRetryAttempts/, 'site-a-alarms'],
      ['an unknown field', { subscriptions: [rule({ severity: 'high' })] }, /severity/, 'site-a-alarms'],
      ['a rule name EventBridge refuses', { subscriptions: [rule({ name: 'site a' })] }, /subscriptions\[0\]\.name: rule names are 1-64/, 'site a'],
      ['no targets', { subscriptions: [rule({ targets: [] })] }, /targets/, 'site-a-alarms'],
      ['a duplicate name', { subscriptions: [rule(), rule()] }, /defined twice/, 'site-a-alarms'],
      ['a standard name', { subscriptions: [rule({ name: 'pump-alarms' })] }, /taken by a standard subscription/, 'pump-alarms'],
      ['a topic without subscribers', { subscriptions: [rule({ targets: [{ kind: 'topic', id: 'site-a' }] })] }, /topic site-a has no subscribers/, 'site-a-alarms'],
      [
        'more than 5 local targets',
        { topics: { alarms: { webhooks: ['https://a.example.com/', 'https://b.example.com/', 'https://c.example.com/', 'https://d.example.com/', 'https://e.example.com/'] } } },
        /pump-alarms needs 6 local targets/,
        undefined,
      ],
    ];
    it.each(cases)('%s', (_what, raw, message, ruleName) => expectRejected(raw, message, ruleName));
  });

  describe('is rejected at file level', () => {
    it.each<[string, unknown, RegExp]>([
      ['a topic no rule delivers to (a typo would be a silent miss)', { topics: { alarm: { webhooks: ['https://x.example.com/'] } } }, /topics\.alarm: no subscription delivers to topic alarm/],
      ['a topic without webhooks', { topics: { alarms: { webhooks: [] } } }, /topics\.alarms\.webhooks/],
      ['an unknown top-level field', { rules: [] }, /rules/],
      ['subscriptions that are not a list', { subscriptions: {} }, /subscriptions/],
    ])('%s', (_what, raw, message) => expectRejected(raw, message));

    it('when the text is not JSON', () => {
      expect(() => parseAlertsConfig('{ "subscriptions": [', 'subs.json')).toThrow(/^subs\.json: not valid JSON/);
    });
  });

  describe('reading', () => {
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pumpwatch-subs-'));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('without a file: the standard subscriptions only', () => {
      const config = readAlertsConfig({ cwd: dir, env: {} });
      expect(config.source).toBeUndefined();
      expect(subscriptionsOf(config)).toEqual(STANDARD_SUBSCRIPTIONS);
    });

    it('pumpwatch.subscriptions.json in the working directory', () => {
      fs.writeFileSync(path.join(dir, 'pumpwatch.subscriptions.json'), JSON.stringify({ subscriptions: [rule()] }));
      const config = readAlertsConfig({ cwd: dir, env: {} });
      expect(config.source).toBe(path.join(dir, 'pumpwatch.subscriptions.json'));
      expect(config.rules.map((r) => r.subscription.name)).toContain('site-a-alarms');
    });

    it(`the file ${ENV.subscriptionsFile} names, which must exist`, () => {
      fs.writeFileSync(path.join(dir, 'other.json'), JSON.stringify({ subscriptions: [rule({ name: 'from-env' })] }));
      expect(readAlertsConfig({ cwd: dir, env: { [ENV.subscriptionsFile]: 'other.json' } }).rules.map((r) => r.subscription.name)).toContain('from-env');
      expect(() => readAlertsConfig({ cwd: dir, env: { [ENV.subscriptionsFile]: 'missing.json' } })).toThrow(/missing\.json: the subscriptions file does not exist/);
    });

    it('an explicit file before the environment', () => {
      fs.writeFileSync(path.join(dir, 'a.json'), JSON.stringify({ subscriptions: [rule({ name: 'from-flag' })] }));
      const config = readAlertsConfig({ cwd: dir, file: 'a.json', env: { [ENV.subscriptionsFile]: 'missing.json' } });
      expect(config.rules.map((r) => r.subscription.name)).toContain('from-flag');
    });
  });
});

describe('local targets of a subscription', () => {
  const dir = path.resolve('/data/subscriptions');
  const fileOf = (arn: string | undefined): string => fileURLToPath(arn!);

  it('keep the standard targets as before (ids, files, listeners)', () => {
    const targets = STANDARD_SUBSCRIPTIONS.map((s) => localTargets(s, { dir }).map((t) => t.Id));
    expect(targets).toEqual([['topic-alarms-listener'], ['queue-anomalies-file'], ['log-conditions-file', 'log-conditions-listener']]);
  });

  it('realise webhooks, files and topic fan-out with retry policies and dead-letter files', () => {
    // prepare
    const config = buildAlertsConfig(
      {
        topics: { 'site-a': { webhooks: ['https://a.example.com/1', { url: 'https://b.example.com/2', headers: { 'X-Token': 't' } }], retry: { maximumRetryAttempts: 3 } } },
        subscriptions: [
          rule({
            targets: [
              { kind: 'webhook', url: 'https://hooks.example.com/x', headers: { Authorization: 'Bearer z' }, retry: { maximumRetryAttempts: 2, maximumEventAgeSeconds: 120 }, deadLetterFile: 'dead/x.jsonl' },
              { kind: 'file', path: 'out/site-a.jsonl' },
              { kind: 'topic', id: 'site-a' },
            ],
          }),
        ],
      },
      'subs.json',
    );
    const sub: ConfiguredSubscription = config.rules.at(-1)!.subscription;

    // act
    const targets = localTargets(sub, { dir, topics: config.topics, listeners: false });

    // assess
    expect(targets.map((t) => t.Id)).toEqual(['webhook-0', 'file-1', 'topic-site-a-webhook-0', 'topic-site-a-webhook-1']);
    const [hook, file, fanA, fanB] = targets;
    expect(hook).toMatchObject({ Arn: 'https://hooks.example.com/x', HttpParameters: { HeaderParameters: { Authorization: 'Bearer z' } }, RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 120 } });
    expect(fileOf(hook!.DeadLetterConfig?.Arn)).toBe(path.join(dir, 'dead', 'x.jsonl'));
    expect(fileOf(file!.Arn)).toBe(path.join(dir, 'out', 'site-a.jsonl'));
    expect(fileOf(file!.DeadLetterConfig?.Arn)).toBe(path.join(dir, 'dead-letters', 'site-a-alarms.jsonl'));
    expect(fanA).toMatchObject({ Arn: 'https://a.example.com/1', RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 } });
    expect(fanA!.HttpParameters).toBeUndefined();
    expect(fanB).toMatchObject({ Arn: 'https://b.example.com/2', HttpParameters: { HeaderParameters: { 'X-Token': 't' } } });
  });

  it('name the JSON-lines file of queue, log and file targets', () => {
    expect(localTargetFile({ kind: 'queue', id: 'anomalies' }, dir)).toBe(path.join(dir, 'queues', 'anomalies.jsonl'));
    expect(localTargetFile({ kind: 'log', id: 'conditions' }, dir)).toBe(path.join(dir, 'logs', 'conditions.jsonl'));
    expect(localTargetFile({ kind: 'file', path: '/abs/x.jsonl' }, dir)).toBe(path.resolve('/abs/x.jsonl'));
    expect(localTargetFile({ kind: 'topic', id: 'alarms' }, dir)).toBeUndefined();
  });

  it('refuse a rule that needs more than 5 targets instead of dropping some', () => {
    const sub = STANDARD_SUBSCRIPTIONS[0]!;
    const webhooks = { alarms: ['https://a.example.com/', 'https://b.example.com/', 'https://c.example.com/', 'https://d.example.com/', 'https://e.example.com/'] };
    expect(() => localTargets(sub, { dir, webhooks })).toThrow(/pump-alarms needs 6 local targets/);
    expect(localTargets(sub, { dir, webhooks, listeners: false })).toHaveLength(5);
  });
});
