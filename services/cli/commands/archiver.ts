import type { Command } from 'commander';
import { configureLogging } from '../../../shared/logging';
import { createArchiver } from '../../archiver/archiver';
import type { CliContext } from '../context';
import { untilSignal } from './worker';

/** `pumpwatch archiver`: the local raw archive (Firehose's part on AWS), a worker of its own lease group. */
export function registerArchiver(program: Command, ctx: () => CliContext): void {
  program
    .command('archiver')
    .description('archive the raw stream to the bucket in the Firehose layout (raw/year=/month=/day=/hour=/, gzip JSON lines); scale by running more')
    .option('--worker-id <id>', 'worker id (default: host-pid-random)')
    .action(async (opts: { workerId?: string }) => {
      const c = ctx();
      configureLogging({ level: c.config.logLevel });
      const archiver = createArchiver(opts.workerId ? { ...c.config, workerId: opts.workerId } : c.config, c.clients);
      archiver.start();
      await untilSignal(() => archiver.stop());
      c.close();
    });
}
