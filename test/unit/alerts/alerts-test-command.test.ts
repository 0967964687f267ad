import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import JSON5 from 'json5';
import { ALERTS_TEST_EXIT } from '../../../services/cli/commands/alerts';
import { DETAIL_TYPES } from '../../../shared/schemas/events';
import { STANDARD_SUBSCRIPTIONS } from '../../../shared/subscriptions';
import { pumpEvent } from './pump-events';
import { runAlerts } from './run-cli';
import { sharedDataPath } from '../../support/shared-data';

/** The EventBridge conformance cases (see test/unit/event-pattern/conformance.test.ts). */
const CASES_DIR = sharedDataPath('eventbridge-patterns');
const itWithCases = fs.existsSync(CASES_DIR) ? it : it.skip;

const alarmPattern = { source: ['pumpwatch'], 'detail-type': [DETAIL_TYPES.conditionChanged], detail: { state: ['ALARM'] } };

/** The same ALARM condition change as the bus delivers it (full EventBridge envelope). */
function envelopeOf(e: ReturnType<typeof pumpEvent>): Record<string, unknown> {
  return {
    version: '0',
    id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
    'detail-type': e.detailType,
    source: 'pumpwatch',
    account: '123456789012',
    time: '2026-01-01T00:00:10Z',
    region: 'eu-west-1',
    resources: [],
    detail: e.detail,
  };
}

