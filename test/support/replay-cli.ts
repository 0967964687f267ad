import type { Command } from 'commander';
import { registerArchiver } from '../../services/cli/commands/archiver';
import { registerReplay } from '../../services/cli/commands/replay';
import { type CliContext, createContext, type GlobalOptions } from '../../services/cli/context';
import { buildProgram } from '../../services/cli/main';

/**
 * The `pumpwatch` program with the replay and archiver commands, whether or not
 * services/cli/main.ts registers them itself yet (then this adds nothing).
 */
export function buildProgramWithReplay(): Command {
  const program = buildProgram();
  let context: CliContext | undefined;
  const ctx = (): CliContext => {
    context ??= createContext(program.opts<GlobalOptions>());
    return context;
  };
  const has = (name: string): boolean => program.commands.some((c) => c.name() === name);
  if (!has('replay')) registerReplay(program, ctx);
  if (!has('archiver')) registerArchiver(program, ctx);
  program.hook('postAction', () => context?.close());
  return program;
}
