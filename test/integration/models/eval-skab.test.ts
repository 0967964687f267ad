import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { predictionsCsv, runSkabEval, type SkabEvalResult } from '../../../services/eval/skab';
import { DEFAULT_PRESET } from '../../../services/model-server/training/presets';
import { evaluateSkabSeries } from '../../../services/model-server/training/replay';
import { parseSkabCsv, SKAB_TRAIN_ROWS } from '../../../services/model-server/training/skab';
import { sharedDataPath } from '../../support/shared-data';

const SKAB = sharedDataPath('skab');
const FILES = ['valve1/1.csv', 'valve1/11.csv'];

/**
 * `pumpwatch eval skab` on two SKAB files through the full local pipeline: producer ▸ Kinesis ▸
 * consumer worker ▸ window history ▸ learning coordinator ▸ registry + S3 ▸ local SageMaker
 * endpoint ▸ condition evaluation. The in-process replay of the same preset is the reference:
 * the pipeline must lose nothing, so the predictions are the same row for row.
 */
const describeWithData = existsSync(SKAB) ? describe : describe.skip;
describeWithData(`eval skab through the full pipeline (skipped when ${SKAB} is absent)`, () => {
  let result: SkabEvalResult;
  let dir: string;

  beforeAll(async () => {
    // prepare: any folder of SKAB-format files — two real ones, and one too short to have a test part
    dir = mkdtempSync(join(tmpdir(), 'pumpwatch-eval-'));
    mkdirSync(join(dir, 'valve1'));
    for (const f of FILES) copyFileSync(resolve(SKAB, f), join(dir, f));
    writeFileSync(join(dir, 'short.csv'), readFileSync(resolve(SKAB, FILES[0]!), 'utf8').split('\n').slice(0, 101).join('\n'));
    // act
    result = await runSkabEval({ dir, preset: DEFAULT_PRESET });
  }, 60_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the default preset above its F1 floor', () => {
    // measured in-process on these two files: F1 0.846
    expect(result.metrics.f1).toBeGreaterThan(0.82);
    expect(result.metrics.far).toBeLessThan(30);
    expect(result.files.map((f) => f.file)).toEqual(FILES);
    expect(result.skipped.map((f) => f.file)).toEqual(['short.csv']);
    expect(result.files.every((f) => f.model.startsWith(`pumps/${f.pumpId}/v1/`))).toBe(true);
    expect(result.pipeline.quarantined).toBe(0);
  });

  it('writes one CSV row per test row, datetime exactly as in the input', () => {
    const lines = predictionsCsv(result.predictions).trimEnd().split('\n');
    expect(lines[0]).toBe('file,datetime,predicted_anomaly');
    const expected = FILES.flatMap((f) =>
      readFileSync(resolve(SKAB, f), 'utf8')
        .split(/\r?\n/)
        .slice(1 + SKAB_TRAIN_ROWS)
        .filter((l) => l.trim() !== '')
        .map((l) => `${f},${l.split(';')[0]}`),
    );
    expect(lines).toHaveLength(expected.length + 1);
    expect(lines.slice(1).map((l) => l.replace(/,[01]$/, ''))).toEqual(expected);
    expect(lines.slice(1).every((l) => /,[01]$/.test(l))).toBe(true);
  });

  it('predicts exactly what the in-process replay of the same preset predicts', () => {
    for (const f of FILES) {
      const reference = evaluateSkabSeries(parseSkabCsv(readFileSync(resolve(SKAB, f), 'utf8'), f), DEFAULT_PRESET, { pumpId: 'reference' });
      const got = result.predictions.filter((p) => p.file === f).map((p) => p.predicted);
      expect(got).toEqual(reference.predictions);
    }
  });
});
