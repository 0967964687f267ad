import {
  addConfusion,
  confusion,
  parseSkabCsv,
  parseSkabDatetime,
  pointwisePredictions,
  skabChannel,
  skabMetrics,
  skabSample,
  SkabFormatError,
  skabTestRows,
} from '../../../../services/model-server/training/skab';

const HEADER = 'datetime;Accelerometer1RMS;Accelerometer2RMS;Current;Pressure;Temperature;Thermocouple;Voltage;Volume Flow RateRMS;anomaly;changepoint';
// Mixed line endings, as in the benchmark's files.
const CSV =
  `${HEADER}\r\n` +
  '2020-03-09 10:14:33;0.0265878;0.0401113;1.3302;0.054711;79.3366;26.0199;233.062;32.0;0.0;0.0\r\n' +
  '2020-03-09 10:14:34;0.0261697;0.0404525;1.35399;0.382638;79.5158;26.0258;236.04;32.0;0.0;0.0\n' +
  '2020-03-09 10:14:36;0.0266;0.0402;1.31;0.054711;79.40;26.02;231.5;29.5;1.0;1.0\n';

const MS = (s: string): number => Date.parse(`${s.replace(' ', 'T')}Z`);

describe('parseSkabCsv', () => {
  it('reads rows, UTC datetimes, sensor values and labels across mixed line endings', () => {
    const series = parseSkabCsv(CSV, 'valve1/0.csv');
    expect(series.labelled).toBe(true);
    expect(series.columns).toEqual(['Accelerometer1RMS', 'Accelerometer2RMS', 'Current', 'Pressure', 'Temperature', 'Thermocouple', 'Voltage', 'Volume Flow RateRMS']);
    expect(series.rows).toHaveLength(3);
    const [first, , third] = series.rows;
    expect(first).toMatchObject({ line: 2, datetime: '2020-03-09 10:14:33', ts: MS('2020-03-09 10:14:33'), anomaly: 0, changepoint: 0 });
    expect(first!.values['Volume Flow RateRMS']).toBe(32);
    expect(third).toMatchObject({ line: 4, ts: MS('2020-03-09 10:14:36'), anomaly: 1, changepoint: 1 });
  });

  it('reads an unlabelled file (anomaly-free) without labels', () => {
    const text = 'datetime;Current;Volume Flow RateRMS\n2020-02-08 13:30:47;2.16975;122.664\n';
    const series = parseSkabCsv(text);
    expect(series.labelled).toBe(false);
    expect(series.rows[0]!.anomaly).toBeUndefined();
    expect(series.rows[0]!.values).toEqual({ Current: 2.16975, 'Volume Flow RateRMS': 122.664 });
  });

  it.each([
    ['a header without datetime', 'time;a\n2020-01-01 00:00:00;1\n', /x\.csv:1: header/],
    ['a short line', `${HEADER}\n2020-03-09 10:14:33;1;2\n`, /x\.csv:2: expected 11 fields, got 3/],
    ['a bad datetime', 'datetime;a\n2020-13-09 10:14:33;1\n', /x\.csv:2: datetime "2020-13-09 10:14:33"/],
    ['a bad label', 'datetime;a;anomaly\n2020-03-09 10:14:33;1;0.5\n', /x\.csv:2: label "0.5"/],
    ['a non-numeric value', 'datetime;a\n2020-03-09 10:14:33;n/a\n', /x\.csv:2: a "n\/a" is not a finite number/],
  ])('rejects %s with the line', (_name, text, message) => {
    expect(() => parseSkabCsv(text, 'x.csv')).toThrow(SkabFormatError);
    expect(() => parseSkabCsv(text, 'x.csv')).toThrow(message);
  });

  it.each([
    ['2020-03-09 10:14:33', Date.UTC(2020, 2, 9, 10, 14, 33)],
    ['2020-02-29 23:59:59', Date.UTC(2020, 1, 29, 23, 59, 59)],
    ['2020-02-30 00:00:00', Number.NaN],
    ['2020-03-09T10:14:33Z', Number.NaN],
  ])('parseSkabDatetime(%p)', (text, expected) => {
    expect(parseSkabDatetime(text)).toBe(expected);
  });

  it('splits off the test part at row 400 by default', () => {
    const series = parseSkabCsv(CSV);
    expect(skabTestRows(series, 2)).toHaveLength(1);
  });
});

