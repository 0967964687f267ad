import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { ENV } from '../../shared/env';
import { PumpwatchError, ValidationError } from '../../shared/errors';
import { ConditionPolicySchema } from '../../shared/schemas/condition';
import type { PumpRecord } from '../../shared/schemas/pump';
import { DynamoDbPumpRegistry } from '../../shared/stores/pump-registry';
import { DynamoDbQuarantineStore } from '../../shared/stores/quarantine-store';
import { DynamoDbWindowStore, type WindowItem } from '../../shared/stores/window-store';
import { createWorker, type Worker } from '../consumer/worker';
import { encodeJson, KinesisProducer, type ProducerRecord } from '../ingest/producer';
import { type LocalStack, startLocalStack } from '../local/stack';
import { DEFAULT_PRESET, type DetectionPreset } from '../model-server/training/presets';
import { windowSamples } from '../model-server/training/replay';
import {
  addConfusion,
  type Confusion,
  confusion,
  EMPTY_CONFUSION,
  parseSkabCsv,
  pointwisePredictions,
  SKAB_TRAIN_ROWS,
  skabMetrics,
  type SkabMetrics,
  skabSample,
  type SkabSeries,
} from '../model-server/training/skab';
import { createLearningCoordinator, type LearningCoordinator } from '../registry/learning';

/**
 * `pumpwatch eval skab DIR`: the SKAB benchmark through the full local pipeline. Every SKAB
 * file under DIR is its own pump; its rows go through the real producer onto the stream, a real
 * consumer worker windows and stores them, the learning coordinator fits the pump's baseline on
 * its training part and approves it in the registry, the local SageMaker endpoint serves it
 * from S3, and the condition after each window, read back from the window history, gives the
 * point-wise predictions (`pointwisePredictions`, training/skab.ts).
 *
 * Protocol (../shared/data/README.md): the first 400 rows of a file train, the rest are
 * predicted. A window ending at or before the time of row 400 is a learning window (stored
 * UNROUTED, condition LEARNING, trained on); every later window is scored — the same split as
 * the in-process replay (`evaluateSkabSeries`), so both give the same predictions.
 *
 * How the pipeline is driven so that split holds exactly, with event-time windows:
 * - the watermark is the pump's newest event time (out-of-orderness and lateness 0: a file's
 *   rows are in time order and each pump's records are sent in order, one batch at a time);
 * - phase 1 sends the rows of the learning windows (`learningSplit`); they close by the
 *   watermark and, the last one, by the idle timeout; no scored window is open yet;
 * - the baselines are trained and approved, then phase 2 sends the rest; the last windows close
 *   by the idle timeout again.
 * The `NO_DATA` sweep is disabled through the pump policy (`noDataAfterMs` ≈ 100 years): SKAB
 * data is from 2020, and silence measured on the wall clock says nothing about it. Nothing else
 * bounds the past (the future-skew check bounds only the future).
 */

/** The published SKAB leaderboard (outlier detection, all 34 labelled files): F1, FAR %, MAR %. */
export const SKAB_LEADERBOARD: readonly { readonly name: string; readonly f1: number; readonly far: number; readonly mar: number }[] = [
  { name: 'Conv-AE', f1: 0.78, far: 13.55, mar: 28.02 },
  { name: 'MSET', f1: 0.78, far: 39.73, mar: 14.13 },
  { name: 'T²+Q (PCA)', f1: 0.76, far: 26.62, mar: 24.92 },
  { name: 'LSTM-AE', f1: 0.74, far: 29.96, mar: 25.92 },
  { name: 'T²', f1: 0.66, far: 19.21, mar: 42.6 },
  { name: 'Isolation Forest', f1: 0.29, far: 2.56, mar: 82.89 },
];

/** Condition silence that never fires for replayed data (100 years). */
export const EVAL_NO_DATA_AFTER_MS = 100 * 365 * 86_400_000;

