import { ValidationError } from '../../../shared/errors';
import { SKAB_CHANNELS } from '../../../shared/schemas/channels';
import type { Sample } from '../../../shared/schemas/telemetry';

/**
 * SKAB (Skoltech Anomaly Benchmark) files and the benchmark's point-wise protocol, pure:
 * parsing a file, turning rows into telemetry samples, mapping window conditions back to rows,
 * and the confusion counts and F1 / FAR / MAR the published leaderboard uses.
 *
 * Format: `;`-separated, a header row, `datetime` as `YYYY-MM-DD hh:mm:ss` (UTC), sensor columns,
 * and in labelled files `anomaly` and `changepoint` as 0.0/1.0. Line endings are mixed.
 */

/** Rows of each file used for training under the benchmark's protocol. */
export const SKAB_TRAIN_ROWS = 400;

/** A file that is not in SKAB format; the message names the line. */
export class SkabFormatError extends ValidationError {}

export interface SkabRow {
  /** 1-based line number in the file (the header is line 1). */
  readonly line: number;
  /** The datetime exactly as written in the file. */
  readonly datetime: string;
  /** Epoch ms, UTC. */
  readonly ts: number;
  /** Sensor readings by column name, in file order. */
  readonly values: Readonly<Record<string, number>>;
  /** 0/1 when the file has an `anomaly` column. */
  readonly anomaly?: 0 | 1;
  readonly changepoint?: 0 | 1;
}

export interface SkabSeries {
  /** Sensor column names, in file order (without datetime and the label columns). */
  readonly columns: readonly string[];
  readonly labelled: boolean;
  readonly rows: readonly SkabRow[];
}

const DATETIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?$/;
const LABEL_COLUMNS = new Set(['anomaly', 'changepoint']);

/** `YYYY-MM-DD hh:mm:ss[.fff]` (no zone, UTC) to epoch ms; NaN when it does not read. */
export function parseSkabDatetime(text: string): number {
  const m = DATETIME.exec(text);
  if (!m) return Number.NaN;
  const [, y, mo, d, h, mi, s, frac] = m;
  const ms = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!, frac ? Math.round(Number(frac) * 1000) : 0);
  // Date.UTC rolls over (month 13, second 61); a real datetime round-trips.
  const check = new Date(ms);
  if (check.getUTCDate() !== +d! || check.getUTCMonth() !== +mo! - 1 || check.getUTCHours() !== +h!) return Number.NaN;
  return ms;
}

function parseLabel(text: string, where: string): 0 | 1 {
  const v = Number(text);
  if (v === 0 || v === 1) return v;
  throw new SkabFormatError(`${where}: label ${JSON.stringify(text)} is not 0 or 1`);
}

/** Parses one SKAB CSV file. `source` (e.g. the path) prefixes error messages. */
export function parseSkabCsv(text: string, source = 'skab'): SkabSeries {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const header = (lines[0] ?? '').split(';').map((h) => h.trim());
  if (header[0] !== 'datetime') throw new SkabFormatError(`${source}:1: header must start with "datetime"`);
  const anomalyCol = header.indexOf('anomaly');
  const changepointCol = header.indexOf('changepoint');
  const sensorCols = header.map((h, i) => [h, i] as const).filter(([h, i]) => i > 0 && !LABEL_COLUMNS.has(h));
  if (sensorCols.length === 0) throw new SkabFormatError(`${source}:1: no sensor columns`);
  const rows: SkabRow[] = [];
  for (let li = 1; li < lines.length; li++) {
    const line = lines[li]!;
    if (line.trim() === '') continue;
    const where = `${source}:${li + 1}`;
    const cells = line.split(';');
    if (cells.length !== header.length) throw new SkabFormatError(`${where}: expected ${header.length} fields, got ${cells.length}`);
    const datetime = cells[0]!.trim();
    const ts = parseSkabDatetime(datetime);
    if (!Number.isFinite(ts)) throw new SkabFormatError(`${where}: datetime ${JSON.stringify(datetime)} is not YYYY-MM-DD hh:mm:ss`);
    const values: Record<string, number> = {};
    for (const [name, i] of sensorCols) {
      const cell = cells[i]!.trim();
      const v = Number(cell);
      if (cell === '' || !Number.isFinite(v)) throw new SkabFormatError(`${where}: ${name} ${JSON.stringify(cell)} is not a finite number`);
      values[name] = v;
    }
    rows.push({
      line: li + 1,
      datetime,
      ts,
      values,
      ...(anomalyCol >= 0 ? { anomaly: parseLabel(cells[anomalyCol]!.trim(), where) } : {}),
      ...(changepointCol >= 0 ? { changepoint: parseLabel(cells[changepointCol]!.trim(), where) } : {}),
    });
  }
  return { columns: sensorCols.map(([h]) => h), labelled: anomalyCol >= 0, rows };
}

