import { ipInRange, parseIp, type IpRange } from './ip-address';
import { comparableNumber, numbersEqual } from './numbers';
import type { LeafValue } from './prepared-event';
import { wildcardMatcher, type WildcardPattern } from './wildcard';

/** A test on one leaf value of the event. */
export type ValueMatcher = (value: LeafValue) => boolean;

const lower = (s: string): string => s.toLowerCase();

/** Exact string. A pattern string that is an IP literal matches the same address in any notation. */
export function exactString(expected: string): ValueMatcher {
  const ip = parseIp(expected);
  if (ip) {
    return (v) => {
      if (typeof v !== 'string') return false;
      if (v === expected) return true;
      const other = parseIp(v);
      return other !== undefined && other.bytes === ip.bytes && other.value === ip.value;
    };
  }
  return (v) => v === expected;
}

/** Exact number: equal values (300 and 300.0 are the same JSON number). */
export function exactNumber(expected: number): ValueMatcher {
  return (v) => typeof v === 'number' && numbersEqual(v, expected);
}

/** Exact `true`, `false` or `null`. */
export function exactLiteral(expected: boolean | null): ValueMatcher {
  return (v) => v === expected;
}

/** Strings starting with `p`. */
export function prefix(p: string): ValueMatcher {
  return (v) => typeof v === 'string' && v.startsWith(p);
}

/** Strings starting with `p`, ignoring case. */
export function prefixIgnoreCase(p: string): ValueMatcher {
  const lp = lower(p);
  return (v) => typeof v === 'string' && lower(v).startsWith(lp);
}

/** Strings ending with `s`. */
export function suffix(s: string): ValueMatcher {
  return (v) => typeof v === 'string' && v.endsWith(s);
}

/** Strings ending with `s`, ignoring case. */
export function suffixIgnoreCase(s: string): ValueMatcher {
  const ls = lower(s);
  return (v) => typeof v === 'string' && lower(v).endsWith(ls);
}

/** Strings equal to `s`, ignoring case. */
export function equalsIgnoreCase(s: string): ValueMatcher {
  const ls = lower(s);
  return (v) => typeof v === 'string' && lower(v) === ls;
}

/** Strings matching a parsed wildcard. */
export function wildcard(pattern: WildcardPattern): ValueMatcher {
  const test = wildcardMatcher(pattern);
  return (v) => typeof v === 'string' && test(v);
}

/** Strings that are IP literals inside the range. */
export function cidr(range: IpRange): ValueMatcher {
  return (v) => typeof v === 'string' && ipInRange(v, range);
}

/** A numeric range on comparable keys; a missing bound is unbounded. Numbers only. */
export interface NumericBounds {
  readonly low?: { readonly key: number; readonly inclusive: boolean };
  readonly high?: { readonly key: number; readonly inclusive: boolean };
}

/** Numbers (within the comparable range) inside the bounds. */
export function numeric(bounds: NumericBounds): ValueMatcher {
  const { low, high } = bounds;
  return (v) => {
    if (typeof v !== 'number') return false;
    const key = comparableNumber(v);
    if (key === undefined) return false;
    if (low && (low.inclusive ? key < low.key : key <= low.key)) return false;
    if (high && (high.inclusive ? key > high.key : key >= high.key)) return false;
    return true;
  };
}

/** Any present leaf value, including null. */
export const anyValue: ValueMatcher = () => true;

/** Never matches (a field whose only alternative is `exists: false`, when the field is present). */
export const noValue: ValueMatcher = () => false;

/** Matches every leaf value (of any type, null included) that `excluded` does not match. */
export function anythingBut(excluded: ValueMatcher): ValueMatcher {
  return (v) => !excluded(v);
}

/** Matches when any of the alternatives matches. */
export function anyOf(matchers: readonly ValueMatcher[]): ValueMatcher {
  if (matchers.length === 1) return matchers[0] ?? noValue;
  return (v) => {
    for (const m of matchers) if (m(v)) return true;
    return false;
  };
}

/** Set membership for strings, with an optional case fold. */
export function stringSet(values: readonly string[], ignoreCase: boolean): ValueMatcher {
  const set = new Set(ignoreCase ? values.map(lower) : values);
  return ignoreCase ? (v) => typeof v === 'string' && set.has(lower(v)) : (v) => typeof v === 'string' && set.has(v);
}

/** Set membership for numbers, compared as EventBridge compares numbers. */
export function numberSet(values: readonly number[]): ValueMatcher {
  const keys = new Set(values.map((n) => comparableNumber(n)));
  return (v) => typeof v === 'number' && keys.has(comparableNumber(v));
}