describe('pumpwatch alerts test', () => {
  let dir: string;
  const file = (name: string, content: unknown): string => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    return p;
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pumpwatch-alerts-test-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe('--pattern P --event E', () => {
    it.each([
      ['a pumpwatch event (outbox shape)', () => pumpEvent({ state: 'ALARM' })],
      ['an EventBridge envelope', () => envelopeOf(pumpEvent({ state: 'ALARM' }))],
    ])('exits 0 when the pattern matches %s', async (_what, event) => {
      // prepare
      const pattern = file('p.json', alarmPattern);
      const e = file('e.json', event());

      // act
      const run = await runAlerts(['alerts', 'test', '--pattern', pattern, '--event', e]);

      // assess
      expect(run).toMatchObject({ code: ALERTS_TEST_EXIT.match, stdout: 'match\n', stderr: '' });
    });

    it.each([
      ['a pumpwatch event (outbox shape)', () => pumpEvent({ state: 'WARNING' })],
      ['an EventBridge envelope', () => envelopeOf(pumpEvent({ state: 'WARNING' }))],
    ])('exits 1 when it does not match %s', async (_what, event) => {
      const run = await runAlerts(['alerts', 'test', '--pattern', file('p.json', alarmPattern), '--event', file('e.json', event())]);
      expect(run).toMatchObject({ code: ALERTS_TEST_EXIT.noMatch, stdout: 'no match\n', stderr: '' });
    });

    it.each<[string, string]>([
      ['a prefix with a number (EventBridge: _EXC)', JSON.stringify({ detail: { pumpId: [{ prefix: 42 }] } })],
      ['equals-ignore-case combined with prefix', JSON.stringify({ 'detail-type': [{ 'equals-ignore-case': { prefix: 'pump' } }] })],
      ['anything-but equals-ignore-case of a number', JSON.stringify({ detail: { state: [{ 'anything-but': { 'equals-ignore-case': 123 } }] } })],
      ['a leaf that is not an array', JSON.stringify({ source: 'pumpwatch' })],
      ['text that is not JSON', '{"source": ["pumpwatch"'],
    ])('exits 2 with the reason on stderr for an invalid pattern: %s', async (_what, text) => {
      const run = await runAlerts(['alerts', 'test', '--pattern', file('p.json', text), '--event', file('e.json', pumpEvent({}))]);
      expect(run.code).toBe(ALERTS_TEST_EXIT.invalid);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/^error: .*p\.json: Event pattern is not valid\. Reason: .+\n$/);
    });

    it('prints {"match": …} with --json', async () => {
      const run = await runAlerts(['alerts', 'test', '--json', '--pattern', file('p.json', alarmPattern), '--event', file('e.json', pumpEvent({}))]);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual({ match: true });
    });

    it('fills a pumpwatch event in as the bus would deliver it (source, account, region, time)', async () => {
      const e = file('e.json', pumpEvent({ windowStart: Date.UTC(2026, 0, 1, 0, 0, 0) }));
      const pattern = { source: ['pumpwatch'], account: ['000000000000'], region: ['us-east-1'], time: [{ prefix: '2026-01-01T00:00:10' }], id: [{ prefix: 'evt-' }] };
      const run = await runAlerts(['alerts', 'test', '--pattern', file('p.json', pattern), '--event', e]);
      expect(run.code).toBe(0);
    });

    it('exits 2 when the event file is not an event', async () => {
      const pattern = file('p.json', alarmPattern);
      const cases = [file('a.json', [pumpEvent({})]), file('b.json', { hello: 'world' }), file('c.json', '{ not json'), path.join(dir, 'missing.json')];
      for (const e of cases) {
        const run = await runAlerts(['alerts', 'test', '--pattern', pattern, '--event', e]);
        expect(run.code).toBe(ALERTS_TEST_EXIT.invalid);
        expect(run.stderr).toMatch(/^error: /);
      }
    });

    it('is a usage error (exit 2) without --event', async () => {
      const run = await runAlerts(['alerts', 'test', '--pattern', file('p.json', alarmPattern)]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/required option '--event <file>'/);
    });

    itWithCases(`gives every EventBridge conformance case the exit code its name says (skipped when ${CASES_DIR} is absent)`, async () => {
      const names = fs.readdirSync(CASES_DIR).filter((f) => f.endsWith('.json5'));
      expect(names.length).toBeGreaterThanOrEqual(100);
      for (const name of names) {
        const { Event, EventPattern } = JSON5.parse<{ Event: unknown; EventPattern: unknown }>(fs.readFileSync(path.join(CASES_DIR, name), 'utf8'));
        const run = await runAlerts(['alerts', 'test', '--pattern', file('p.json', EventPattern), '--event', file('e.json', Event)]);
        const expected = name.endsWith('_EXC.json5') ? 2 : name.endsWith('_NEG.json5') ? 1 : 0;
        expect({ name, code: run.code }).toEqual({ name, code: expected });
      }
    });
  });

  describe('--event E alone: which configured subscriptions match', () => {
    it('lists the standard subscriptions an ALARM condition change reaches (exit 0)', async () => {
      const run = await runAlerts(['alerts', 'test', '--event', file('e.json', pumpEvent({ state: 'ALARM' }))]);
      expect(run.code).toBe(0);
      expect(run.stdout.split('\n').filter(Boolean).map((l) => l.split(/\s+/)[0])).toEqual(['pump-alarms', 'pump-condition-log']);
    });

    it.each([
      ['an anomaly', pumpEvent({ detailType: DETAIL_TYPES.anomalyDetected }), ['pump-anomalies', 'pump-condition-log']],
      ['a WARNING condition change', pumpEvent({ state: 'WARNING' }), ['pump-condition-log']],
      ['a data-quality change', pumpEvent({ detailType: DETAIL_TYPES.dataQualityDegraded, state: 'NORMAL' }), ['pump-condition-log']],
    ])('%s', async (_what, event, expected) => {
      const run = await runAlerts(['alerts', 'test', '--json', '--event', file('e.json', event)]);
      expect(run.code).toBe(0);
      expect((JSON.parse(run.stdout) as { matches: { name: string }[] }).matches.map((m) => m.name)).toEqual(expected);
    });

    it('exits 1 when none matches: a replayed event reaches none of the live-only standard rules', async () => {
      const replayed = pumpEvent({ state: 'ALARM', replay: { jobId: 'job-7', startedAt: '2026-01-02T00:00:00Z' } });
      const run = await runAlerts(['alerts', 'test', '--event', file('e.json', replayed)]);
      expect(run.code).toBe(1);
      expect(run.stdout).toBe(`no configured subscription matches (${STANDARD_SUBSCRIPTIONS.length} tried)\n`);
    });

    it('includes the subscriptions file, and hides webhook secrets', async () => {
      // prepare
      const subs = file('subs.json', {
        subscriptions: [
          {
            name: 'backfill-audit',
            description: 'Replayed alarms, for the backfill audit.',
            pattern: { source: ['pumpwatch'], detail: { state: ['ALARM'], replay: { jobId: [{ exists: true }] } } },
            targets: [{ kind: 'webhook', url: 'https://hooks.example.com/services/T0/B0/secret' }],
          },
        ],
      });
      const replayed = pumpEvent({ state: 'ALARM', replay: { jobId: 'job-7', startedAt: '2026-01-02T00:00:00Z' } });

      // act
      const run = await runAlerts(['alerts', 'test', '--subscriptions', subs, '--event', file('e.json', replayed)]);

      // assess
      expect(run.code).toBe(0);
      expect(run.stdout).toBe('backfill-audit  (file)  → webhook https://hooks.example.com/…\n');
      expect(run.stdout).not.toContain('secret');
    });

    it('exits 2 when the subscriptions file is invalid, naming the rule', async () => {
      const subs = file('subs.json', {
        subscriptions: [{ name: 'broken', description: '', pattern: { detail: { state: [{ wildcard: 'A**' }] } }, targets: [{ kind: 'file', path: 'x.jsonl' }] }],
      });
      const run = await runAlerts(['alerts', 'test', '--subscriptions', subs, '--event', file('e.json', pumpEvent({}))]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^error: .*subs\.json: subscription broken: Event pattern is not valid/);
    });
  });
});
