import { getHeapStatistics } from 'node:v8';
import { z } from 'zod';
import { ConfigError } from '../../shared/errors';
import { getLogger, type Logger } from '../../shared/logging';
import { describeIssues } from '../../shared/schemas/issues';
import { SAGEMAKER_CONTAINER_PORT, SAGEMAKER_MODEL_ROOT, startModelContainer, type ModelContainer } from './container';

/**
 * `pumpwatch model-server` options, as a CLI parser hands them over (strings are coerced).
 * Defaults follow the SageMaker multi-model container contract.
 */
export const ModelContainerCliOptionsSchema = z.object({
  port: z.coerce.number().int().min(0).max(65_535).default(SAGEMAKER_CONTAINER_PORT),
  host: z.string().min(1).default('0.0.0.0'),
  modelRoot: z.string().min(1).default(SAGEMAKER_MODEL_ROOT),
  /** Most models loaded at once (beyond it `POST /models` answers 507). */
  maxModels: z.coerce.number().int().positive().optional(),
  /** Memory bound for loaded models, MiB; default: 60% of the V8 heap limit. */
  maxMemoryMb: z.coerce.number().positive().optional(),
  /** Largest invocation body, MiB; default 25. */
  maxBodyMb: z.coerce.number().positive().optional(),
  /** Graceful-shutdown drain time, ms; default 10 000. */
  drainMs: z.coerce.number().int().nonnegative().optional(),
});
export type ModelContainerCliOptions = z.input<typeof ModelContainerCliOptionsSchema>;

/** What {@link runModelContainer} needs from its caller besides options (tests pass a signal). */
export interface RunModelContainerDeps {
  /** Stops the server when aborted (in addition to SIGTERM / SIGINT). */
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
  /** Called once the server listens (e.g. to print the URL). */
  readonly onListening?: (container: ModelContainer) => void;
  /** Install SIGTERM/SIGINT handlers (default true). */
  readonly handleSignals?: boolean;
}

const MIB = 1024 * 1024;

/**
 * Composition root of the model container (`pumpwatch model-server --port 8080`, the Dockerfile's
 * command): validates the options, starts the server, and runs until SIGTERM/SIGINT (SageMaker
 * stops containers with SIGTERM) or the signal, then drains and resolves. Throws ConfigError for
 * invalid options.
 */
export async function runModelContainer(options: ModelContainerCliOptions = {}, deps: RunModelContainerDeps = {}): Promise<void> {
  const parsed = ModelContainerCliOptionsSchema.safeParse(options);
  if (!parsed.success) throw new ConfigError(`invalid model-server options: ${describeIssues(parsed.error)}`, parsed.error);
  const o = parsed.data;
  const logger = deps.logger ?? getLogger('model-container');
  const maxBytes = Math.floor(o.maxMemoryMb !== undefined ? o.maxMemoryMb * MIB : getHeapStatistics().heap_size_limit * 0.6);
  const container = await startModelContainer({
    port: o.port,
    host: o.host,
    modelRoot: o.modelRoot,
    cache: { maxBytes, ...(o.maxModels !== undefined ? { maxModels: o.maxModels } : {}) },
    ...(o.maxBodyMb !== undefined ? { maxBodyBytes: Math.floor(o.maxBodyMb * MIB) } : {}),
    ...(o.drainMs !== undefined ? { drainMs: o.drainMs } : {}),
    logger,
  });
  deps.onListening?.(container);

  await new Promise<void>((resolve) => {
    const stop = (reason: string): void => {
      logger.info({ reason }, 'model container stopping');
      if (deps.handleSignals !== false) {
        process.off('SIGTERM', onTerm);
        process.off('SIGINT', onInt);
      }
      deps.signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    const onTerm = (): void => stop('SIGTERM');
    const onInt = (): void => stop('SIGINT');
    const onAbort = (): void => stop('aborted');
    if (deps.handleSignals !== false) {
      process.once('SIGTERM', onTerm);
      process.once('SIGINT', onInt);
    }
    if (deps.signal?.aborted) stop('aborted');
    else deps.signal?.addEventListener('abort', onAbort, { once: true });
  });
  await container.close();
}
