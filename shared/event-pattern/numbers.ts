/**
 * Numbers as EventBridge compares them: limited to ±5.0e9 and compared to six digits after the
 * decimal point. The comparable key reproduces that rounding with the same IEEE-754 arithmetic.
 */
export const NUMERIC_LIMIT = 5e9;

/** The comparable key of `n`, or undefined when `n` is outside the comparable range. */
export function comparableNumber(n: number): number | undefined {
  if (!Number.isFinite(n) || n < -NUMERIC_LIMIT || n > NUMERIC_LIMIT) return undefined;
  return Math.floor(1e6 * (NUMERIC_LIMIT + n));
}

/** True when two JSON numbers are the same value for EventBridge (exact, or equal when compared). */
export function numbersEqual(a: number, b: number): boolean {
  if (a === b) return true;
  const ka = comparableNumber(a);
  return ka !== undefined && ka === comparableNumber(b);
}
