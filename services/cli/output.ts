/** Output helpers: aligned tables for people, JSON for scripts, colours only on a TTY. */
export interface Out {
  readonly json: boolean;
}

const useColor = (): boolean => !!process.stdout.isTTY && !process.env.NO_COLOR;

const CODES: Record<string, string> = { red: '31', yellow: '33', green: '32', cyan: '36', grey: '90', bold: '1' };

export function paint(color: keyof typeof CODES | string, text: string): string {
  return useColor() && CODES[color] ? `\u001b[${CODES[color]}m${text}\u001b[0m` : text;
}

/** Colour for a condition state. */
export function stateColor(state: string): string {
  return state === 'ALARM' ? 'red' : state === 'WARNING' ? 'yellow' : state === 'NORMAL' ? 'green' : state === 'NO_DATA' ? 'grey' : 'cyan';
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** Renders rows as an aligned text table. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').replace(ANSI, '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => c + ' '.repeat(Math.max(0, widths[i]! - c.replace(ANSI, '').length))).join('  ').trimEnd();
  return [line(headers.map((h) => paint('bold', h))), ...rows.map(line)].join('\n');
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function iso(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '-' : new Date(ms).toISOString().replace('.000Z', 'Z');
}

export function num(v: number | null | undefined, digits = 2): string {
  return v === null || v === undefined ? '-' : v.toFixed(digits);
}

/**
 * A progress bar on stderr: redrawn in place on a TTY, a line every 10 % otherwise.
 */
export class Progress {
  private lastPct = -1;
  private readonly started = Date.now();
  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  update(done: number, extra = ''): void {
    const pct = this.total > 0 ? Math.min(100, Math.floor((done / this.total) * 100)) : 100;
    const secs = (Date.now() - this.started) / 1000;
    const rate = secs > 0 ? Math.round(done / secs) : 0;
    if (this.stream.isTTY) {
      const width = 30;
      const filled = Math.round((pct / 100) * width);
      this.stream.write(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${pct}% ${done}/${this.total} ${rate}/s ${extra}\u001b[K`);
    } else if (pct >= this.lastPct + 10 || (pct === 100 && this.lastPct !== 100)) {
      this.stream.write(`${this.label}: ${pct}% (${done}/${this.total}, ${rate}/s) ${extra}\n`);
    } else {
      return;
    }
    this.lastPct = pct;
  }

  done(summary: string): void {
    if (this.stream.isTTY) this.stream.write('\n');
    this.stream.write(`${summary}\n`);
  }
}
