import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { ValidationError } from '../../../shared/errors';
import { configureLogging } from '../../../shared/logging';
import { predictionsCsv, runSkabEval, SKAB_LEADERBOARD, type SkabEvalResult } from '../../eval/skab';
import { DEFAULT_PRESET, PRESETS } from '../../model-server/training/presets';
import { table } from '../output';

function pct(v: number): string {
  return `${v.toFixed(1)} %`;
}

/** The human summary of an evaluation: per file, the total, and the published leaderboard beside it. */
export function formatSkabSummary(result: SkabEvalResult): string {
  const rows = result.files.map((f) => [
    f.file,
    String(f.testRows),
    f.labelled ? f.metrics.f1.toFixed(3) : '-',
    pct(f.metrics.far),
    f.labelled ? pct(f.metrics.mar) : '-',
    `${f.confusion.tp}/${f.confusion.fp}/${f.confusion.tn}/${f.confusion.fn}`,
  ]);
  const m = result.metrics;
  const lines = [
    table(['FILE', 'TEST ROWS', 'F1', 'FAR', 'MAR', 'TP/FP/TN/FN'], rows),
    '',
    `preset ${result.preset}: F1 ${m.f1.toFixed(3)}  FAR ${pct(m.far)}  MAR ${pct(m.mar)}  (labelled files, TP ${m.tp} FP ${m.fp} TN ${m.tn} FN ${m.fn})`,
  ];
  for (const s of result.skipped) lines.push(`skipped ${s.file}: ${s.reason}`);
  if (result.unlabelled) lines.push(`unlabelled files (all rows normal): FAR ${pct(result.unlabelled.far)} over ${result.unlabelled.fp + result.unlabelled.tn} rows`);
  lines.push(
    `pipeline: ${result.pipeline.records} records, ${result.pipeline.windows} windows, ${result.pipeline.invocations} endpoint invocations, ${result.pipeline.quarantined} quarantined; ${result.seconds.toFixed(1)} s`,
    `published leaderboard (all 34 files): ${SKAB_LEADERBOARD.map((l) => `${l.name} ${l.f1.toFixed(2)}`).join(', ')}`,
  );
  return `${lines.join('\n')}\n`;
}

/** `pumpwatch eval skab DIR [--out FILE] [--preset NAME] [--json FILE]`: the SKAB benchmark through the full local pipeline. */
export function registerEval(program: Command): void {
  const evalCmd = program.command('eval').description('detection quality benchmarks through the full local pipeline');
  evalCmd
    .command('skab <dir>')
    .description('replay every SKAB file under DIR as its own pump (stream ▸ consumer ▸ learning ▸ registry ▸ endpoint ▸ condition) and score point-wise predictions')
    .option('--out <file>', 'write the predictions as CSV (file,datetime,predicted_anomaly)')
    .option('--preset <name>', `detection preset (${[...PRESETS.keys()].join(', ')})`, DEFAULT_PRESET.name)
    .option('--json <file>', 'also write the metrics (per file and total) as JSON')
    .option('--shards <n>', 'stream shards of the local stack', '2')
    .option('--idle-timeout <ms>', 'idle timeout that closes each pump\'s last windows (default 3000 for tumbling windows, 60000 for hopping)')
    .action(async (dir: string, opts: { out?: string; preset: string; json?: string; shards: string; idleTimeout?: string }) => {
      const preset = PRESETS.get(opts.preset);
      if (!preset) throw new ValidationError(`unknown preset ${JSON.stringify(opts.preset)}; one of ${[...PRESETS.keys()].join(', ')}`);
      const shards = Number(opts.shards);
      const idle = opts.idleTimeout === undefined ? undefined : Number(opts.idleTimeout);
      if (!(Number.isInteger(shards) && shards >= 1 && shards <= 16)) throw new ValidationError('--shards must be an integer 1-16');
      if (idle !== undefined && !(Number.isInteger(idle) && idle >= 1000)) throw new ValidationError('--idle-timeout must be an integer ≥ 1000 (ms)');
      configureLogging({ level: process.env.PUMPWATCH_LOG_LEVEL ?? 'warn', destination: process.stderr });
      const result = await runSkabEval({ dir, preset, shards, ...(idle !== undefined ? { idleTimeoutMs: idle } : {}), progress: (m) => process.stderr.write(`eval: ${m}\n`) });
      if (opts.out) {
        writeFileSync(opts.out, predictionsCsv(result.predictions));
        process.stderr.write(`eval: wrote ${result.predictions.length} predictions to ${opts.out}\n`);
      }
      if (opts.json) {
        const { predictions: _p, ...rest } = result;
        writeFileSync(opts.json, `${JSON.stringify(rest, null, 2)}\n`);
      }
      process.stdout.write(formatSkabSummary(result));
    });
}
