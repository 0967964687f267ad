import { InvalidEventPatternError } from './errors';
import { parseCidr } from './ip-address';
import { comparableNumber, NUMERIC_LIMIT } from './numbers';
import { isPlainObject } from './prepared-event';
import * as m from './value-matchers';
import type { ValueMatcher } from './value-matchers';
import { parseWildcard, wildcardComplexity, WILDCARD_COMPLEXITY_LIMIT, type WildcardPattern } from './wildcard';

/** One field of the pattern: its dot-joined event path and the OR of its value alternatives. */
export interface FieldGoal {
  readonly kind: 'field';
  readonly path: string;
  /** True when some alternative matches a leaf value. */
  readonly test: ValueMatcher;
  /** True when an `exists: false` alternative lets the field be absent. */
  readonly allowAbsent: boolean;
}

/** A `$or`: one of the alternatives (each a conjunction of goals) must hold. */
export interface OrGoal {
  readonly kind: 'or';
  readonly alternatives: readonly (readonly Goal[])[];
}

/** What a compiled pattern is made of: all goals of a list must hold. */
export type Goal = FieldGoal | OrGoal;

const OR_KEY = '$or';

// Operator names (and reserved future ones) cannot be field names inside `$or`.
const RESERVED_IN_OR = new Set([
  'exactly', 'equals-ignore-case', 'prefix', 'suffix', 'anything-but', 'exists', 'wildcard', 'numeric', 'cidr',
  '=', '<', '<=', '>', '>=', 'regex', 'not-wildcard', 'not-equals-ignore-case', 'date-after', 'date-on-or-after',
  'date-before', 'date-on-or-before', 'in-date-range', 'ip-address-in-range', 'ip-address-not-in-range',
]);

const NUMERIC_OPERATORS = new Set(['=', '<', '<=', '>', '>=']);

function fail(at: string, reason: string): never {
  throw new InvalidEventPatternError(at, reason);
}

function child(at: string, key: string): string {
  return at === '' ? key : `${at}.${key}`;
}

function display(at: string): string {
  return at === '' ? '(root)' : at;
}

