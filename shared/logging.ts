import pino, { type Logger } from 'pino';

export type { Logger };

let root: Logger | undefined;

/**
 * Structured JSON logs, one child logger per component. Stable messages; context goes in keys
 * (shardId, sequenceNumber, pumpId, window, model). Level from the caller (config), default info.
 */
export function configureLogging(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  const level = options.level ?? 'info';
  root = options.destination
    ? pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, options.destination)
    : pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime });
  return root;
}

/** A logger for one component. Before configuration, logs go nowhere below `warn` in tests. */
export function getLogger(component: string): Logger {
  if (!root) {
    root = pino({ level: process.env.JEST_WORKER_ID ? 'silent' : 'info', base: undefined });
  }
  return root.child({ component });
}
