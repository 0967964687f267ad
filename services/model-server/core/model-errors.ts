import { NotFoundError, PumpwatchError } from '../../../shared/errors';

/**
 * The model server's error family. Callers (the container, the local SageMaker runtime) branch on
 * the class to pick an HTTP status or a SageMaker error shape; the message is for people.
 * `InvalidArtifactError` (artifact.ts) and `ModelInputError` (scorer.ts) belong to it too.
 */

/** No artifact at the requested location (S3 NoSuchKey, missing file). Not retryable. */
export class ArtifactNotFoundError extends NotFoundError {
  /** Where the artifact was looked for (`s3://bucket/key` or a file path). */
  readonly location: string;

  constructor(location: string, message: string, cause?: unknown) {
    super(message, cause);
    this.location = location;
  }
}

/**
 * The artifact store failed: retryable when it may pass (throttling, network), not when it will not
 * (access denied). The SDK or file-system error is kept as `cause`.
 */
export class ArtifactSourceError extends PumpwatchError {
  constructor(message: string, options: { retryable: boolean; cause?: unknown }) {
    super(message, { code: 'ARTIFACT_SOURCE', retryable: options.retryable, cause: options.cause });
  }
}

/** The model exists but is still loading; ask again shortly (SageMaker: ModelNotReadyException). */
export class ModelNotReadyError extends PumpwatchError {
  constructor(readonly modelName: string, message = `model ${modelName} is loading`) {
    super(message, { code: 'MODEL_NOT_READY', retryable: true });
  }
}

/** The model is not loaded (and the caller asked not to load it). */
export class ModelNotLoadedError extends NotFoundError {
  constructor(readonly modelName: string, message = `model ${modelName} is not loaded`) {
    super(message);
  }
}

/** `load` was asked for a name that is already loaded or loading (container: 409). */
export class ModelAlreadyLoadedError extends PumpwatchError {
  constructor(readonly modelName: string) {
    super(`model ${modelName} is already loaded`, { code: 'MODEL_ALREADY_LOADED' });
  }
}

/**
 * The cache has no room for the model: it alone exceeds the byte bound (not retryable), or the
 * models that would have to go are in use or eviction is disabled (retryable once some are
 * unloaded). The container answers 507 so that SageMaker unloads models and retries.
 */
export class CacheCapacityError extends PumpwatchError {
  constructor(message: string, retryable: boolean) {
    super(message, { code: 'MODEL_CACHE_FULL', retryable });
  }
}

/** The cache was closed while the call was pending or before it started. */
export class ModelCacheClosedError extends PumpwatchError {
  constructor() {
    super('model cache is closed', { code: 'MODEL_CACHE_CLOSED', retryable: true });
  }
}
