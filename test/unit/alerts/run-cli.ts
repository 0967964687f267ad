import { Command, CommanderError } from 'commander';
import { registerAlerts } from '../../../services/cli/commands/alerts';
import type { CliContext } from '../../../services/cli/context';
import { PumpwatchError } from '../../../shared/errors';

/** What a CLI run printed and its exit code. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `pumpwatch alerts …` in process, the way services/cli/main.ts does: a fresh program with the
 * global env-file options, CommanderError → exit 2, PumpwatchError → one line on stderr and exit 1,
 * otherwise the `process.exitCode` the action set (0 when none). The environment file is ignored.
 */
export async function runAlerts(args: readonly string[], ctx: () => CliContext = noContext): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const program = new Command('pumpwatch').option('--env-file <file>').option('--no-env-file').exitOverride();
  program.configureOutput({ writeOut: (s) => out.push(s), writeErr: (s) => err.push(s) });
  registerAlerts(program, ctx);
  const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err.push(String(chunk));
    return true;
  });
  const saved = process.exitCode;
  process.exitCode = undefined;
  let code: number;
  try {
    await program.parseAsync(['node', 'pumpwatch', '--no-env-file', ...args]);
    code = typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) code = e.exitCode === 0 ? 0 : 2;
    else if (e instanceof PumpwatchError) {
      err.push(`error: ${e.message}\n`);
      code = 1;
    } else throw e;
  } finally {
    process.exitCode = saved;
    stdout.mockRestore();
    stderr.mockRestore();
  }
  return { code, stdout: out.join(''), stderr: err.join('') };
}

function noContext(): CliContext {
  throw new PumpwatchError('no AWS configuration in this test', { code: 'TEST' });
}
