import { type Command, CommanderError } from 'commander';
import { buildProgram } from '../../services/cli/main';
import { PumpwatchError } from '../../shared/errors';

/** What a CLI run printed and its exit code. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Parses `args` with `program` the way bin/pumpwatch.js runs the CLI, capturing what it prints:
 * CommanderError → exit 2, PumpwatchError → one line on stderr and exit 1, otherwise the
 * `process.exitCode` the action set (0 when none). The environment file is ignored.
 */
export async function captureCli(program: Command, args: readonly string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  program.configureOutput({ writeOut: (s) => out.push(s), writeErr: (s) => err.push(s) });
  const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err.push(String(chunk));
    return true;
  });
  const savedCode = process.exitCode;
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
    process.exitCode = savedCode;
    stdout.mockRestore();
    stderr.mockRestore();
  }
  return { code, stdout: out.join(''), stderr: err.join('') };
}

/** Runs the whole `pumpwatch ARGS…` in process with `env` added to the environment (e.g. a local stack's). */
export async function runCli(args: readonly string[], env: Record<string, string>): Promise<CliRun> {
  const savedEnv = { ...process.env };
  Object.assign(process.env, env);
  try {
    return await captureCli(buildProgram(), args);
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
    Object.assign(process.env, savedEnv);
  }
}
