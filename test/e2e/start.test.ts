import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

/**
 * What a newcomer sees after `npm start`: within a minute the faulted pumps reach ALARM with their
 * alerts printed by the subscriber; Ctrl-C (SIGINT) drains and stops everything cleanly.
 */
describe('pumpwatch start', () => {
  it('shows the injected faults as alarms within a minute and stops cleanly on SIGINT', async () => {
    const child = spawn(process.execPath, [resolve(ROOT, 'bin/pumpwatch.js'), '--no-env-file', 'start', '--no-view'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const started = Date.now();
    const alarmed = (): string[] => ['P-0003', 'P-0008', 'P-0011'].filter((p) => new RegExp(`\\[pump-alarms\\][^\\n]*ALARM\\s+${p}\\s`).test(out));
    while (alarmed().length < 3 && Date.now() - started < 75_000 && child.exitCode === null) await new Promise((r) => setTimeout(r, 500));
    const seconds = (Date.now() - started) / 1000;
    process.stderr.write(`pumpwatch start: faulted pumps in ALARM after ${seconds.toFixed(1)} s (including start-up)\n`);
    expect(alarmed()).toEqual(['P-0003', 'P-0008', 'P-0011']);
    // no healthy pump was alarmed
    const others = [...out.matchAll(/\[pump-alarms\][^\n]*ALARM\s+(P-\d{4})\s/g)].map((m) => m[1]).filter((p) => !['P-0003', 'P-0008', 'P-0011'].includes(p!));
    expect(others).toEqual([]);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(out).toMatch(/stopped\. final states: .*ALARM=3/);
  }, 120_000);
});
