import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CliContext } from '../../../services/cli/context';
import { loadConfig } from '../../../shared/config';
import { STANDARD_SUBSCRIPTIONS } from '../../../shared/subscriptions';
import { runAlerts } from './run-cli';

describe('pumpwatch alerts list', () => {
  let dir: string;
  let subs: string;
  // The AWS configuration (no endpoints): no local bus to ask.
  const awsContext = (): CliContext => new CliContext(loadConfig({}));

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pumpwatch-alerts-list-'));
    subs = path.join(dir, 'subs.json');
    fs.writeFileSync(
      subs,
      JSON.stringify({
        topics: { alarms: { webhooks: ['https://pager.example.com/hooks/abc123', { url: 'https://chat.example.com/', headers: { Authorization: 'Bearer s3cr3t' } }] } },
        subscriptions: [
          {
            name: 'site-a',
            description: 'Everything from site A.',
            pattern: { source: ['pumpwatch'], detail: { siteId: ['site-a'] } },
            targets: [
              { kind: 'webhook', url: 'https://hooks.example.com/T0/B0/token', headers: { Authorization: 'Bearer s3cr3t' }, retry: { maximumRetryAttempts: 3 } },
              { kind: 'file', path: 'site-a.jsonl' },
            ],
          },
        ],
      }),
    );
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('lists the standard subscriptions and those of the file, with patterns and targets', async () => {
    const run = await runAlerts(['alerts', 'list', '--subscriptions', subs], awsContext);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`subscriptions: standard + ${subs}`);
    for (const s of STANDARD_SUBSCRIPTIONS) {
      expect(run.stdout).toContain(`${s.name} (standard)`);
      expect(run.stdout).toContain(`pattern  ${JSON.stringify(s.pattern)}`);
    }
    expect(run.stdout).toContain('site-a (file)');
    expect(run.stdout).toContain('topic alarms (AWS: SNS topic; local: 2 webhooks + console)');
    expect(run.stdout).toContain('webhook https://hooks.example.com/… (local only; 3 retries)');
    expect(run.stdout).not.toMatch(/s3cr3t|abc123|token/);
  });

  it('prints JSON with --json, without secrets', async () => {
    const run = await runAlerts(['alerts', 'list', '--json', '--subscriptions', subs], awsContext);
    const list = JSON.parse(run.stdout) as { name: string; origin: string; bus: unknown; targets: unknown[] }[];
    expect(list.map((s) => [s.name, s.origin, s.bus])).toEqual([
      ['pump-alarms', 'standard', null],
      ['pump-anomalies', 'standard', null],
      ['pump-condition-log', 'standard', null],
      ['site-a', 'file', null],
    ]);
    expect(list[0]!.targets).toEqual([{ kind: 'topic', id: 'alarms', webhooks: ['https://pager.example.com/…', 'https://chat.example.com'] }]);
    expect(list[3]!.targets).toEqual([
      { kind: 'webhook', url: 'https://hooks.example.com/…', headers: ['Authorization'], retry: { maximumRetryAttempts: 3 } },
      { kind: 'file', path: 'site-a.jsonl' },
    ]);
    expect(run.stdout).not.toMatch(/s3cr3t|abc123|token/);
  });

  it('fails with the file and rule named when the subscriptions file is invalid', async () => {
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ subscriptions: [{ name: 'x', description: '', pattern: { detail: { n: [{ numeric: ['>', 'five'] }] } }, targets: [{ kind: 'file', path: 'x' }] }] }));
    const run = await runAlerts(['alerts', 'list', '--subscriptions', bad], awsContext);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: .*bad\.json: subscription x: Event pattern is not valid/);
  });
});
