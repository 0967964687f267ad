import { writeFileSync } from 'node:fs';

/** One figure a benchmark reports. `ratio` = value / baseline when both are rates of the same work. */
export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly baseline?: number;
  readonly ratio?: number;
  /** Free-form context printed beside the figure (not in the JSON contract's required fields). */
  readonly note?: string;
}

export interface Benchmark {
  readonly name: string;
  readonly description: string;
  run(): Promise<Figure[]>;
}

/** Runs `fn` repeatedly for at least `minMs` (after a warm-up) and returns iterations per second. */
export function rate(fn: () => void, units: number, minMs = 1_000): number {
  for (let i = 0; i < 3; i++) fn();
  let iterations = 0;
  const start = process.hrtime.bigint();
  let elapsedMs = 0;
  while (elapsedMs < minMs) {
    fn();
    iterations += 1;
    elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return (iterations * units) / (elapsedMs / 1000);
}

/** Median of numbers. */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Percentile (0–100) by nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

function fmt(v: number | undefined): string {
  if (v === undefined) return '';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return Number(v.toPrecision(4)).toString();
}

/** Prints figures as a table. */
export function printTable(figures: readonly Figure[]): void {
  const rows = figures.map((f) => [f.name, fmt(f.value), f.unit, fmt(f.baseline), f.ratio === undefined ? '' : f.ratio.toFixed(3), f.note ?? '']);
  const head = ['name', 'value', 'unit', 'baseline', 'ratio', 'note'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  process.stdout.write(`${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}\n`);
}

/** Writes figures as the JSON array the benchmark contract defines. */
export function writeJson(path: string, figures: readonly Figure[]): void {
  const out = figures.map(({ name, value, unit, baseline, ratio }) => ({
    name,
    value,
    unit,
    ...(baseline === undefined ? {} : { baseline }),
    ...(ratio === undefined ? {} : { ratio }),
  }));
  writeFileSync(path, `${JSON.stringify(out, null, 2)}\n`);
}
