import type { Command } from 'commander';
import { configureLogging } from '../../../shared/logging';
import { runModelContainer } from '../../model-server/main';

/** `pumpwatch model-server`: the SageMaker multi-model container (what the Dockerfile runs). */
export function registerModelServer(program: Command): void {
  program
    .command('model-server')
    .description('serve models as a SageMaker multi-model container (GET /ping, POST /models, POST /models/{name}/invoke, …)')
    .option('--port <port>', 'listen port', '8080')
    .option('--host <host>', 'listen address', '0.0.0.0')
    .option('--model-root <dir>', 'where SageMaker puts model artifacts', '/opt/ml/models')
    .option('--max-models <n>', 'most models loaded at once')
    .option('--max-memory-mb <mb>', 'memory bound for loaded models')
    .action(async (opts: { port: string; host: string; modelRoot: string; maxModels?: string; maxMemoryMb?: string }) => {
      configureLogging({ level: process.env.PUMPWATCH_LOG_LEVEL ?? 'info' });
      await runModelContainer(
        { port: opts.port, host: opts.host, modelRoot: opts.modelRoot, maxModels: opts.maxModels, maxMemoryMb: opts.maxMemoryMb },
        { onListening: (c) => process.stderr.write(`model container listening on ${c.url}\n`) },
      );
    });
}
