import type { Command } from 'commander';
import { parseIsoTimestamp } from '../../../shared/schemas/telemetry';
import { ValidationError } from '../../../shared/errors';
import { type CliContext } from '../context';
import { iso, num, paint, printJson, stateColor, table } from '../output';

/** Parses a time flag: ISO-8601, epoch ms, or a relative `-15m` / `-2h` / `-1d`. */
export function parseTimeFlag(value: string, nowMs: number): number {
  const rel = /^-(\d+)([smhd])$/.exec(value);
  if (rel) return nowMs - Number(rel[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 's' | 'm' | 'h' | 'd'];
  if (/^\d{12,}$/.test(value)) return Number(value);
  const ms = parseIsoTimestamp(value);
  if (!Number.isFinite(ms)) throw new ValidationError(`cannot read time ${JSON.stringify(value)}: use ISO-8601, epoch ms, or -15m/-2h/-1d`);
  return ms;
}

/** `pumpwatch status [--pump ID] [--json]`: current condition of each pump. */
export function registerStatus(program: Command, ctx: () => CliContext): void {
  program
    .command('status')
    .description('current condition of every pump (or one)')
    .option('--pump <id>', 'only this pump')
    .option('--json', 'machine-readable output')
    .action(async (opts: { pump?: string; json?: boolean }) => {
      const c = ctx();
      const { state, pumps } = c.stores;
      const all = opts.pump ? [await state.get(opts.pump)].filter((s) => s !== undefined) : await state.list();
      if (opts.pump && all.length === 0) {
        const known = await pumps.get(opts.pump);
        if (!known) throw new ValidationError(`pump ${opts.pump} is not registered and has sent no data`);
      }
      const registry = new Map((await pumps.list()).map((p) => [p.pumpId, p]));
      const rows = all.map((s) => ({
        pumpId: s.pumpId,
        tenantId: registry.get(s.pumpId)?.tenantId ?? null,
        siteId: registry.get(s.pumpId)?.siteId ?? null,
        pumpType: registry.get(s.pumpId)?.pumpType ?? null,
        state: s.memory.state,
        score: s.lastScore,
        threshold: s.lastThreshold,
        topChannels: s.topChannels,
        model: s.lastModel,
        lastWindowStart: s.memory.lastWindowStart,
        lastWindowEnd: s.memory.lastWindowEnd,
        updatedAt: s.updatedAt,
      }));
      if (opts.json) return printJson(opts.pump ? (rows[0] ?? null) : rows);
      if (rows.length === 0) {
        process.stdout.write('no pump has been evaluated yet\n');
        return;
      }
      process.stdout.write(
        `${table(
          ['PUMP', 'SITE', 'TYPE', 'STATE', 'SCORE', 'THRESHOLD', 'TOP CHANNELS', 'MODEL', 'LAST WINDOW END'],
          rows.map((r) => [
            r.pumpId,
            r.siteId ?? '-',
            r.pumpType ?? '-',
            paint(stateColor(r.state), r.state),
            num(r.score),
            num(r.threshold),
            r.topChannels.join(',') || '-',
            r.model ? `${r.model.modelId} v${r.model.version}` : '-',
            iso(r.lastWindowEnd),
          ]),
        )}\n`,
      );
    });
}

/** `pumpwatch history --pump ID [--from T --to T] [--json]`: stored windows of a pump. */
export function registerHistory(program: Command, ctx: () => CliContext): void {
  program
    .command('history')
    .description('window history of a pump: features, scores and the condition after each window')
    .requiredOption('--pump <id>', 'pump id')
    .option('--from <time>', 'start (ISO-8601, epoch ms, or -15m / -2h / -1d)', '-1h')
    .option('--to <time>', 'end (same forms); default now')
    .option('--replay <jobId>', 'the windows a replay job wrote instead of the live ones')
    .option('--limit <n>', 'at most this many windows', '500')
    .option('--json', 'machine-readable output (includes the feature vectors)')
    .action(async (opts: { pump: string; from: string; to?: string; replay?: string; limit: string; json?: boolean }) => {
      const now = Date.now();
      const from = parseTimeFlag(opts.from, now);
      const to = opts.to ? parseTimeFlag(opts.to, now) : now + 1;
      const items = await ctx().stores.windows.query(opts.pump, { from, to, replayJobId: opts.replay, limit: Number(opts.limit) });
      if (opts.json) return printJson(items);
      if (items.length === 0) {
        process.stdout.write(`no windows for ${opts.pump} between ${iso(from)} and ${iso(to)}\n`);
        return;
      }
      process.stdout.write(
        `${table(
          ['WINDOW START', 'SAMPLES', 'STATUS', 'SCORE', 'THRESHOLD', 'LEVEL', 'STATE', 'MODEL', 'TOP CHANNEL'],
          items.map((w) => {
            const top = Object.entries(w.score?.contributions ?? {}).sort((a, b) => b[1] - a[1])[0];
            return [
              iso(w.windowStart),
              `${w.features.quality.receivedSamples}/${w.features.quality.expectedSamples}`,
              w.status,
              num(w.score?.score),
              num(w.score?.threshold),
              w.level ?? '-',
              w.state ? paint(stateColor(w.state), w.state) : '-',
              w.model ? `v${w.model.version}` : '-',
              top ? `${top[0]} ${Math.round(top[1] * 100)}%` : '-',
            ];
          }),
        )}\n`,
      );
    });
}
