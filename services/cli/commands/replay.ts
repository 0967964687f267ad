import type { Command } from 'commander';
import { ValidationError } from '../../../shared/errors';
import {
  DynamoDbReplayStore,
  REPLAY_EVENT_MODES,
  REPLAY_SOURCES,
  type ReplayEventMode,
  type ReplayJob,
  type ReplayProgress,
  type ReplaySource,
  type ReplaySummary,
} from '../../../shared/stores/replay-store';
import { type ReplayOutcome, runReplayJob } from '../../replay/replay-job';
import { describeSpec } from '../../replay/spec';
import type { CliContext } from '../context';
import { iso, paint, printJson, Progress, table } from '../output';
import { parseTimeFlag } from './queries';

/** Stream retention by default: a replay starting within it reads Kinesis unless told otherwise. */
const KINESIS_DEFAULT_RETENTION_MS = 24 * 3_600_000;

const int = (n: number): string => Math.round(n).toLocaleString('en-US');

function summaryLines(s: ReplaySummary): string[] {
  return [
    `  records      ${int(s.records)} (${int(s.recordsPerSecond)} records/s, ${s.realTimeFactor.toFixed(1)}× real time, ${(s.durationMs / 1000).toFixed(1)} s)`,
    `  windows      ${int(s.windows)} over ${int(s.pumps)} pumps: ${int(s.scored)} scored, ${int(s.unscored)} unscored, ${int(s.unrouted)} unrouted`,
    `  quarantined  ${int(s.quarantined)}`,
  ];
}

function statusColor(status: ReplayJob['status']): string {
  return status === 'completed' ? 'green' : status === 'failed' ? 'red' : status === 'running' ? 'cyan' : 'yellow';
}

