import { CommanderError } from 'commander';
import { PumpwatchError } from '../../shared/errors';
import { buildProgramWithReplay } from './replay-cli';

/**
 * `node bin/run-ts.js test/support/replay-cli-main.ts ARGS…`: the CLI with the replay commands as
 * its own OS process (for tests that SIGKILL it), with bin/pumpwatch.js's exit codes.
 */
buildProgramWithReplay()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    if (err instanceof CommanderError) process.exitCode = err.exitCode === 0 ? 0 : 2;
    else if (err instanceof PumpwatchError) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    }
  });