/** The evaluation could not run (a file, the pipeline, or a timeout). */
export class EvalError extends PumpwatchError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'EVAL_FAILED', cause });
  }
}

/** A SKAB-format file: header starting `datetime;`. */
function isSkabFile(path: string): boolean {
  const head = readFileSync(path, 'utf8').slice(0, 200).replace(/^\uFEFF/, '');
  return head.startsWith('datetime;');
}

/** Natural order (`valve1/2.csv` before `valve1/10.csv`). */
const collator = new Intl.Collator('en', { numeric: true });

/** SKAB-format CSV files under `dir` (recursively), as paths relative to it with `/`, in natural order. */
export function findSkabFiles(dir: string): string[] {
  let st;
  try {
    st = statSync(dir);
  } catch (err) {
    throw new ValidationError(`${dir}: no such directory`, err);
  }
  if (!st.isDirectory()) throw new ValidationError(`${dir} is not a directory`);
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile() && entry.name.toLowerCase().endsWith('.csv') && isSkabFile(p)) out.push(relative(dir, p).split(sep).join('/'));
    }
  };
  walk(dir);
  return out.sort((a, b) => collator.compare(a, b));
}

/** A pump id for a file: `valve1/3.csv` → `skab-valve1-3`, unique among `taken` (which it joins). */
export function skabPumpId(file: string, taken: Set<string>): string {
  const base = `skab-${file.replace(/\.csv$/i, '').replace(/[^A-Za-z0-9._:-]+/g, '-')}`.slice(0, 120);
  let id = base;
  for (let i = 2; taken.has(id); i++) id = `${base}-${i}`;
  taken.add(id);
  return id;
}

/**
 * Where a series splits: learning windows end at or before `trainEndMs` (the time of row 400);
 * phase 1 sends the rows before `cutMs`. With tumbling windows the cut is the end E of the last
 * learning window, so phase 1 fills only learning windows and the idle timeout closes the last
 * of them. With hopping windows rows before E also fill scored windows, so phase 1 runs up to
 * the end of the first scored window, E + hop, whose arrival closes every learning window by the
 * watermark while the scored ones stay open (then the idle timeout must outlast the learning
 * step).
 */
export function learningSplit(
  series: SkabSeries,
  window: { readonly sizeMs: number; readonly hopMs: number },
  trainRows = SKAB_TRAIN_ROWS,
): { trainEndMs: number; cutMs: number } {
  if (series.rows.length <= trainRows) throw new ValidationError(`needs more than ${trainRows} rows, has ${series.rows.length}`);
  const trainEndMs = series.rows[trainRows]!.ts;
  const lastLearningEnd = Math.floor(trainEndMs / window.hopMs) * window.hopMs;
  return { trainEndMs, cutMs: window.sizeMs === window.hopMs ? lastLearningEnd : lastLearningEnd + window.hopMs };
}

/** One row of the predictions file. */
export interface PredictionRow {
  readonly file: string;
  readonly datetime: string;
  readonly predicted: 0 | 1;
}

function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The predictions file: header `file,datetime,predicted_anomaly`, one line per test row. */
export function predictionsCsv(rows: readonly PredictionRow[]): string {
  return `file,datetime,predicted_anomaly\n${rows.map((r) => `${csvField(r.file)},${csvField(r.datetime)},${r.predicted}`).join('\n')}${rows.length > 0 ? '\n' : ''}`;
}

export interface SkabFileResult {
  readonly file: string;
  readonly pumpId: string;
  readonly rows: number;
  readonly testRows: number;
  readonly labelled: boolean;
  readonly windows: number;
  /** The version that scored the test windows. */
  readonly model: string;
  readonly confusion: Confusion;
  readonly metrics: SkabMetrics;
}