/** The end summary of `replay start`. */
function printOutcome(o: ReplayOutcome): void {
  const { job, run } = o;
  const lines: string[] = [];
  if (o.noop) {
    lines.push(`replay job ${job.jobId} already completed at ${iso(job.finishedAt)}: nothing to do, nothing written`);
    if (job.summary) lines.push(...summaryLines(job.summary));
    process.stdout.write(`${lines.join('\n')}\n`);
    return;
  }
  lines.push(
    `replay job ${job.jobId}: ${paint(statusColor(job.status), job.status)} (run ${job.runs}${o.resumed ? ', resumed from its cursors' : ''}) — ${describeSpec(job.spec)}`,
  );
  if (job.summary) lines.push(...summaryLines(job.summary));
  const perWindow = run.windows > 0 ? (run.invocations / run.windows).toFixed(2) : '-';
  lines.push(
    `  this run     read ${int(run.records)} records in ${(run.durationMs / 1000).toFixed(1)} s (${int(run.records / Math.max(run.durationMs / 1000, 0.001))} records/s); ` +
      `wrote ${int(run.written)} windows (${int(run.windows - run.written)} already stored), ${int(run.quarantined)} quarantined, ${int(run.events)} events; ` +
      `${int(run.invocations)} SageMaker invocations (${perWindow} per window)`,
  );
  if (job.error) lines.push(`  error        ${job.error}`);
  if (job.status === 'interrupted' || job.status === 'failed') lines.push(`  run \`pumpwatch replay start ... --job-id ${job.jobId}\` again to resume`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

function jobJson(job: ReplayJob): Record<string, unknown> {
  return {
    jobId: job.jobId,
    status: job.status,
    spec: { ...job.spec, from: iso(job.spec.fromMs), to: iso(job.spec.toMs) },
    runs: job.runs,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    ...(job.finishedAt ? { finishedAt: job.finishedAt } : {}),
    ...(job.runner ? { runner: job.runner } : {}),
    ...(job.progress ? { progress: job.progress } : {}),
    ...(job.summary ? { summary: job.summary } : {}),
    ...(job.error ? { error: job.error } : {}),
    ...(job.pinned ? { pinnedModel: job.pinned } : {}),
  };
}

function progressText(p: ReplayProgress | undefined): string {
  if (!p) return '-';
  const pct = p.total > 0 ? Math.min(100, Math.floor((p.done / p.total) * 100)) : 0;
  return `${pct}% (${int(p.done)}/${int(p.total)} ${p.unit}; ${int(p.records)} records, ${int(p.windows)} windows)`;
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new ValidationError(`${flag} must be one of ${allowed.join(', ')} (got ${JSON.stringify(value)})`);
  return value as T;
}

/** `pumpwatch replay start|status|list|cancel`: backfills and re-scoring through the pipeline's own code. */
export function registerReplay(program: Command, ctx: () => CliContext): void {
  const replay = program
    .command('replay')
    .description('replay history through the pipeline (backfills, re-scoring with another model version); results are tagged with the job id');

  replay
    .command('start')
    .description('run a replay job (or resume it: the same inputs, or the same --job-id, go on from where it stopped)')
    .requiredOption('--from <time>', 'event-time start (ISO-8601, epoch ms, or -15m/-2h/-1d)')
    .requiredOption('--to <time>', 'event-time end, exclusive')
    .option('--pump <id...>', 'only these pumps (repeatable)')
    .option('--source <source>', `kinesis (AT_TIMESTAMP, within the stream's retention) or archive (the raw archive in S3); default: kinesis when --from is within the last 24 h, else archive`)
    .option('--model <model>', 'approved (what routing picks, frozen at job creation), a version number of each pump\'s model group, or <modelGroup>:<version> for all pumps', 'approved')
    .option('--events <mode>', 'none, or tagged (published with detail.replay; live subscriptions exclude them)', 'none')
    .option('--job-id <id>', 'job id (default: derived from the inputs)')
    .option('--force', 'take the job over even if its runner looks alive')
    .option('--no-progress', 'no progress bar')
    .option('--json', 'machine-readable summary on stdout')
    .action(
      async (opts: { from: string; to: string; pump?: string[]; source?: string; model: string; events: string; jobId?: string; force?: boolean; progress: boolean; json?: boolean }) => {
        const c = ctx();
        const now = Date.now();
        const fromMs = parseTimeFlag(opts.from, now);
        const toMs = parseTimeFlag(opts.to, now);
        const source: ReplaySource = opts.source
          ? oneOf('--source', opts.source, REPLAY_SOURCES)
          : fromMs >= now - KINESIS_DEFAULT_RETENTION_MS
            ? 'kinesis'
            : 'archive';
        const events: ReplayEventMode = oneOf('--events', opts.events, REPLAY_EVENT_MODES);
        let bar: Progress | undefined;
        const onProgress = opts.progress
          ? (p: ReplayProgress): void => {
              if (p.total <= 0) return;
              bar ??= new Progress(`replay (${source}, ${p.unit})`, Math.ceil(p.total));
              bar.update(Math.floor(p.done), `${int(p.records)} records, ${int(p.windows)} windows, ${int(p.quarantined)} quarantined`);
            }
          : undefined;
        // Ctrl-C / SIGTERM (ECS stop): stop gracefully; the cursors keep the progress.
        const abort = new AbortController();
        const onSignal = (signal: NodeJS.Signals): void => {
          if (abort.signal.aborted) process.exit(130);
          process.stderr.write(`\n${signal}: stopping the replay at a safe point (again to exit now)\n`);
          abort.abort(new Error(signal));
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
        let outcome: ReplayOutcome;
        try {
          outcome = await runReplayJob(
            c.config,
            c.clients,
            { ...(opts.jobId ? { jobId: opts.jobId } : {}), fromMs, toMs, ...(opts.pump ? { pumps: opts.pump } : {}), source, model: opts.model, events },
            { signal: abort.signal, ...(onProgress ? { onProgress } : {}), ...(opts.force ? { force: true } : {}) },
          );
        } finally {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
        }
        // The bar ends its own line on a terminal; the summary goes to stdout.
        if (bar && process.stderr.isTTY) process.stderr.write('\n');
        if (opts.json) printJson({ ...jobJson(outcome.job), noop: outcome.noop, resumed: outcome.resumed, run: outcome.run });
        else printOutcome(outcome);
        if (!outcome.noop && outcome.job.status !== 'completed') process.exitCode = 1;
      },
    );

  replay
    .command('status')
    .description('one replay job: status, inputs, progress, summary')
    .argument('<job>', 'job id')
    .option('--json', 'machine-readable output')
    .action(async (jobId: string, opts: { json?: boolean }) => {
      const c = ctx();
      const job = await new DynamoDbReplayStore(c.clients.doc, c.config.names.tables.replay).getJob(jobId);
      if (!job) throw new ValidationError(`no replay job ${jobId}`);
      if (opts.json) return printJson(jobJson(job));
      const lines = [
        `${job.jobId}  ${paint(statusColor(job.status), job.status)}  (${job.runs} run${job.runs === 1 ? '' : 's'}, created ${iso(job.createdAt)}${job.finishedAt ? `, finished ${iso(job.finishedAt)}` : ''})`,
        `  inputs       ${describeSpec(job.spec)}`,
        ...(job.pinned ? [`  model        ${job.pinned.modelGroup} v${job.pinned.version} (${job.pinned.target})`] : []),
        ...(job.runner && job.status === 'running' ? [`  runner       ${job.runner.host} pid ${job.runner.pid}, heartbeat ${iso(job.runner.heartbeatAt)}`] : []),
        ...(job.status === 'running' || !job.summary ? [`  progress     ${progressText(job.progress)}`] : []),
        ...(job.summary ? summaryLines(job.summary) : []),
        ...(job.error ? [`  error        ${job.error}`] : []),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  replay
    .command('list')
    .description('every replay job, newest first')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const c = ctx();
      const jobs = await new DynamoDbReplayStore(c.clients.doc, c.config.names.tables.replay).listJobs();
      if (opts.json) return printJson(jobs.map(jobJson));
      if (jobs.length === 0) {
        process.stdout.write('no replay jobs\n');
        return;
      }
      process.stdout.write(
        `${table(
          ['JOB', 'STATUS', 'SOURCE', 'FROM', 'TO', 'PUMPS', 'MODEL', 'EVENTS', 'RUNS', 'WINDOWS', 'CREATED'],
          jobs.map((j) => [
            j.jobId,
            paint(statusColor(j.status), j.status),
            j.spec.source,
            iso(j.spec.fromMs),
            iso(j.spec.toMs),
            j.spec.pumps ? String(j.spec.pumps.length) : 'all',
            j.spec.model,
            j.spec.events,
            String(j.runs),
            j.summary ? int(j.summary.windows) : j.progress ? `${int(j.progress.windows)}…` : '-',
            iso(j.createdAt),
          ]),
        )}\n`,
      );
    });

  replay
    .command('cancel')
    .description('stop a running replay job at a safe point (it can be resumed later with replay start)')
    .argument('<job>', 'job id')
    .option('--json', 'machine-readable output')
    .action(async (jobId: string, opts: { json?: boolean }) => {
      const c = ctx();
      const store = new DynamoDbReplayStore(c.clients.doc, c.config.names.tables.replay);
      const before = await store.getJob(jobId);
      if (!before) throw new ValidationError(`no replay job ${jobId}`);
      if (before.status === 'completed') throw new ValidationError(`replay job ${jobId} has already completed`);
      const job = (await store.cancel(jobId, Date.now()))!;
      if (opts.json) return printJson(jobJson(job));
      process.stdout.write(
        before.status === 'running'
          ? `replay job ${jobId}: cancel requested; its runner stops at its next heartbeat (a few seconds)\n`
          : `replay job ${jobId}: cancelled\n`,
      );
    });
}
