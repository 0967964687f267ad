import { PumpwatchError } from '../../../shared/errors';

/**
 * SageMaker Runtime's error shapes, as `@aws-sdk/client-sagemaker-runtime` (restJson1) reads them:
 * the error name from the `x-amzn-ErrorType` header (the part before any `:`), the HTTP status from
 * the shape's `httpError` trait, and the members from the JSON body by their shape names. The SDK
 * then raises its own class (`ValidationError`, `ModelError`, …) with those members.
 */
export const SAGEMAKER_ERRORS = {
  ValidationError: { status: 400, retryable: false },
  ModelError: { status: 424, retryable: false },
  ModelNotReadyException: { status: 429, retryable: true },
  InternalFailure: { status: 500, retryable: true },
  ServiceUnavailable: { status: 503, retryable: true },
  InternalDependencyException: { status: 530, retryable: true },
  UnknownOperationException: { status: 404, retryable: false },
} as const;

/** A SageMaker Runtime error name. */
export type SageMakerErrorName = keyof typeof SAGEMAKER_ERRORS;

/** The extra members of `ModelError`: what the container answered. */
export interface ModelErrorDetails {
  readonly originalStatusCode: number;
  readonly originalMessage: string;
  readonly logStreamArn: string;
}

/**
 * An error the local endpoint answers with, in SageMaker's wire shape. Thrown inside the server and
 * rendered by {@link renderSageMakerError}; `code` is the SageMaker error name.
 */
export class SageMakerApiError extends PumpwatchError {
  readonly errorName: SageMakerErrorName;
  readonly status: number;
  readonly modelError: ModelErrorDetails | undefined;

  constructor(errorName: SageMakerErrorName, message: string, options: { modelError?: ModelErrorDetails; cause?: unknown } = {}) {
    super(message, { code: errorName, retryable: SAGEMAKER_ERRORS[errorName].retryable, cause: options.cause });
    this.errorName = errorName;
    this.status = SAGEMAKER_ERRORS[errorName].status;
    this.modelError = options.modelError;
  }
}

/** Where a SageMaker endpoint's container logs go, as `LogStreamArn` names it. */
export function endpointLogGroupArn(region: string, accountId: string, endpointName: string): string {
  return `arn:aws:logs:${region}:${accountId}:log-group:/aws/sagemaker/Endpoints/${endpointName}`;
}

/**
 * The `ModelError` SageMaker raises when the container answers non-2xx: message in SageMaker's
 * words ("Received client error (400) from primary with message …"), the container's status and
 * body as `OriginalStatusCode` / `OriginalMessage`, and the log group.
 */
export function modelError(params: {
  readonly region: string;
  readonly accountId: string;
  readonly endpointName: string;
  readonly variantName: string;
  readonly originalStatusCode: number;
  readonly originalMessage: string;
  readonly cause?: unknown;
}): SageMakerApiError {
  const { region, accountId, endpointName, originalStatusCode, originalMessage } = params;
  const side = originalStatusCode < 500 ? 'client' : 'server';
  const message =
    `Received ${side} error (${originalStatusCode}) from ${params.variantName === 'AllTraffic' ? 'primary' : params.variantName} ` +
    `with message "${originalMessage}". See https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}` +
    `#logEventViewer:group=/aws/sagemaker/Endpoints/${endpointName} in account ${accountId} for more information.`;
  return new SageMakerApiError('ModelError', message, {
    modelError: { originalStatusCode, originalMessage, logStreamArn: endpointLogGroupArn(region, accountId, endpointName) },
    cause: params.cause,
  });
}

/** Status, headers and body for an error, byte-compatible with what the SDK's deserializer expects. */
export function renderSageMakerError(err: SageMakerApiError, requestId: string): { status: number; headers: Record<string, string>; body: string } {
  const headers = { 'x-amzn-RequestId': requestId, 'x-amzn-ErrorType': err.errorName };
  if (err.modelError) {
    const m = err.modelError;
    return {
      status: err.status,
      headers,
      body: JSON.stringify({
        ErrorCode: m.originalStatusCode < 500 ? 'CLIENT_ERROR_FROM_MODEL' : 'SERVER_ERROR_FROM_MODEL',
        LogStreamArn: m.logStreamArn,
        Message: err.message,
        OriginalMessage: m.originalMessage,
        OriginalStatusCode: m.originalStatusCode,
      }),
    };
  }
  return { status: err.status, headers, body: JSON.stringify({ message: err.message }) };
}
