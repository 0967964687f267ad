import { PumpwatchError } from '../../../shared/errors';

/** The `__type` names the SDK maps to its exception classes (or to a generic service exception). */
export type ApiErrorType =
  | 'ValidationException'
  | 'ResourceNotFoundException'
  | 'ResourceAlreadyExistsException'
  | 'InvalidEventPatternException'
  | 'LimitExceededException'
  | 'SerializationException'
  | 'UnknownOperationException'
  | 'ThrottlingException'
  | 'InternalException';

/**
 * An error answered to the client as EventBridge would: HTTP status plus
 * `{"__type": type, "message": message}`.
 */
export class EventBridgeApiError extends PumpwatchError {
  readonly awsType: ApiErrorType;
  readonly statusCode: number;

  constructor(awsType: ApiErrorType, message: string, options: { statusCode?: number; cause?: unknown } = {}) {
    super(message, { code: `EVENTBRIDGE_${awsType}`, cause: options.cause });
    this.awsType = awsType;
    this.statusCode = options.statusCode ?? (awsType === 'InternalException' ? 500 : 400);
  }
}

/** Shorthand for the most common rejection. */
export function validationError(message: string): EventBridgeApiError {
  return new EventBridgeApiError('ValidationException', message);
}