/** The pipeline channel of a SKAB column: the catalogue's name, or the column sanitised. */
export function skabChannel(column: string): string {
  return SKAB_CHANNELS[column] ?? (column.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '').toLowerCase() || 'channel');
}

/** A SKAB row as a telemetry sample (channels named as in the catalogue). */
export function skabSample(row: SkabRow, seq?: number): Sample {
  const metrics: Record<string, number> = {};
  for (const [column, value] of Object.entries(row.values)) metrics[skabChannel(column)] = value;
  return seq === undefined ? { ts: row.ts, metrics } : { ts: row.ts, seq, metrics };
}

/** One evaluated window of a pump: its end and whether the condition after it was WARNING/ALARM. */
export interface WindowOutcome {
  readonly windowEnd: number;
  readonly anomalous: boolean;
}

/**
 * Point-wise predictions from window outcomes. With hop H, the row at time t takes the condition
 * after the window ending at floor(t/H)·H + H (the newest window containing it); when that
 * window was not evaluated, the latest window that ended at or before t; 0 when there is none.
 */
export function pointwisePredictions(rowTimes: readonly number[], windows: readonly WindowOutcome[], hopMs: number): (0 | 1)[] {
  const byEnd = new Map<number, boolean>();
  for (const w of windows) byEnd.set(w.windowEnd, w.anomalous);
  const ends = [...byEnd.keys()].sort((a, b) => a - b);
  const latestAtOrBefore = (t: number): boolean | undefined => {
    let lo = 0;
    let hi = ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ends[mid]! <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 ? byEnd.get(ends[lo - 1]!) : undefined;
  };
  return rowTimes.map((t) => {
    const end = Math.floor(t / hopMs) * hopMs + hopMs;
    const hit = byEnd.get(end) ?? latestAtOrBefore(t);
    return hit ? 1 : 0;
  });
}

export interface Confusion {
  readonly tp: number;
  readonly fp: number;
  readonly tn: number;
  readonly fn: number;
}

export const EMPTY_CONFUSION: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };

/** Confusion counts of point-wise predictions against labels (same length). */
export function confusion(labels: readonly (0 | 1)[], predictions: readonly (0 | 1)[]): Confusion {
  if (labels.length !== predictions.length) throw new RangeError(`labels (${labels.length}) and predictions (${predictions.length}) differ in length`);
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  labels.forEach((y, i) => {
    const p = predictions[i];
    if (y === 1 && p === 1) tp += 1;
    else if (y === 1) fn += 1;
    else if (p === 1) fp += 1;
    else tn += 1;
  });
  return { tp, fp, tn, fn };
}

/** Sums confusion counts (the benchmark sums over files before computing metrics). */
export function addConfusion(...cs: readonly Confusion[]): Confusion {
  return cs.reduce((a, c) => ({ tp: a.tp + c.tp, fp: a.fp + c.fp, tn: a.tn + c.tn, fn: a.fn + c.fn }), EMPTY_CONFUSION);
}

export interface SkabMetrics extends Confusion {
  /** TP / (TP + (FP + FN)/2); 1 when there is nothing to find and nothing was flagged. */
  readonly f1: number;
  /** False-alarm rate, percent: 100·FP/(FP+TN) (0 without negatives). */
  readonly far: number;
  /** Missed-alarm rate, percent: 100·FN/(FN+TP) (0 without positives). */
  readonly mar: number;
}

/** F1 / FAR / MAR as defined by the SKAB leaderboard. */
export function skabMetrics(c: Confusion): SkabMetrics {
  const wrong = c.fp + c.fn;
  const f1 = c.tp + wrong === 0 ? 1 : c.tp / (c.tp + wrong / 2);
  const far = c.fp + c.tn === 0 ? 0 : (100 * c.fp) / (c.fp + c.tn);
  const mar = c.fn + c.tp === 0 ? 0 : (100 * c.fn) / (c.fn + c.tp);
  return { ...c, f1, far, mar };
}

/** The test part of a series under the protocol: every row from `SKAB_TRAIN_ROWS` on. */
export function skabTestRows(series: SkabSeries, trainRows = SKAB_TRAIN_ROWS): readonly SkabRow[] {
  return series.rows.slice(trainRows);
}