export interface SkabEvalResult {
  readonly preset: string;
  readonly files: readonly SkabFileResult[];
  /** Files with no test part (at most 400 rows), left out. */
  readonly skipped: readonly { readonly file: string; readonly reason: string }[];
  /** Over the labelled files (TP/FP/TN/FN summed first, as the benchmark does). */
  readonly metrics: SkabMetrics;
  /** Over unlabelled files (every test row is normal: only false alarms can happen). */
  readonly unlabelled: SkabMetrics | null;
  readonly predictions: readonly PredictionRow[];
  readonly seconds: number;
  readonly pipeline: {
    readonly records: number;
    readonly samples: number;
    readonly windows: number;
    readonly quarantined: number;
    readonly invocations: number;
  };
}

export interface SkabEvalOptions {
  readonly dir: string;
  readonly preset?: DetectionPreset;
  /** Only these files (relative to `dir`); default every SKAB file under it. */
  readonly files?: readonly string[];
  /** Stream shards (default 2). */
  readonly shards?: number;
  /**
   * The idle timeout that closes each pump's last windows (default 3 s with tumbling windows).
   * With hopping windows it must outlast the learning step (default 60 s), or a pump's first
   * scored window closes before its model is approved (the evaluation then fails saying so).
   */
  readonly idleTimeoutMs?: number;
  /** Longest wait for a phase of the pipeline (default 10 min). */
  readonly phaseTimeoutMs?: number;
  readonly progress?: (message: string) => void;
}

interface Pump {
  readonly file: string;
  readonly record: PumpRecord;
  readonly series: SkabSeries;
  readonly trainEndMs: number;
  readonly cutMs: number;
  /** Window starts the pipeline must produce: learning ones, and all. */
  readonly learningStarts: ReadonlySet<number>;
  readonly allStarts: ReadonlySet<number>;
}

const BATCH_SAMPLES = 10;

function records(pumpId: string, series: SkabSeries, keep: (ts: number) => boolean): ProducerRecord[] {
  const samples = series.rows.map((row, i) => ({ row, sample: skabSample(row, i) })).filter(({ row }) => keep(row.ts));
  const out: ProducerRecord[] = [];
  for (let i = 0; i < samples.length; i += BATCH_SAMPLES) {
    out.push({ partitionKey: pumpId, data: encodeJson({ pumpId, samples: samples.slice(i, i + BATCH_SAMPLES).map((s) => s.sample) }) });
  }
  return out;
}

