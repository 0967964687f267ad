import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVAL_NO_DATA_AFTER_MS, findSkabFiles, learningSplit, predictionsCsv, skabPumpId } from '../../../services/eval/skab';
import { parseSkabCsv } from '../../../services/model-server/training/skab';
import { ValidationError } from '../../../shared/errors';
import { ConditionPolicySchema } from '../../../shared/schemas/condition';

const HEADER = 'datetime;Accelerometer1RMS;Current;anomaly;changepoint';

/** A SKAB-format file of `rows` rows, one per second from `start`. */
function skabText(rows: number, start = Date.UTC(2020, 2, 9, 10, 0, 0)): string {
  const lines = [HEADER];
  for (let i = 0; i < rows; i++) {
    const t = new Date(start + i * 1000).toISOString().replace('T', ' ').slice(0, 19);
    lines.push(`${t};0.2${i % 7};1.${i % 5};${i > rows - 10 ? '1.0' : '0.0'};0.0`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

describe('findSkabFiles', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pumpwatch-skab-'));
    mkdirSync(join(dir, 'valve1'));
    mkdirSync(join(dir, 'other', 'deep'), { recursive: true });
    for (const f of ['valve1/10.csv', 'valve1/2.csv', 'other/deep/a.CSV', 'top.csv']) writeFileSync(join(dir, f), skabText(3));
    writeFileSync(join(dir, 'notes.csv'), 'a,b,c\n1,2,3\n');
    writeFileSync(join(dir, 'valve1/readme.txt'), 'x');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lists SKAB-format CSV files recursively, relative with /, in natural order', () => {
    expect(findSkabFiles(dir)).toEqual(['other/deep/a.CSV', 'top.csv', 'valve1/2.csv', 'valve1/10.csv']);
  });

  it('answers a missing folder with a ValidationError', () => {
    expect(() => findSkabFiles(join(dir, 'nope'))).toThrow(ValidationError);
  });
});

describe('skabPumpId', () => {
  it.each([
    ['valve1/3.csv', 'skab-valve1-3'],
    ['anomaly-free/anomaly-free.csv', 'skab-anomaly-free-anomaly-free'],
    ['a b/c+d.csv', 'skab-a-b-c-d'],
  ])('%s → %s', (file, id) => {
    expect(skabPumpId(file, new Set())).toBe(id);
  });

  it('keeps ids unique', () => {
    const taken = new Set<string>();
    expect([skabPumpId('a b.csv', taken), skabPumpId('a+b.csv', taken), skabPumpId('a-b.csv', taken)]).toEqual(['skab-a-b', 'skab-a-b-2', 'skab-a-b-3']);
  });
});

describe('learningSplit', () => {
  const series = parseSkabCsv(skabText(450, Date.UTC(2020, 2, 9, 10, 0, 3)));
  const trainEnd = series.rows[400]!.ts; // 10:06:43

  it('cuts tumbling windows at the end of the last learning window', () => {
    expect(learningSplit(series, { sizeMs: 10_000, hopMs: 10_000 })).toEqual({ trainEndMs: trainEnd, cutMs: Date.UTC(2020, 2, 9, 10, 6, 40) });
  });

  it('cuts hopping windows at the end of the first scored window', () => {
    expect(learningSplit(series, { sizeMs: 20_000, hopMs: 10_000 })).toEqual({ trainEndMs: trainEnd, cutMs: Date.UTC(2020, 2, 9, 10, 6, 50) });
  });

  it('needs more rows than the training part', () => {
    expect(() => learningSplit(parseSkabCsv(skabText(400)), { sizeMs: 10_000, hopMs: 10_000 })).toThrow(/more than 400 rows/);
  });
});

describe('predictionsCsv', () => {
  it('writes the header and one line per row, quoting only where CSV needs it', () => {
    const csv = predictionsCsv([
      { file: 'valve1/3.csv', datetime: '2020-03-09 10:21:31', predicted: 0 },
      { file: 'odd,name.csv', datetime: '2020-03-09 10:21:32', predicted: 1 },
    ]);
    expect(csv).toBe('file,datetime,predicted_anomaly\nvalve1/3.csv,2020-03-09 10:21:31,0\n"odd,name.csv",2020-03-09 10:21:32,1\n');
  });
});

describe('the evaluation policy', () => {
  it('never moves replayed 2020 data to NO_DATA on the wall clock', () => {
    const policy = ConditionPolicySchema.parse({ noDataAfterMs: EVAL_NO_DATA_AFTER_MS });
    expect(policy.noDataAfterMs).toBeGreaterThan(Date.now() - Date.UTC(2020, 0, 1));
  });
});
