import { Command, CommanderError } from 'commander';
import { PumpwatchError } from '../../shared/errors';
import { type CliContext, createContext, type GlobalOptions } from './context';
import { registerEvents } from './commands/events';
import { registerIngest } from './commands/ingest';
import { registerLocal } from './commands/local';
import { registerQuarantine } from './commands/quarantine';
import { registerHistory, registerStatus } from './commands/queries';
import { registerSimulate } from './commands/simulate';
import { registerStart } from './commands/start';
import { registerWorker } from './commands/worker';
import { registerModelServer } from './commands/model-server';
import { registerAlerts } from './commands/alerts';
import { registerEval } from './commands/eval';
import { registerModels } from './commands/models';
import { registerPumps } from './commands/pumps';
import { registerArchiver } from './commands/archiver';
import { registerReplay } from './commands/replay';

/** Builds the `pumpwatch` command line. */
export function buildProgram(): Command {
  const program = new Command('pumpwatch')
    .description('condition monitoring for connected pumps: Kinesis → windows → SageMaker → states and alerts')
    .option('--env-file <file>', 'read endpoints and names from this KEY=VALUE file (default: .pumpwatch/local.env when present)')
    .option('--no-env-file', 'use the process environment only')
    .showHelpAfterError()
    .exitOverride();
  let context: CliContext | undefined;
  const ctx = (): CliContext => {
    context ??= createContext(program.opts<GlobalOptions>());
    return context;
  };
  registerStart(program);
  registerLocal(program);
  registerWorker(program, ctx);
  registerSimulate(program, ctx);
  registerIngest(program, ctx);
  registerStatus(program, ctx);
  registerHistory(program, ctx);
  registerEvents(program, ctx);
  registerQuarantine(program, ctx);
  registerPumps(program, ctx);
  registerModels(program, ctx);
  registerAlerts(program, ctx);
  registerReplay(program, ctx);
  registerArchiver(program, ctx);
  registerEval(program);
  registerModelServer(program);
  program.hook('postAction', () => context?.close());
  return program;
}

/** Runs the CLI; user errors print one line and set exit code 2 (usage) or 1 (failure). */
export async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    if (err instanceof PumpwatchError) {
      process.stderr.write(`error: ${err.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
}
