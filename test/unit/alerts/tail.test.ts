import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildAlertsConfig, standardAlertsConfig } from '../../../services/alerts/config';
import { JsonLinesFollower, planTail, SubscriptionTail } from '../../../services/alerts/tail';
import type { EventBridgeEnvelope } from '../../../services/local/eventbridge';
import { DETAIL_TYPES, type PumpEvent } from '../../../shared/schemas/events';
import { pumpEvent } from './pump-events';
import { runAlerts } from './run-cli';

let counter = 0;

/** A pump event as the local bus writes it to a JSON-lines target. */
function delivered(e: PumpEvent, id = `bus-${++counter}`): EventBridgeEnvelope {
  return {
    version: '0',
    id,
    'detail-type': e.detailType,
    source: 'pumpwatch',
    account: '000000000000',
    time: new Date(e.time).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: 'us-east-1',
    resources: [],
    detail: e.detail,
  };
}

function append(file: string, ...events: unknown[]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(file, events.map((e) => `${typeof e === 'string' ? e : JSON.stringify(e)}\n`).join(''));
}

describe('alerts tail', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pumpwatch-tail-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe('JsonLinesFollower', () => {
    it('yields complete lines only, follows appends, waits for files that do not exist yet, and restarts a truncated file', async () => {
      // prepare
      const a = path.join(dir, 'a.jsonl');
      const b = path.join(dir, 'b.jsonl');
      fs.writeFileSync(a, '1\n2\n');
      const follower = new JsonLinesFollower([a, b]);
      await follower.start(false);

      // act + assess: nothing before the start
      expect(await follower.poll()).toEqual([]);
      fs.appendFileSync(a, '3\n{"partial":');
      expect(await follower.poll()).toEqual([{ file: a, line: '3' }]);
      fs.appendFileSync(a, 'true}\n');
      fs.writeFileSync(b, 'b1\r\n');
      expect(await follower.poll()).toEqual([
        { file: a, line: '{"partial":true}' },
        { file: b, line: 'b1' },
      ]);
      fs.writeFileSync(a, 'new\n');
      expect(await follower.poll()).toEqual([{ file: a, line: 'new' }]);
    });

    it('reads what the files hold when started from the beginning', async () => {
      const a = path.join(dir, 'a.jsonl');
      fs.writeFileSync(a, '1\n2\n');
      const follower = new JsonLinesFollower([a]);
      await follower.start(true);
      expect((await follower.poll()).map((l) => l.line)).toEqual(['1', '2']);
    });
  });

  describe('planTail', () => {
    it('follows a rule through its own files, and a topic-only rule through all subscription files', () => {
      const config = standardAlertsConfig();
      expect(planTail(config, dir, ['pump-anomalies'])).toEqual(expect.objectContaining({ files: [path.join(dir, 'queues', 'anomalies.jsonl')], borrowed: [] }));
      expect(planTail(config, dir, ['pump-alarms'])).toEqual(
        expect.objectContaining({ files: [path.join(dir, 'queues', 'anomalies.jsonl'), path.join(dir, 'logs', 'conditions.jsonl')], borrowed: ['pump-alarms'] }),
      );
      expect(() => planTail(config, dir, ['nope'])).toThrow(/no subscription named nope \(configured: pump-alarms, pump-anomalies, pump-condition-log\)/);
    });
  });

  describe('SubscriptionTail', () => {
    it('shows each event once per rule whose pattern matches, however many files it reached', async () => {
      // prepare
      const config = standardAlertsConfig();
      const tail = new SubscriptionTail(planTail(config, dir));
      await tail.start(false);
      const alarm = delivered(pumpEvent({ pumpId: 'P-1', state: 'ALARM' }));
      const anomaly = delivered(pumpEvent({ pumpId: 'P-2', detailType: DETAIL_TYPES.anomalyDetected }));
      const warning = delivered(pumpEvent({ pumpId: 'P-3', state: 'WARNING' }));

      // act: as the bus writes them (an anomaly reaches the queue and the log)
      append(path.join(dir, 'logs', 'conditions.jsonl'), alarm, anomaly, warning);
      append(path.join(dir, 'queues', 'anomalies.jsonl'), anomaly);
      const seen = await tail.poll();

      // assess (files are read one after the other: order holds within a file, not across files)
      expect(seen.map((e) => [e.rule, e.event.detail.pumpId]).sort()).toEqual([
        ['pump-alarms', 'P-1'],
        ['pump-anomalies', 'P-2'],
        ['pump-condition-log', 'P-1'],
        ['pump-condition-log', 'P-2'],
        ['pump-condition-log', 'P-3'],
      ]);
      // A redelivery (same bus event id) is not shown again.
      append(path.join(dir, 'queues', 'anomalies.jsonl'), anomaly);
      expect(await tail.poll()).toEqual([]);
    });

    it('skips lines that are not EventBridge events, warning once per file', async () => {
      const warnings: string[] = [];
      const tail = new SubscriptionTail(planTail(standardAlertsConfig(), dir, ['pump-anomalies']), { onInvalidLine: (file, reason) => warnings.push(`${path.basename(file)}: ${reason}`) });
      await tail.start(false);
      append(path.join(dir, 'queues', 'anomalies.jsonl'), 'not json', { a: 1 }, delivered(pumpEvent({ detailType: DETAIL_TYPES.anomalyDetected })));
      expect(await tail.poll()).toHaveLength(1);
      expect(warnings).toEqual(['anomalies.jsonl: a line is not JSON']);
    });

    it('follows a file target of the subscriptions file, relative to the subscriptions folder', async () => {
      const config = buildAlertsConfig(
        { subscriptions: [{ name: 'site-b', description: '', pattern: { detail: { siteId: ['site-b'] } }, targets: [{ kind: 'file', path: 'out/site-b.jsonl' }] }] },
        'subs.json',
      );
      const tail = new SubscriptionTail(planTail(config, dir, ['site-b']));
      await tail.start(false);
      append(path.join(dir, 'out', 'site-b.jsonl'), delivered(pumpEvent({ siteId: 'site-b', replay: { jobId: 'j', startedAt: '2026-01-01T00:00:00Z' } })));
      expect((await tail.poll()).map((e) => e.rule)).toEqual(['site-b']);
    });

    it('follows until aborted', async () => {
      const tail = new SubscriptionTail(planTail(standardAlertsConfig(), dir, ['pump-condition-log']));
      await tail.start(false);
      const stop = new AbortController();
      const got: string[] = [];
      const following = tail.follow({
        signal: stop.signal,
        intervalMs: 5,
        onEvent: (e) => {
          got.push(String(e.event.detail.pumpId));
          if (got.length === 2) stop.abort();
        },
      });
      append(path.join(dir, 'logs', 'conditions.jsonl'), delivered(pumpEvent({ pumpId: 'P-1' })));
      setTimeout(() => append(path.join(dir, 'logs', 'conditions.jsonl'), delivered(pumpEvent({ pumpId: 'P-2' }))), 20);
      await following;
      expect(got).toEqual(['P-1', 'P-2']);
    });
  });

  describe('the command', () => {
    it('prints what the files hold with --from-beginning --no-follow, per rule', async () => {
      append(path.join(dir, 'logs', 'conditions.jsonl'), delivered(pumpEvent({ pumpId: 'P-7', state: 'ALARM' })));
      const run = await runAlerts(['alerts', 'tail', '--dir', dir, '--from-beginning', '--no-follow', '--rule', 'pump-alarms']);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^\[pump-alarms\] 2026-01-01T00:00:10Z {2}ALARM {4}P-7 {2}Pump Condition Changed: score 4\.20 vs threshold 1\.50/);
      expect(run.stderr).toMatch(/pump-alarms writes no local file; showing the events in the other subscription files that match/);
    });

    it('prints {rule, file, event} lines with --json', async () => {
      const event = delivered(pumpEvent({ detailType: DETAIL_TYPES.anomalyDetected }));
      append(path.join(dir, 'queues', 'anomalies.jsonl'), event);
      const run = await runAlerts(['alerts', 'tail', '--dir', dir, '--from-beginning', '--no-follow', '--json', '--rule', 'pump-anomalies']);
      expect(run.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([{ rule: 'pump-anomalies', file: path.join(dir, 'queues', 'anomalies.jsonl'), event }]);
    });

    it('fails (exit 1) for an unknown rule and rejects a bad interval (exit 2)', async () => {
      expect(await runAlerts(['alerts', 'tail', '--dir', dir, '--no-follow', '--rule', 'nope'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/no subscription named nope/) });
      expect((await runAlerts(['alerts', 'tail', '--dir', dir, '--interval', '0'])).code).toBe(2);
    });

    it('says plainly that it follows the local stack, and how this maps on AWS', async () => {
      const run = await runAlerts(['alerts', 'tail', '--help']);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/LOCAL stack/);
      expect(run.stdout).toMatch(/SQS queue/);
      expect(run.stdout).toMatch(/CloudWatch Logs group/);
    });
  });
});