function describeType(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/** Collects the goals of one conjunction (the pattern root, or one `$or` alternative). */
class Conjunction {
  // Same path twice at one level (e.g. `"a.b"` beside `"a": {"b": …}`): the later one wins,
  // as for a duplicated key.
  readonly fields = new Map<string, FieldGoal>();
  readonly ors: OrGoal[] = [];

  goals(): Goal[] {
    return [...this.fields.values(), ...this.ors];
  }
}

/** Validates a parsed pattern and builds its goals; wildcard complexity is checked per field. */
export class PatternCompiler {
  private readonly wildcards = new Map<string, { at: string; patterns: WildcardPattern[] }>();

  compile(root: unknown): { readonly pattern: Readonly<Record<string, unknown>>; readonly goals: Goal[] } {
    if (!isPlainObject(root)) fail('(root)', `Filter is not an object (got ${describeType(root)})`);
    const top = new Conjunction();
    this.object(root, [], '', top, false);
    for (const { at, patterns } of this.wildcards.values()) {
      if (wildcardComplexity(patterns) > WILDCARD_COMPLEXITY_LIMIT) {
        fail(at, 'Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character');
      }
    }
    return { pattern: root, goals: top.goals() };
  }

  private object(obj: Record<string, unknown>, segments: readonly string[], at: string, into: Conjunction, inOr: boolean): void {
    const keys = Object.keys(obj);
    if (keys.length === 0) fail(display(at), 'Empty objects are not allowed');
    for (const key of keys) {
      const value = obj[key];
      const here = child(at, key);
      if (key === OR_KEY) {
        into.ors.push(this.or(value, segments, here));
        continue;
      }
      if (inOr && RESERVED_IN_OR.has(key)) {
        fail(here, `"${key}" is a reserved name which cannot be used as a field name inside ${OR_KEY}`);
      }
      if (Array.isArray(value)) {
        const path = [...segments, key].join('.');
        into.fields.set(path, this.field(value, path, here));
      } else if (isPlainObject(value)) {
        this.object(value, [...segments, key], here, into, inOr);
      } else {
        fail(here, `"${key}" must be an object or an array (got ${describeType(value)})`);
      }
    }
  }

  private or(value: unknown, segments: readonly string[], at: string): OrGoal {
    if (!Array.isArray(value)) fail(at, `${OR_KEY} must be an array of objects (got ${describeType(value)})`);
    const alternatives = value.map((alt, i) => {
      const altAt = `${at}[${i}]`;
      if (!isPlainObject(alt)) fail(altAt, `only JSON objects are allowed in a ${OR_KEY} array (got ${describeType(alt)})`);
      const conj = new Conjunction();
      this.object(alt, segments, altAt, conj, true);
      return conj.goals();
    });
    if (alternatives.length < 2) fail(at, `${OR_KEY} needs at least 2 objects`);
    return { kind: 'or', alternatives };
  }

  private field(values: readonly unknown[], path: string, at: string): FieldGoal {
    if (values.length === 0) fail(at, 'Empty arrays are not allowed');
    const matchers: ValueMatcher[] = [];
    let allowAbsent = false;
    values.forEach((value, i) => {
      const here = `${at}[${i}]`;
      if (typeof value === 'string') matchers.push(m.exactString(value));
      else if (typeof value === 'number' && Number.isFinite(value)) matchers.push(m.exactNumber(value));
      else if (typeof value === 'boolean' || value === null) matchers.push(m.exactLiteral(value));
      else if (isPlainObject(value)) {
        const op = this.operator(value, path, here);
        if (op === 'absent') allowAbsent = true;
        else matchers.push(op);
      } else fail(here, `Match value must be String, number, true, false, or null (got ${describeType(value)})`);
    });
    return { kind: 'field', path, test: matchers.length === 0 ? m.noValue : m.anyOf(matchers), allowAbsent };
  }

  /** One `{ "operator": operand }` object; `'absent'` for `exists: false`. */
  private operator(expr: Record<string, unknown>, path: string, at: string): ValueMatcher | 'absent' {
    const keys = Object.keys(expr);
    if (keys.length === 0) fail(at, 'Match expression name not found');
    if (keys.length > 1) fail(at, `Only one key allowed in match expression (got ${keys.map((k) => `"${k}"`).join(', ')})`);
    const name = keys[0] ?? '';
    const operand = expr[name];
    const here = child(at, name);
    switch (name) {
      case 'prefix':
      case 'suffix': {
        if (isPlainObject(operand)) {
          const text = this.ignoreCaseOperand(operand, name, here);
          return name === 'prefix' ? m.prefixIgnoreCase(text) : m.suffixIgnoreCase(text);
        }
        if (typeof operand !== 'string') fail(here, `${name} match pattern must be a string (got ${describeType(operand)})`);
        return name === 'prefix' ? m.prefix(operand) : m.suffix(operand);
      }
      case 'equals-ignore-case':
        if (typeof operand !== 'string') fail(here, `equals-ignore-case match pattern must be a string (got ${describeType(operand)})`);
        return m.equalsIgnoreCase(operand);
      case 'wildcard':
        if (typeof operand !== 'string') fail(here, `wildcard match pattern must be a string (got ${describeType(operand)})`);
        return m.wildcard(this.wildcard(operand, path, here));
      case 'numeric':
        return m.numeric(this.numeric(operand, here));
      case 'exists':
        if (typeof operand !== 'boolean') fail(here, `exists match pattern must be either true or false (got ${describeType(operand)})`);
        return operand ? m.anyValue : 'absent';
      case 'cidr': {
        if (typeof operand !== 'string') fail(here, `cidr match pattern must be a string (got ${describeType(operand)})`);
        try {
          return m.cidr(parseCidr(operand));
        } catch (err) {
          return fail(here, err instanceof Error ? err.message : String(err));
        }
      }
      case 'anything-but':
        return m.anythingBut(this.anythingBut(operand, path, here));
      default:
        return fail(at, `Unrecognized match type ${name}`);
    }
  }

  /** `{ "equals-ignore-case": "text" }` inside prefix/suffix. */
  private ignoreCaseOperand(operand: Record<string, unknown>, op: string, at: string): string {
    const keys = Object.keys(operand);
    if (keys.length === 0) fail(at, `${op} expression name not found`);
    if (keys.length > 1) fail(at, 'Only one key allowed in match expression');
    const name = keys[0] ?? '';
    if (name !== 'equals-ignore-case') fail(child(at, name), `Unsupported ${op} pattern: ${name}`);
    const text = operand[name];
    if (typeof text !== 'string') fail(child(at, name), `equals-ignore-case match pattern must be a string (got ${describeType(text)})`);
    return text;
  }

  private wildcard(text: string, path: string, at: string): WildcardPattern {
    let parsed: WildcardPattern;
    try {
      parsed = parseWildcard(text);
    } catch (err) {
      return fail(at, err instanceof Error ? err.message : String(err));
    }
    const entry = this.wildcards.get(path);
    if (entry) entry.patterns.push(parsed);
    else this.wildcards.set(path, { at, patterns: [parsed] });
    return parsed;
  }

  private number(value: unknown, at: string, what: string): number {
    if (typeof value !== 'number' || !Number.isFinite(value)) fail(at, `Value of ${what} must be numeric (got ${describeType(value)})`);
    if (comparableNumber(value) === undefined) fail(at, `Value must be between ${-NUMERIC_LIMIT} and ${NUMERIC_LIMIT}, inclusive (got ${value})`);
    return value;
  }

  /** `[op, n]` or `[">"|">=", low, "<"|"<=", high]`, as EventBridge accepts them. */
  private numeric(operand: unknown, at: string): m.NumericBounds {
    if (!Array.isArray(operand)) fail(at, `Value of numeric must be an array (got ${describeType(operand)})`);
    const items: readonly unknown[] = operand;
    const op = items[0];
    if (typeof op !== 'string') fail(`${at}[0]`, `Invalid member in numeric match: ${JSON.stringify(op) ?? 'nothing'}`);
    if (!NUMERIC_OPERATORS.has(op)) fail(`${at}[0]`, `Unrecognized numeric range operator: ${op}`);
    const n = comparableNumber(this.number(items[1], `${at}[1]`, op)) ?? 0;
    if (op === '=') {
      if (items.length > 2) fail(at, 'Too many elements in numeric expression');
      return { low: { key: n, inclusive: true }, high: { key: n, inclusive: true } };
    }
    if (op === '<' || op === '<=') {
      if (items.length > 2) fail(at, 'Too many elements in numeric expression');
      return { high: { key: n, inclusive: op === '<=' } };
    }
    const low = { key: n, inclusive: op === '>=' };
    if (items.length === 2) return { low };
    const topOp = items[2];
    if (typeof topOp !== 'string') fail(`${at}[2]`, `Bad value in numeric range: ${JSON.stringify(topOp) ?? 'nothing'}`);
    if (topOp !== '<' && topOp !== '<=') fail(`${at}[2]`, `Bad numeric range operator: ${topOp} (a lower bound can only be followed by < or <=)`);
    const top = comparableNumber(this.number(items[3], `${at}[3]`, topOp)) ?? 0;
    if (items.length > 4) fail(at, 'Too many terms in numeric range expression');
    if (top <= n) fail(at, 'Bottom must be less than top');
    return { low, high: { key: top, inclusive: topOp === '<=' } };
  }

  /** What an anything-but excludes. */
  private anythingBut(operand: unknown, path: string, at: string): ValueMatcher {
    if (typeof operand === 'string') return m.stringSet([operand], false);
    if (typeof operand === 'number') return m.numberSet([this.number(operand, at, 'anything-but')]);
    if (Array.isArray(operand)) {
      const items: readonly unknown[] = operand;
      if (items.length === 0) fail(at, 'Inside anything-but list, at least one value is required');
      if (items.every((v): v is string => typeof v === 'string')) return m.stringSet(items, false);
      if (items.every((v): v is number => typeof v === 'number')) {
        return m.numberSet(items.map((v, i) => this.number(v, `${at}[${i}]`, 'anything-but')));
      }
      const bad = items.findIndex((v) => typeof v !== 'string' && typeof v !== 'number');
      if (bad >= 0) fail(`${at}[${bad}]`, `Inside anything-but list, only strings or numbers are supported (got ${describeType(items[bad])})`);
      return fail(at, 'Inside anything-but list, either all values are number or string, mixed type is not supported');
    }
    if (!isPlainObject(operand)) {
      return fail(at, `Value of anything-but must be an array or single string/number value (got ${describeType(operand)})`);
    }
    const keys = Object.keys(operand);
    if (keys.length === 0) fail(at, 'Anything-but expression name not found');
    if (keys.length > 1) fail(at, 'Only one key allowed in anything-but expression');
    const name = keys[0] ?? '';
    const here = child(at, name);
    if (name !== 'equals-ignore-case' && name !== 'prefix' && name !== 'suffix' && name !== 'wildcard') {
      fail(here, `Unsupported anything-but pattern: ${name}`);
    }
    const inner = operand[name];
    const texts: string[] = [];
    const list: readonly unknown[] = Array.isArray(inner) ? inner : [inner];
    if (Array.isArray(inner) && list.length === 0) fail(here, `Inside anything-but/${name} list, at least one value is required`);
    list.forEach((v, i) => {
      const itemAt = Array.isArray(inner) ? `${here}[${i}]` : here;
      if (isPlainObject(v)) fail(itemAt, `anything-but/${name} takes strings, not nested operators`);
      if (typeof v !== 'string') {
        fail(itemAt, name === 'equals-ignore-case'
          ? `Inside anything-but/equals-ignore-case, only strings are supported (got ${describeType(v)})`
          : `${name} match pattern must be a string (got ${describeType(v)})`);
      }
      if ((name === 'prefix' || name === 'suffix') && v === '') fail(itemAt, `Empty ${name} not allowed in anything-but`);
      texts.push(v);
    });
    switch (name) {
      case 'equals-ignore-case':
        return m.stringSet(texts, true);
      case 'prefix':
        return m.anyOf(texts.map(m.prefix));
      case 'suffix':
        return m.anyOf(texts.map(m.suffix));
      default:
        return m.anyOf(texts.map((t, i) => m.wildcard(this.wildcard(t, path, Array.isArray(inner) ? `${here}[${i}]` : here))));
    }
  }
}
