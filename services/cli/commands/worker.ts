import type { Command } from 'commander';
import { configureLogging } from '../../../shared/logging';
import { createWorker } from '../../consumer/worker';
import type { CliContext } from '../context';

/** Runs until SIGTERM/SIGINT, then stops gracefully (second signal: exit at once). */
export function untilSignal(onStop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const handler = (signal: NodeJS.Signals): void => {
      if (stopping) {
        process.stderr.write(`${signal} again: exiting now\n`);
        process.exit(130);
      }
      stopping = true;
      void onStop().finally(resolve);
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}

/** `pumpwatch worker`: one consumer worker; scale by running more. */
export function registerWorker(program: Command, ctx: () => CliContext): void {
  program
    .command('worker')
    .description('run one consumer worker (leases shards, windows, scores, writes states and events); scale by running more')
    .option('--worker-id <id>', 'worker id (default: host-pid-random)')
    .option('--no-learning', 'do not train baselines for pumps without a model (they stay LEARNING)')
    .action(async (opts: { workerId?: string; learning: boolean }) => {
      const c = ctx();
      configureLogging({ level: c.config.logLevel });
      const worker = createWorker(opts.workerId ? { ...c.config, workerId: opts.workerId } : c.config, c.clients, opts.learning ? { learning: {} } : {});
      worker.start();
      await untilSignal(() => worker.stop());
      c.close();
    });
}
