import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { ValidationError } from '../../../shared/errors';
import { parseIsoTimestamp, type Sample, validateTelemetry } from '../../../shared/schemas/telemetry';
import { encodeJson, KinesisProducer, type ProducerRecord } from '../../ingest/producer';
import { parseSkabCsv, skabSample } from '../../model-server/training/skab';
import type { CliContext } from '../context';
import { Progress } from '../output';

/** A pump id from a file path: `valve1/3.csv` → `valve1-3`. */
export function pumpIdFromPath(path: string): string {
  const parts = path.replace(/\\/g, '/').split('/').filter(Boolean);
  const file = basename(parts.pop() ?? 'pump', extname(path));
  const dir = parts.pop();
  return `${dir ? `${dir}-` : ''}${file}`.replace(/[^A-Za-z0-9._:-]/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'pump';
}

/** Reads a comma-separated CSV with a time column (ts / timestamp / time / datetime) and numeric channels. */
export function parseCommaCsv(text: string, source: string): Sample[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = (lines[0] ?? '').split(',').map((h) => h.trim());
  const timeCol = header.findIndex((h) => ['ts', 'timestamp', 'time', 'datetime'].includes(h.toLowerCase()));
  if (timeCol < 0) throw new ValidationError(`${source}:1: no time column (ts, timestamp, time or datetime)`);
  return lines.slice(1).map((line, i) => {
    const cells = line.split(',');
    const raw = cells[timeCol]!.trim();
    const ts = /^\d{12,}$/.test(raw) ? Number(raw) : parseIsoTimestamp(raw);
    if (!Number.isFinite(ts)) throw new ValidationError(`${source}:${i + 2}: cannot read time ${JSON.stringify(raw)}`);
    const metrics: Record<string, number> = {};
    header.forEach((h, j) => {
      if (j === timeCol) return;
      const v = Number(cells[j]);
      if (cells[j] !== undefined && cells[j]!.trim() !== '' && Number.isFinite(v)) metrics[h] = v;
    });
    return { ts, metrics };
  });
}

export interface IngestPlan {
  readonly records: ProducerRecord[];
  readonly samples: number;
  /** Lines that are not valid telemetry (JSON lines input), with why. */
  readonly invalid: string[];
}

/**
 * Turns input files into telemetry records: SKAB / CSV files become one pump each (batch
 * records of `batchSamples`); JSON-lines files are taken record by record (validated first).
 */
export function planIngest(
  files: readonly string[],
  options: { pumpId?: string; batchSamples: number; nowMs: number; maxFutureSkewMs: number; includeInvalid?: boolean },
): IngestPlan {
  const records: ProducerRecord[] = [];
  const invalid: string[] = [];
  let samples = 0;
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const ext = extname(file).toLowerCase();
    if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') {
      text.split(/\r?\n/).forEach((line, i) => {
        if (line.trim() === '') return;
        const reject = (why: string, pumpId?: string): void => {
          invalid.push(`${file}:${i + 1}: ${why}`);
          // Sent anyway on request: the pipeline quarantines it with its reason.
          if (options.includeInvalid) records.push({ partitionKey: pumpId ?? `invalid-${basename(file)}`, data: new TextEncoder().encode(line) });
        };
        let raw: unknown;
        try {
          raw = JSON.parse(line);
        } catch {
          reject('not JSON');
          return;
        }
        const r = validateTelemetry(raw, options.nowMs, options.maxFutureSkewMs);
        if (!r.ok) {
          reject(`${r.reason}: ${r.detail}`, r.pumpId);
          return;
        }
        records.push({ partitionKey: r.telemetry.pumpId, data: encodeJson(raw) });
        samples += r.telemetry.samples.length;
      });
      continue;
    }
    const pumpId = options.pumpId ?? pumpIdFromPath(file);
    const firstLine = text.slice(0, text.indexOf('\n') >>> 0);
    const list: Sample[] = firstLine.includes(';') ? parseSkabCsv(text, file).rows.map((row, i) => skabSample(row, i)) : parseCommaCsv(text, file);
    for (let i = 0; i < list.length; i += options.batchSamples) {
      records.push({ partitionKey: pumpId, data: encodeJson({ pumpId, samples: list.slice(i, i + options.batchSamples) }) });
    }
    samples += list.length;
  }
  return { records, samples, invalid };
}

/** `pumpwatch ingest FILE…`: CSV (incl. SKAB) and JSON-lines files onto the stream. */
export function registerIngest(program: Command, ctx: () => CliContext): void {
  program
    .command('ingest <files...>')
    .description('send telemetry files to the stream: SKAB/CSV (one pump per file) or JSON lines (one record per line)')
    .option('--pump <id>', 'pump id for CSV files (default: from the file path, e.g. valve1-3)')
    .option('--batch <n>', 'samples per record for CSV files', '10')
    .option('--aggregate', 'KPL-aggregate records (fewer Kinesis records)')
    .option('--send-invalid', 'also send JSON lines that fail validation (the pipeline quarantines them)')
    .option('--json', 'print the summary as JSON')
    .action(async (files: string[], opts: { pump?: string; batch: string; aggregate?: boolean; sendInvalid?: boolean; json?: boolean }) => {
      const c = ctx();
      const plan = planIngest(files, {
        pumpId: opts.pump,
        batchSamples: Number(opts.batch),
        nowMs: Date.now(),
        maxFutureSkewMs: c.config.window.maxFutureSkewMs,
        includeInvalid: !!opts.sendInvalid,
      });
      for (const line of plan.invalid.slice(0, 20)) process.stderr.write(`invalid: ${line}\n`);
      if (plan.invalid.length > 20) process.stderr.write(`... and ${plan.invalid.length - 20} more invalid lines\n`);
      const producer = new KinesisProducer(c.clients.kinesis, { streamName: c.config.names.streamName, aggregate: !!opts.aggregate });
      const progress = new Progress('ingest', plan.records.length);
      const started = Date.now();
      const result = await producer.putAll(plan.records, (sent) => progress.update(sent));
      const seconds = (Date.now() - started) / 1000;
      const summary = { files: files.length, records: result.sent, samples: plan.samples, invalidLines: plan.invalid.length, retried: result.retried, seconds };
      if (opts.json) {
        progress.done('');
        process.stdout.write(`${JSON.stringify(summary)}\n`);
      } else {
        progress.done(`sent ${result.sent} records (${plan.samples} samples) from ${files.length} file(s) in ${seconds.toFixed(1)} s${plan.invalid.length ? `; ${plan.invalid.length} invalid lines ${opts.sendInvalid ? 'sent for quarantine' : 'skipped'}` : ''}`);
      }
      if (plan.invalid.length > 0 && !opts.sendInvalid) process.exitCode = 1;
      c.close();
    });
}