async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new EvalError(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Runs the benchmark through the full local pipeline (in-memory emulators), see the module comment. */
export async function runSkabEval(options: SkabEvalOptions): Promise<SkabEvalResult> {
  const started = Date.now();
  const preset = options.preset ?? DEFAULT_PRESET;
  const say = options.progress ?? (() => undefined);
  const phaseTimeoutMs = options.phaseTimeoutMs ?? 600_000;
  const files = options.files ? [...options.files] : findSkabFiles(options.dir);
  if (files.length === 0) throw new ValidationError(`no SKAB-format files (header "datetime;…") under ${options.dir}`);
  const policy = ConditionPolicySchema.parse({ ...preset.condition, noDataAfterMs: EVAL_NO_DATA_AFTER_MS });
  const taken = new Set<string>();
  const skipped: { file: string; reason: string }[] = [];
  const pumps: Pump[] = [];
  for (const file of files) {
    let series: SkabSeries;
    try {
      series = parseSkabCsv(readFileSync(join(options.dir, file), 'utf8'), file);
    } catch (err) {
      throw err instanceof PumpwatchError ? err : new ValidationError(`${file}: ${(err as Error).message}`, err);
    }
    if (series.rows.length <= SKAB_TRAIN_ROWS) {
      // Nothing to predict: no test rows, so no line in the predictions either.
      skipped.push({ file, reason: `${series.rows.length} rows: no test part after the first ${SKAB_TRAIN_ROWS}` });
      say(`skipping ${file}: ${series.rows.length} rows, no test part after the first ${SKAB_TRAIN_ROWS}`);
      continue;
    }
    const pumpId = skabPumpId(file, taken);
    const split = learningSplit(series, preset.window);
    const windows = windowSamples(series.rows.map((r) => skabSample(r)), pumpId, preset.window);
    pumps.push({
      file,
      series,
      ...split,
      record: { pumpId, tenantId: 'skab', siteId: 'skab-testbed', pumpType: 'skab', sampleRateHz: 1, policy, enrolledAt: started },
      learningStarts: new Set(windows.filter((w) => w.windowEnd <= split.trainEndMs).map((w) => w.windowStart)),
      allStarts: new Set(windows.map((w) => w.windowStart)),
    });
  }
  if (pumps.length === 0) throw new ValidationError(`no SKAB file under ${options.dir} has more than ${SKAB_TRAIN_ROWS} rows`);
  const totalWindows = pumps.reduce((n, p) => n + p.allStarts.size, 0);
  say(`${pumps.length} file(s), ${pumps.reduce((n, p) => n + p.series.rows.length, 0)} rows, ${totalWindows} windows; preset ${preset.name}`);

  let stack: LocalStack | undefined;
  let worker: Worker | undefined;
  let learning: LearningCoordinator | undefined;
  try {
    stack = await startLocalStack({
      shardCount: options.shards ?? 2,
      env: {
        [ENV.windowSizeMs]: String(preset.window.sizeMs),
        [ENV.windowHopMs]: String(preset.window.hopMs),
        [ENV.outOfOrdernessMs]: '0',
        [ENV.allowedLatenessMs]: '0',
        [ENV.idleTimeoutMs]: String(options.idleTimeoutMs ?? (preset.window.sizeMs === preset.window.hopMs ? 3_000 : 60_000)),
        [ENV.failoverTimeMs]: '3000',
        [ENV.takerIntervalMs]: '500',
        [ENV.shardSyncIntervalMs]: '1000',
        [ENV.idleTimeBetweenReadsMs]: '100',
        [ENV.checkpointIntervalMs]: '1000',
        [ENV.routeRefreshMs]: '500',
        [ENV.unscoredRetryMs]: '1000',
        [ENV.outboxSweepMs]: '2000',
      },
    });
    const { config, clients } = stack;
    const registry = new DynamoDbPumpRegistry(clients.doc, config.names.tables.pumps);
    for (const p of pumps) await registry.put(p.record);
    const windowStore = new DynamoDbWindowStore(clients.doc, config.names.tables.windows);
    const producer = new KinesisProducer(clients.kinesis, { streamName: config.names.streamName, concurrency: 1 });
    worker = createWorker(config, clients);
    const w = worker;
    learning = createLearningCoordinator(config, clients, { preset, approval: 'auto', onPublished: (pumpId) => w.router.invalidate(pumpId) });
    worker.start();

    // Phase 1: the rows of the learning windows.
    const phase1 = pumps.flatMap((p) => records(p.record.pumpId, p.series, (ts) => ts < p.cutMs));
    const phase2 = pumps.flatMap((p) => records(p.record.pumpId, p.series, (ts) => ts >= p.cutMs));
    say(`phase 1: sending ${phase1.length} records (training part)`);
    await producer.putAll(phase1);
    const stored = async (p: Pump, starts: ReadonlySet<number>, scoredAfter?: number): Promise<number> => {
      const items = await windowStore.query(p.record.pumpId);
      const early = scoredAfter === undefined ? undefined : items.find((i) => i.windowEnd > scoredAfter && i.status === 'UNROUTED');
      if (early) {
        throw new EvalError(
          `${p.file}: window ${new Date(early.windowStart).toISOString()} closed before the baseline was approved (idle timeout ${config.window.idleTimeoutMs} ms too short?)`,
        );
      }
      return items.filter((i) => starts.has(i.windowStart) && i.state !== undefined && (scoredAfter === undefined || i.windowEnd <= scoredAfter || i.status === 'SCORED')).length;
    };
    const learningTotal = pumps.reduce((n, p) => n + p.learningStarts.size, 0);
    let last = -1;
    await waitUntil('the learning windows in the window history', phaseTimeoutMs, async () => {
      const counts = await Promise.all(pumps.map((p) => stored(p, p.learningStarts)));
      const done = counts.reduce((a, b) => a + b, 0);
      if (done !== last) say(`phase 1: ${done}/${learningTotal} learning windows stored`);
      last = done;
      return done >= learningTotal;
    });

    // Learning: each pump's baseline from its own stored learning windows, approved.
    const versions = new Map<string, string>();
    for (const p of pumps) {
      const outcome = await learning.check(p.record, { to: p.trainEndMs, force: true });
      if (outcome.kind !== 'trained') throw new EvalError(`${p.file}: baseline not trained (${outcome.kind}${outcome.kind === 'failed' ? `: ${outcome.error}` : ''})`);
      versions.set(p.record.pumpId, outcome.version.target);
    }
    say(`learning: ${pumps.length} baseline(s) trained and approved (${preset.family})`);
    worker.router.invalidate();

    // Phase 2: the test part, scored by the approved baselines.
    say(`phase 2: sending ${phase2.length} records (test part)`);
    await producer.putAll(phase2);
    last = -1;
    await waitUntil('every window scored and evaluated', phaseTimeoutMs, async () => {
      const counts = await Promise.all(pumps.map((p) => stored(p, p.allStarts, p.trainEndMs)));
      const done = counts.reduce((a, b) => a + b, 0);
      if (done !== last) say(`phase 2: ${done}/${totalWindows} windows evaluated`);
      last = done;
      return done >= totalWindows;
    });

    // Point-wise predictions from the condition after each stored window.
    const predictions: PredictionRow[] = [];
    const results: SkabFileResult[] = [];
    for (const p of pumps) {
      const items: WindowItem[] = (await windowStore.query(p.record.pumpId)).filter((i) => p.allStarts.has(i.windowStart));
      const test = p.series.rows.slice(SKAB_TRAIN_ROWS);
      const outcomes = items
        .filter((i) => i.windowEnd > p.trainEndMs)
        .map((i) => ({ windowEnd: i.windowEnd, anomalous: i.state === 'WARNING' || i.state === 'ALARM' }));
      const predicted = pointwisePredictions(
        test.map((r) => r.ts),
        outcomes,
        preset.window.hopMs,
      );
      test.forEach((r, i) => predictions.push({ file: p.file, datetime: r.datetime, predicted: predicted[i]! }));
      const c = confusion(
        test.map((r) => r.anomaly ?? 0),
        predicted,
      );
      results.push({
        file: p.file,
        pumpId: p.record.pumpId,
        rows: p.series.rows.length,
        testRows: test.length,
        labelled: p.series.labelled,
        windows: items.length,
        model: versions.get(p.record.pumpId) ?? '-',
        confusion: c,
        metrics: skabMetrics(c),
      });
    }
    const labelled = results.filter((r) => r.labelled);
    const unlabelled = results.filter((r) => !r.labelled);
    const quarantined = (await new DynamoDbQuarantineStore(clients.doc, config.names.tables.quarantine).list()).length;
    const endpointStats = stack.sageMaker.stats().endpoints[config.names.modelEndpointName];
    return {
      preset: preset.name,
      files: results,
      skipped,
      metrics: skabMetrics(labelled.length > 0 ? addConfusion(...labelled.map((r) => r.confusion)) : EMPTY_CONFUSION),
      unlabelled: unlabelled.length > 0 ? skabMetrics(addConfusion(...unlabelled.map((r) => r.confusion))) : null,
      predictions,
      seconds: (Date.now() - started) / 1000,
      pipeline: {
        records: phase1.length + phase2.length,
        samples: pumps.reduce((n, p) => n + p.series.rows.length, 0),
        windows: results.reduce((n, r) => n + r.windows, 0),
        quarantined,
        invocations: endpointStats?.invocations ?? 0,
      },
    };
  } finally {
    await learning?.stop(5_000);
    await worker?.stop().catch(() => undefined);
    await stack?.stop();
  }
}
