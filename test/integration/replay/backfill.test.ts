import { PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type EventBridgeEnvelope, listenerArn } from '../../../services/local/eventbridge/index';
import { type LocalStack, startLocalStack } from '../../../services/local/stack';
import { listenToSubscriptions } from '../../../services/local/subscriptions';
import { EVENT_SOURCE } from '../../../shared/names';
import { DETAIL_TYPES } from '../../../shared/schemas/events';
import { cursorKey } from '../../../shared/stores/replay-store';
import { STANDARD_SUBSCRIPTIONS } from '../../../shared/subscriptions';
import { waitFor } from '../../support/waiting';
import { type History, liveHistory, pumpwatch, REPLAY_TEST_ENV, scanTable, windowsOf } from './support';

type Detail = { eventId: string; pumpId: string; replay?: { jobId: string; startedAt: string } };

/**
 * A backfill of old data next to a live pipeline: the pumps' current state is never touched (the
 * job keeps its own condition chain), events are off by default or published tagged with the job
 * (the standard live subscriptions do not receive them), and running a completed job again, or
 * re-reading all of a job's input, writes nothing.
 */
describe('replay as a backfill', () => {
  let stack: LocalStack;
  let dir: string;
  let history: History;
  const all: EventBridgeEnvelope[] = [];
  const standard: { rule: string; event: EventBridgeEnvelope }[] = [];

  const tables = () => Object.values(stack.config.names.tables);
  const snapshot = async () => Object.fromEntries(await Promise.all(tables().map(async (t) => [t, sortItems(await scanTable(stack, t))])));
  const sortItems = (items: Record<string, unknown>[]) => items.map((i) => JSON.stringify(i)).sort();
  const replay = (args: string[]) =>
    pumpwatch(['replay', 'start', '--from', new Date(history.fromMs).toISOString(), '--to', new Date(history.toMs).toISOString(), '--no-progress', '--source', 'kinesis', ...args], stack.env);
  /** Events the standard subscriptions' queue and log targets wrote to their files. */
  const subscriptionFiles = (): Detail[] =>
    ['queues', 'logs']
      .map((d) => join(dir, d))
      .filter((d) => existsSync(d))
      .flatMap((d) => readdirSync(d).map((f) => join(d, f)))
      .flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean))
      .map((l) => (JSON.parse(l) as { detail: Detail }).detail);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pumpwatch-backfill-'));
    stack = await startLocalStack({ shardCount: 2, env: REPLAY_TEST_ENV });
    listenToSubscriptions(stack.eventBridge, STANDARD_SUBSCRIPTIONS, (rule, event) => {
      standard.push({ rule, event });
    });
    const { clients, config } = stack;
    await clients.eventBridge.send(new PutRuleCommand({ Name: 'everything', EventBusName: config.names.eventBusName, EventPattern: JSON.stringify({ source: [EVENT_SOURCE] }) }));
    await clients.eventBridge.send(new PutTargetsCommand({ Rule: 'everything', EventBusName: config.names.eventBusName, Targets: [{ Id: 'all', Arn: listenerArn('all') }] }));
    stack.eventBridge.addListener('all', (e) => {
      all.push(e);
    });
    history = await liveHistory(stack, { pumps: 3, seconds: 120, agoMs: 15 * 60_000, seed: 31, dir });
    await stack.eventBridge.drain(5_000);
    // the live run raised the fault's alarm, and the live subscriptions received it
    expect(standard.some((s) => s.rule === 'pump-alarms' && (s.event.detail as Detail).pumpId === 'P-0002')).toBe(true);
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('never moves the live pump state; the job has its own condition chain', async () => {
    const state = stack.config.names.tables.state;
    const before = sortItems(await scanTable(stack, state));
    const run = await replay(['--job-id', 'bf-none']);
    expect(run.code).toBe(0);
    expect(sortItems(await scanTable(stack, state))).toEqual(before);
    // the job's chain ends where the live one does (same data, same model)
    const chains = (await scanTable(stack, stack.config.names.tables.replay)).filter((i) => i.kind === 'state' && i.job === 'bf-none');
    expect(chains).toHaveLength(3);
    const live = (await scanTable(stack, state)).map((s) => (s as { pumpId: string; memory: unknown }));
    for (const c of chains) {
      const chain = (c as { state: { pumpId: string; memory: unknown } }).state;
      expect(chain.memory).toEqual(live.find((s) => s.pumpId === chain.pumpId)!.memory);
    }
    // events: none by default
    const outbox = await scanTable(stack, stack.config.names.tables.events);
    expect(outbox.filter((e) => (e.detail as Detail).replay)).toEqual([]);
    expect(await windowsOf(stack, 'bf-none')).toEqual(await windowsOf(stack));
  }, 30_000);

  it('publishes tagged events that the standard live subscriptions do not receive', async () => {
    const delivered = all.length;
    const stateBefore = sortItems(await scanTable(stack, stack.config.names.tables.state));
    const run = await replay(['--job-id', 'bf-tagged', '--events', 'tagged']);
    expect(run.code).toBe(0);
    const outbox = await scanTable(stack, stack.config.names.tables.events);
    const tagged = outbox.filter((e) => (e.detail as Detail).replay?.jobId === 'bf-tagged');
    // the same condition changes as live (the fault's alarm included), under the job's own ids
    const liveEvents = outbox.filter((e) => !(e.detail as Detail).replay && e.detailType !== DETAIL_TYPES.pumpEnrolled);
    expect(tagged.map((e) => `${e.pumpId}|${e.detailType}|${e.time}`).sort()).toEqual(liveEvents.map((e) => `${e.pumpId}|${e.detailType}|${e.time}`).sort());
    expect(tagged.some((e) => e.pumpId === 'P-0002' && e.detailType === DETAIL_TYPES.conditionChanged && (e.detail as { state: string }).state === 'ALARM')).toBe(true);
    expect(new Set(tagged.map((e) => e.eventId)).size).toBe(tagged.length);
    for (const e of tagged) expect(liveEvents.map((l) => l.eventId)).not.toContain(e.eventId);
    expect(tagged.every((e) => typeof e.publishedAt === 'number')).toBe(true);
    // published: a rule on everything sees them with detail.replay; the live subscriptions do not
    await waitFor('tagged events on the bus', () => all.filter((e) => (e.detail as Detail).replay?.jobId === 'bf-tagged').length === tagged.length, 10_000);
    await stack.eventBridge.drain(5_000);
    expect(all.length - delivered).toBe(tagged.length);
    expect(standard.filter((s) => (s.event.detail as Detail).replay)).toEqual([]);
    expect(subscriptionFiles().filter((d) => d.replay)).toEqual([]);
    expect(subscriptionFiles().length).toBeGreaterThan(0);
    expect(sortItems(await scanTable(stack, stack.config.names.tables.state))).toEqual(stateBefore);
  }, 30_000);

  it('running a completed job again writes nothing, and says so', async () => {
    const before = await snapshot();
    const delivered = all.length;
    const json = await replay(['--job-id', 'bf-tagged', '--events', 'tagged', '--json']);
    const text = await replay(['--job-id', 'bf-tagged', '--events', 'tagged']);
    expect([json.code, text.code]).toEqual([0, 0]);
    expect(JSON.parse(json.stdout)).toMatchObject({ jobId: 'bf-tagged', status: 'completed', noop: true, run: { records: 0, written: 0 } });
    expect(text.stdout).toMatch(/already completed .*nothing to do, nothing written/);
    await stack.eventBridge.drain(2_000);
    expect(await snapshot()).toEqual(before);
    expect(all.length).toBe(delivered);
  }, 30_000);

  it('re-reading all of a job\'s input (cursors gone) writes no new effect', async () => {
    // prepare: make the completed job look as if no progress had been kept
    const { doc } = stack.clients;
    const t = stack.config.names.tables;
    const cursors = (await scanTable(stack, t.replay)).filter((i) => i.kind === 'cursor' && i.job === 'bf-tagged');
    expect(cursors.length).toBeGreaterThan(0);
    for (const c of cursors) await doc.send(new DeleteCommand({ TableName: t.replay, Key: { jobId: c.jobId } }));
    expect(cursors.map((c) => c.jobId)).toContain(cursorKey('bf-tagged', String(cursors[0]!.partition)));
    await doc.send(
      new UpdateCommand({ TableName: t.replay, Key: { jobId: 'bf-tagged' }, UpdateExpression: 'SET #s = :s', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':s': 'interrupted' } }),
    );
    const effects = async () => Object.fromEntries(await Promise.all([t.windows, t.events, t.quarantine, t.state].map(async (n) => [n, sortItems(await scanTable(stack, n))])));
    const before = await effects();
    const delivered = all.length;
    // act
    const run = await replay(['--job-id', 'bf-tagged', '--events', 'tagged', '--json']);
    // assess: everything read again, nothing new written or published
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as { status: string; resumed: boolean; run: { records: number; windows: number; written: number; events: number }; summary: { records: number } };
    expect(out).toMatchObject({ status: 'completed', resumed: true });
    expect(out.run.records).toBe(history.records);
    expect(out.run.windows).toBe(3 * 12);
    expect(out.run).toMatchObject({ written: 0, events: 0 });
    expect(out.summary.records).toBe(history.records);
    await stack.eventBridge.drain(2_000);
    expect(await effects()).toEqual(before);
    expect(all.length).toBe(delivered);
  }, 30_000);

  it('refuses to run a job another process is running, unless told to take it over', async () => {
    // prepare: a job whose runner on another host renewed its heartbeat just now
    const t = stack.config.names.tables;
    expect((await replay(['--job-id', 'bf-busy'])).code).toBe(0);
    await stack.clients.doc.send(
      new UpdateCommand({
        TableName: t.replay,
        Key: { jobId: 'bf-busy' },
        UpdateExpression: 'SET #s = :running, runner = :runner',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: { ':running': 'running', ':runner': { runId: 'other', host: 'elsewhere', pid: 1, startedAt: Date.now(), heartbeatAt: Date.now() } },
      }),
    );
    // act
    const refused = await replay(['--job-id', 'bf-busy']);
    const forced = await replay(['--job-id', 'bf-busy', '--force', '--json']);
    // assess
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/bf-busy is running on elsewhere .*--force/);
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ status: 'completed', runs: 2, run: { written: 0 } });
  }, 30_000);
});
