/**
 * The error family shared by all services. Callers branch on the class or `code`, never on message
 * text. SDK exceptions are mapped where the SDK is called and kept as `cause`.
 */
export class PumpwatchError extends Error {
  readonly code: string;
  readonly retryable: boolean;

  constructor(message: string, options: { code: string; retryable?: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code;
    this.retryable = options.retryable ?? false;
  }
}

/** Invalid configuration: fix the environment or the flags. */
export class ConfigError extends PumpwatchError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'CONFIG_INVALID', cause });
  }
}

/** A conditional write lost: someone else holds a newer version of the item. */
export class ConditionFailedError extends PumpwatchError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'CONDITION_FAILED', cause });
  }
}

/** Throttled or temporarily unavailable dependency; retry with backoff. */
export class TransientError extends PumpwatchError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'TRANSIENT', retryable: true, cause });
  }
}

/** A requested entity does not exist. */
export class NotFoundError extends PumpwatchError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'NOT_FOUND', cause });
  }
}

/** Input rejected by validation; the message says which field and why. */
export class ValidationError extends PumpwatchError {
  constructor(message: string, cause?: unknown) {
    super(message, { code: 'VALIDATION', cause });
  }
}

const RETRYABLE_AWS_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestLimitExceeded',
  'LimitExceededException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalServerError',
  'InternalFailure',
  'InternalServerException',
  'KMSThrottlingException',
  'ModelNotReadyException',
  'SlowDown',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

const RETRYABLE_NODE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND']);

/** True when an error from an AWS SDK call (or the network under it) is worth retrying. */
export function isRetryableAwsError(err: unknown): boolean {
  if (err instanceof PumpwatchError) return err.retryable;
  if (!(err instanceof Error)) return false;
  const e = err as Error & { code?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  if (RETRYABLE_AWS_NAMES.has(e.name)) return true;
  if (e.code && RETRYABLE_NODE_CODES.has(e.code)) return true;
  if (e.$retryable) return true;
  const status = e.$metadata?.httpStatusCode;
  return status !== undefined && (status === 429 || status >= 500);
}

/** The name of an AWS SDK exception, for mapping. */
export function awsErrorName(err: unknown): string | undefined {
  return err instanceof Error ? err.name : undefined;
}
