import { ConditionFailedError, isRetryableAwsError, NotFoundError, PumpwatchError, TransientError } from '../errors';

/**
 * Maps an error from a DynamoDB call to the project's error family, keeping the SDK error as
 * `cause`. Callers branch on the class: ConditionFailedError (someone else won), TransientError
 * (retry with backoff), NotFoundError (table missing), PumpwatchError (anything else).
 */
export function mapDynamoError(err: unknown, operation: string): PumpwatchError {
  if (err instanceof PumpwatchError) return err;
  const name = err instanceof Error ? err.name : 'Unknown';
  if (name === 'ConditionalCheckFailedException') return new ConditionFailedError(`${operation}: condition failed`, err);
  if (name === 'ResourceNotFoundException') return new NotFoundError(`${operation}: table not found`, err);
  if (isRetryableAwsError(err)) return new TransientError(`${operation}: ${name}`, err);
  return new PumpwatchError(`${operation}: ${err instanceof Error ? err.message : String(err)}`, { code: 'DYNAMODB', cause: err });
}

/** Runs a DynamoDB call and maps its error. */
export async function dynamo<T>(operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw mapDynamoError(err, operation);
  }
}

/** Runs a conditional write; returns false when the condition failed instead of throwing. */
export async function conditional(operation: string, call: () => Promise<unknown>): Promise<boolean> {
  try {
    await call();
    return true;
  } catch (err) {
    const mapped = mapDynamoError(err, operation);
    if (mapped instanceof ConditionFailedError) return false;
    throw mapped;
  }
}
