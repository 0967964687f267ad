import { ValidationError } from '../errors';

/**
 * An event pattern EventBridge would reject (`InvalidEventPatternException` from PutRule or
 * TestEventPattern). `patternPath` names the offending place in the pattern, `reason` says why.
 */
export class InvalidEventPatternError extends ValidationError {
  override readonly code: string = 'INVALID_EVENT_PATTERN';
  /** Where in the pattern, e.g. `detail.state[0].prefix`; `(root)` for the whole pattern. */
  readonly patternPath: string;
  /** Why, without the path. */
  readonly reason: string;

  constructor(patternPath: string, reason: string, cause?: unknown) {
    super(`Event pattern is not valid. Reason: ${reason} at ${patternPath}`, cause);
    this.patternPath = patternPath;
    this.reason = reason;
  }
}
