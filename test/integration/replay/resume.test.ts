import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type LocalStack, startLocalStack } from '../../../services/local/stack';
import { ENV } from '../../../shared/env';
import { encodeJson } from '../../../services/ingest/producer';
import { runReplayJob } from '../../../services/replay/replay-job';
import { DynamoDbReplayStore } from '../../../shared/stores/replay-store';
import { waitFor } from '../../support/waiting';
import { type History, liveHistory, pumpwatch, REPLAY_TEST_ENV, scanTable, windowsOf } from './support';

const ROOT = resolve(__dirname, '../../..');

/** Runs `pumpwatch ARGS…` (with the replay commands) as its own process; resolves with how it ended. */
function pumpwatchProcess(args: string[], env: Record<string, string>): Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/run-ts.js'), 'test/support/replay-cli-main.ts', '--no-env-file', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('exit', (code, signal) => done({ code, signal, output }));
  });
}

/** What a job produced, without what names the job or the moment of writing. */
async function jobEffects(stack: LocalStack, job: string) {
  const t = stack.config.names.tables;
  const quarantine = (await scanTable(stack, t.quarantine))
    .filter((q) => q.replayJobId === job)
    .map(({ id, receivedAt: _r, replayJobId: _j, ...rest }) => ({ ...rest, id: String(id).replace(`r#${job}#`, '') }))
    .sort((a, b) => a.id.localeCompare(b.id));
  const chains = (await scanTable(stack, t.replay))
    .filter((i) => i.kind === 'state' && i.job === job)
    .map((i) => {
      const { updatedAt: _u, lastSeenAt: _s, version: _v, ...rest } = i.state as Record<string, unknown>;
      return rest;
    })
    .sort((a, b) => String(a.pumpId).localeCompare(String(b.pumpId)));
  const windows = (await scanTable(stack, t.windows)).filter((w) => w.replayJobId === job);
  return { windows: await windowsOf(stack, job), keys: windows.map((w) => `${String(w.pumpId)}|${String(w.sk).replace(`r#${job}#`, '')}`).sort(), quarantine, chains };
}

/**
 * Kill and resume: a replay process SIGKILLed in the middle of a job (after some windows are
 * written, before others), run again with the same job id, ends with exactly the effects of a job
 * that was never interrupted — no window lost, none twice, the same condition chain — for both
 * sources.
 */
describe('a killed replay job resumes without loss or duplicates', () => {
  let stack: LocalStack;
  let dir: string;
  let history: History;
  const range = () => ['--from', new Date(history.fromMs).toISOString(), '--to', new Date(history.toMs).toISOString()];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pumpwatch-resume-'));
    stack = await startLocalStack({ shardCount: 2, env: REPLAY_TEST_ENV });
    // a malformed record and a schema violation arriving within the range are the job's to quarantine
    const bad = [new TextEncoder().encode('{"pumpId":"P-0001","ts":'), encodeJson({ pumpId: 'P-0003', ts: Date.now(), metrics: { pressure: 'x' } })];
    history = await liveHistory(stack, { pumps: 4, seconds: 240, agoMs: 5 * 60_000, seed: 41, dir, extra: bad });
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each([['kinesis'], ['archive']])('from %s', async (source) => {
    // the range ends now, so the bad records (which arrived in it) belong to the job
    const args = ['replay', 'start', ...range().slice(0, 2), '--to', new Date(Date.now()).toISOString(), '--source', source, '--no-progress'];
    // small batches: the job's cursors move many times before the kill
    const env = { ...stack.env, [ENV.replayBatchRecords]: '20' };
    // prepare: the same job, never interrupted
    const baseline = await pumpwatch([...args, '--job-id', `whole-${source}`, '--json'], env);
    expect(baseline.code).toBe(0);
    const whole = await jobEffects(stack, `whole-${source}`);
    expect(whole.windows.length).toBeGreaterThanOrEqual(4 * 24);
    expect(whole.quarantine).toHaveLength(2);

    // act: a process killed after 40 window writes, then the same job again
    const job = `killed-${source}`;
    const killed = await pumpwatchProcess([...args, '--job-id', job], { ...env, [ENV.faults]: 'crash@after-history-write#40' });
    expect({ signal: killed.signal, output: killed.signal ? '' : killed.output }).toEqual({ signal: 'SIGKILL', output: '' });
    const partial = await jobEffects(stack, job);
    expect(partial.windows.length).toBeGreaterThanOrEqual(39);
    expect(partial.windows.length).toBeLessThan(whole.windows.length);
    const status = await pumpwatch(['replay', 'status', job, '--json'], env);
    expect(JSON.parse(status.stdout)).toMatchObject({ jobId: job, status: 'running' });
    // progress was kept: cursors hold records whose effects were durable before the kill
    const kept = (await scanTable(stack, stack.config.names.tables.replay))
      .filter((i) => i.kind === 'cursor' && i.job === job)
      .reduce((n, c) => n + Number(c.records), 0);
    expect(kept).toBeGreaterThan(0);
    const resumed = await pumpwatch([...args, '--job-id', job, '--json'], env);

    // assess: the same effects as the uninterrupted job, each once; the same totals
    expect(resumed.code).toBe(0);
    const out = JSON.parse(resumed.stdout) as { status: string; resumed: boolean; runs: number; summary: Record<string, number>; run: { records: number } };
    expect(out).toMatchObject({ status: 'completed', resumed: true, runs: 2 });
    // the second run went on from the cursors: it read only what the first had not finished
    expect(out.run.records).toBe(history.records - kept);
    const after = await jobEffects(stack, job);
    expect(after.keys).toEqual(whole.keys);
    expect(new Set(after.keys).size).toBe(after.keys.length);
    expect(after.windows).toEqual(whole.windows);
    expect(after.quarantine).toEqual(whole.quarantine);
    expect(after.chains).toEqual(whole.chains);
    const base = JSON.parse(baseline.stdout) as { summary: Record<string, number> };
    const counts = (s: Record<string, number>) => ({ records: s.records, windows: s.windows, pumps: s.pumps, scored: s.scored, quarantined: s.quarantined });
    expect(counts(out.summary)).toEqual(counts(base.summary));
    expect(out.summary.records).toBe(history.records);
  }, 50_000);

  it('cancel stops a running job at a safe point; starting it again finishes it', async () => {
    // prepare: the uninterrupted job, and a running one in small batches that renews its heartbeat often
    const to = new Date(Date.now()).toISOString();
    const args = ['replay', 'start', ...range().slice(0, 2), '--to', to, '--source', 'kinesis', '--no-progress'];
    expect((await pumpwatch([...args, '--job-id', 'whole-for-cancel'], stack.env)).code).toBe(0);
    const store = new DynamoDbReplayStore(stack.clients.doc, stack.config.names.tables.replay);
    const job = 'cancelled';
    const running = runReplayJob(
      { ...stack.config, replay: { batchRecords: 5 } },
      stack.clients,
      { jobId: job, fromMs: history.fromMs, toMs: Date.parse(to), source: 'kinesis' },
      { heartbeatMs: 100 },
    );
    await waitFor('the job under way', async () => ((await store.getJob(job))?.progress?.windows ?? 0) >= 10, 20_000, 50);
    // act
    const cancel = await pumpwatch(['replay', 'cancel', job], stack.env);
    const outcome = await running;
    // assess: stopped, cancelled, resumable
    expect(cancel.stdout).toMatch(/cancel requested/);
    expect(outcome.job.status).toBe('cancelled');
    const stopped = await jobEffects(stack, job);
    expect(stopped.windows.length).toBeLessThan((await jobEffects(stack, 'whole-for-cancel')).windows.length);
    const list = JSON.parse((await pumpwatch(['replay', 'list', '--json'], stack.env)).stdout) as { jobId: string; status: string }[];
    expect(list.find((j) => j.jobId === job)?.status).toBe('cancelled');
    const resumed = await pumpwatch([...args, '--job-id', job], stack.env);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/completed \(run 2, resumed from its cursors\)/);
    const [after, whole] = [await jobEffects(stack, job), await jobEffects(stack, 'whole-for-cancel')];
    expect(after).toEqual(whole);
    const status = await pumpwatch(['replay', 'status', job], stack.env);
    expect(status.stdout).toMatch(/completed/);
    expect(status.stdout).toMatch(/windows +\d+ over 4 pumps/);
  }, 50_000);
});
