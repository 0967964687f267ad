import { Command } from 'commander';
import { registerAlerts } from '../../../services/cli/commands/alerts';
import type { CliContext } from '../../../services/cli/context';
import { PumpwatchError } from '../../../shared/errors';
import { captureCli, type CliRun } from '../../support/run-cli';

export type { CliRun } from '../../support/run-cli';

/** Runs `pumpwatch alerts …` in process with only the alerts commands registered. */
export async function runAlerts(args: readonly string[], ctx: () => CliContext = noContext): Promise<CliRun> {
  const program = new Command('pumpwatch').option('--env-file <file>').option('--no-env-file').exitOverride();
  registerAlerts(program, ctx);
  return captureCli(program, args);
}

function noContext(): CliContext {
  throw new PumpwatchError('no AWS configuration in this test', { code: 'TEST' });
}