describe('skabSample', () => {
  it('names channels from the catalogue and keeps unknown columns, sanitised', () => {
    const row = parseSkabCsv('datetime;Current;Volume Flow RateRMS;Bearing Temp (C)\n2020-03-09 10:14:33;1.5;32;40\n').rows[0]!;
    expect(skabSample(row, 7)).toEqual({ ts: row.ts, seq: 7, metrics: { current: 1.5, flow_rms: 32, bearing_temp_c: 40 } });
    expect(skabChannel('Accelerometer1RMS')).toBe('accel1_rms');
  });
});

describe('pointwisePredictions', () => {
  const t0 = Date.UTC(2020, 0, 1);
  const s = (sec: number): number => t0 + sec * 1000;

  it('maps each row to the condition after the window that ends at floor(t/H)·H + H', () => {
    // Tumbling 10 s windows: rows 0–9 s → window ending 10 s, 10–19 s → 20 s.
    const windows = [
      { windowEnd: s(10), anomalous: false },
      { windowEnd: s(20), anomalous: true },
      { windowEnd: s(30), anomalous: false },
    ];
    expect(pointwisePredictions([s(0), s(9), s(10), s(19), s(20), s(29)], windows, 10_000)).toEqual([0, 0, 1, 1, 0, 0]);
  });

  it('uses the newest window containing the row with hopping windows', () => {
    // Size 10 s, hop 5 s: the row at 7 s is in [0,10) and [5,15); the newest ends at 10 s.
    const windows = [
      { windowEnd: s(10), anomalous: true },
      { windowEnd: s(15), anomalous: false },
    ];
    expect(pointwisePredictions([s(7), s(12)], windows, 5000)).toEqual([1, 0]);
  });

  it('falls back to the latest window evaluated before the row, else 0', () => {
    const windows = [
      { windowEnd: s(10), anomalous: true },
      { windowEnd: s(90), anomalous: false },
    ];
    // 35 s: its window (ending 40 s) was not evaluated; the latest before it ended at 10 s.
    expect(pointwisePredictions([s(35), s(-20)], windows, 10_000)).toEqual([1, 0]);
  });
});

describe('metrics', () => {
  it('counts the confusion matrix', () => {
    expect(confusion([1, 1, 0, 0, 1], [1, 0, 1, 0, 1])).toEqual({ tp: 2, fn: 1, fp: 1, tn: 1 });
    expect(() => confusion([1], [1, 0])).toThrow(RangeError);
  });

  it.each([
    ['the benchmark definitions', { tp: 80, fp: 20, tn: 180, fn: 20 }, 80 / (80 + 20), 10, 20],
    ['nothing to find and nothing flagged', { tp: 0, fp: 0, tn: 50, fn: 0 }, 1, 0, 0],
    ['only false alarms (anomaly-free)', { tp: 0, fp: 25, tn: 75, fn: 0 }, 0, 25, 0],
  ])('computes F1 / FAR / MAR for %s', (_name, c, f1, far, mar) => {
    const m = skabMetrics(c);
    expect(m.f1).toBeCloseTo(f1, 12);
    expect(m.far).toBeCloseTo(far, 12);
    expect(m.mar).toBeCloseTo(mar, 12);
  });

  it('sums files before computing metrics', () => {
    const total = addConfusion({ tp: 1, fp: 2, tn: 3, fn: 4 }, { tp: 10, fp: 20, tn: 30, fn: 40 });
    expect(total).toEqual({ tp: 11, fp: 22, tn: 33, fn: 44 });
    expect(skabMetrics(total).f1).toBeCloseTo(11 / (11 + 33), 12);
  });
});
