import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { backoffDelay, type Clock, sleep } from '../../../shared/clock';
import type { Config } from '../../../shared/config';
import { isRetryableAwsError, PumpwatchError } from '../../../shared/errors';
import { type InferenceRequest, type InferenceResponse, InferenceResponseSchema } from '../../../shared/schemas/inference';

export type InferenceFailure = 'model_error' | 'not_ready' | 'throttled' | 'timeout' | 'circuit_open' | 'validation' | 'bad_response' | 'unavailable';

/** A window batch could not be scored. `retryable` says whether trying again soon may help. */
export class InferenceError extends PumpwatchError {
  readonly failure: InferenceFailure;
  constructor(failure: InferenceFailure, message: string, retryable: boolean, cause?: unknown) {
    super(message, { code: `INFERENCE_${failure.toUpperCase()}`, retryable, cause });
    this.failure = failure;
  }
}

export interface InferenceClientOptions {
  readonly endpointName: string;
  /** Attempts per call for retryable failures (not-ready, throttling, 5xx, timeouts). */
  readonly maxAttempts: number;
  readonly timeoutMs: number;
  readonly concurrency: number;
  /** Consecutive endpoint failures that open the circuit, and how long it stays open. */
  readonly breakerThreshold: number;
  readonly breakerResetMs: number;
}

/** Maps an InvokeEndpoint error to an InferenceError (SageMaker's documented error codes). */
export function mapInvokeError(err: unknown): InferenceError {
  const name = err instanceof Error ? err.name : 'Unknown';
  const message = err instanceof Error ? err.message : String(err);
  switch (name) {
    case 'ModelError':
      return new InferenceError('model_error', `model error: ${message}`, false, err);
    case 'ModelNotReadyException':
      return new InferenceError('not_ready', `model not ready: ${message}`, true, err);
    case 'ValidationError':
      return new InferenceError('validation', `invalid invocation: ${message}`, false, err);
    case 'ThrottlingException':
      return new InferenceError('throttled', `throttled: ${message}`, true, err);
    case 'TimeoutError':
    case 'AbortError':
      return new InferenceError('timeout', `timed out: ${message}`, true, err);
    default:
      return new InferenceError('unavailable', `${name}: ${message}`, isRetryableAwsError(err), err);
  }
}

class Semaphore {
  private active = 0;
  private readonly waiters: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((r) => this.waiters.push(r));
    this.active += 1;
    try {
      return await fn();
    } finally {
      this.active -= 1;
      this.waiters.shift()?.();
    }
  }
}

/**
 * Calls the multi-model endpoint with TargetModel per pump: a concurrency limit, a timeout per
 * call, retries with jittered backoff for retryable failures, and a circuit breaker so a down
 * endpoint is not hammered (windows stay UNSCORED and are retried later instead).
 */
export class InferenceClient {
  private readonly semaphore: Semaphore;
  private consecutiveFailures = 0;
  private openUntil = 0;
  private calls = 0;

  constructor(
    private readonly client: SageMakerRuntimeClient,
    private readonly options: InferenceClientOptions,
    private readonly clock: Clock,
  ) {
    this.semaphore = new Semaphore(options.concurrency);
  }

  /** Invocations made (for metrics: invocations per scored window). */
  get invocations(): number {
    return this.calls;
  }

  async score(targetModel: string, request: InferenceRequest, signal?: AbortSignal): Promise<InferenceResponse> {
    let last: InferenceError | undefined;
    for (let attempt = 0; attempt < this.options.maxAttempts; attempt++) {
      if (this.clock.now() < this.openUntil) throw new InferenceError('circuit_open', `endpoint ${this.options.endpointName} circuit open`, true);
      try {
        const response = await this.semaphore.run(() => this.invoke(targetModel, request, signal));
        this.consecutiveFailures = 0;
        return response;
      } catch (err) {
        last = err instanceof InferenceError ? err : mapInvokeError(err);
        // A model failing or still loading is that model's problem, not the endpoint's: only
        // endpoint-wide failures (unavailable, throttled, timeouts) count towards the breaker.
        if (!['model_error', 'validation', 'bad_response', 'not_ready'].includes(last.failure)) {
          this.consecutiveFailures += 1;
          if (this.consecutiveFailures >= this.options.breakerThreshold) {
            this.openUntil = this.clock.now() + this.options.breakerResetMs;
          }
        }
        if (!last.retryable || signal?.aborted) throw last;
        await sleep(backoffDelay(attempt, 100, 2_000), signal).catch(() => undefined);
      }
    }
    throw last!;
  }

  private async invoke(targetModel: string, request: InferenceRequest, signal?: AbortSignal): Promise<InferenceResponse> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const abortSignal = signal ? AbortSignal.any([signal, timeout]) : timeout;
    this.calls += 1;
    let body: Uint8Array | undefined;
    try {
      const r = await this.client.send(
        new InvokeEndpointCommand({
          EndpointName: this.options.endpointName,
          TargetModel: targetModel,
          ContentType: 'application/json',
          Accept: 'application/json',
          Body: new TextEncoder().encode(JSON.stringify(request)),
        }),
        { abortSignal },
      );
      body = r.Body;
    } catch (err) {
      if (timeout.aborted) throw new InferenceError('timeout', `no answer within ${this.options.timeoutMs} ms`, true, err);
      throw mapInvokeError(err);
    }
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(body));
    } catch (err) {
      throw new InferenceError('bad_response', 'endpoint answered with non-JSON', false, err);
    }
    const parsed = InferenceResponseSchema.safeParse(json);
    if (!parsed.success) throw new InferenceError('bad_response', `endpoint answered outside the contract: ${parsed.error.message}`, false);
    if (parsed.data.results.length !== request.windows.length) {
      throw new InferenceError('bad_response', `asked for ${request.windows.length} scores, got ${parsed.data.results.length}`, false);
    }
    return parsed.data;
  }
}

/** The inference client a worker or a replay uses: settings from the configuration. */
export function createInferenceClient(
  config: Pick<Config, 'names' | 'consumer'>,
  client: SageMakerRuntimeClient,
  clock: Clock,
): InferenceClient {
  return new InferenceClient(
    client,
    {
      endpointName: config.names.modelEndpointName,
      maxAttempts: 3,
      timeoutMs: config.consumer.inferenceTimeoutMs,
      concurrency: 16,
      breakerThreshold: 5,
      breakerResetMs: 10_000,
    },
    clock,
  );
}
