/**
 * Wildcard patterns: `*` matches any run of characters (including none); `\*` and `\\` are the
 * literal characters. Two `*` in a row and any other escape are rejected, as EventBridge does.
 */

/** A parsed wildcard: literal text segments between the stars. */
export interface WildcardPattern {
  readonly text: string;
  /** `segments[0]` before the first star, ..., the last after the last star. */
  readonly segments: readonly string[];
}

/** Parses and validates a wildcard; throws an Error whose message is the reason. */
export function parseWildcard(text: string): WildcardPattern {
  const segments: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '*') {
      if (text[i + 1] === '*') throw new Error(`Consecutive wildcard characters at pos ${i}`);
      segments.push(current);
      current = '';
    } else if (ch === '\\') {
      const next = text[i + 1];
      if (next !== '*' && next !== '\\') throw new Error(`Invalid escape character at pos ${i}`);
      current += next;
      i++;
    } else {
      current += ch;
    }
  }
  segments.push(current);
  return { text, segments };
}

/** Compiles a parsed wildcard to a string predicate (no regular expressions: no backtracking blow-up). */
export function wildcardMatcher(pattern: WildcardPattern): (value: string) => boolean {
  const segs = pattern.segments;
  if (segs.length === 1) {
    const only = segs[0] ?? '';
    return (value) => value === only;
  }
  const head = segs[0] ?? '';
  const tail = segs[segs.length - 1] ?? '';
  const middle = segs.slice(1, -1);
  const minLength = segs.reduce((n, s) => n + s.length, 0);
  return (value) => {
    if (value.length < minLength || !value.startsWith(head) || !value.endsWith(tail)) return false;
    // Greedy leftmost placement of each middle segment is optimal for star-separated literals.
    let pos = head.length;
    const end = value.length - tail.length;
    for (const seg of middle) {
      const at = value.indexOf(seg, pos);
      if (at < 0 || at + seg.length > end) return false;
      pos = at + seg.length;
    }
    return true;
  };
}

/** Above this many simultaneously live matcher states, EventBridge calls a rule too complex. */
export const WILDCARD_COMPLEXITY_LIMIT = 10;
const MAX_EXPLORED_STATE_SETS = 20_000;

type Token = string | null; // null = star

function tokens(pattern: WildcardPattern): Token[] {
  // The matcher works on the quoted value, so the quotes are part of the machine.
  const out: Token[] = ['"'];
  pattern.segments.forEach((seg, i) => {
    if (i > 0) out.push(null);
    for (const ch of seg) out.push(ch);
  });
  out.push('"');
  return out;
}

/**
 * The worst case, over all inputs, of how many matcher states of these wildcards (all for one
 * field) are live at once. Repeated literal runs after a star and many stars multiply the states
 * a value can be in; EventBridge rejects such rules as too complex. The count is of the
 * nondeterministic automaton's states (a star position and the position after it both count),
 * explored over every character that appears in the patterns plus one that appears in none.
 */
export function wildcardComplexity(patterns: readonly WildcardPattern[]): number {
  const machines = patterns.map(tokens);
  const alphabet = new Set<string>(['\u0000']);
  for (const m of machines) for (const t of m) if (t !== null) alphabet.add(t);
  const closure = (states: Set<string>): Set<string> => {
    const out = new Set<string>();
    const stack = [...states];
    while (stack.length > 0) {
      const s = stack.pop() ?? '';
      if (out.has(s)) continue;
      out.add(s);
      const [mi, pi] = s.split(':').map(Number) as [number, number];
      if (machines[mi]?.[pi] === null) stack.push(`${mi}:${pi + 1}`);
    }
    return out;
  };
  const step = (states: Set<string>, ch: string): Set<string> => {
    const next = new Set<string>();
    for (const s of states) {
      const [mi, pi] = s.split(':').map(Number) as [number, number];
      const token = machines[mi]?.[pi];
      if (token === undefined) continue;
      if (token === null) next.add(s);
      else if (token === ch) next.add(`${mi}:${pi + 1}`);
    }
    return closure(next);
  };
  const start = closure(new Set(machines.map((_, i) => `${i}:0`)));
  const seen = new Set<string>();
  const queue: Set<string>[] = [start];
  let worst = 0;
  while (queue.length > 0) {
    const states = queue.shift() ?? new Set<string>();
    for (const ch of alphabet) {
      const next = step(states, ch);
      if (next.size === 0) continue;
      worst = Math.max(worst, next.size);
      if (worst > WILDCARD_COMPLEXITY_LIMIT) return worst;
      const key = [...next].sort().join(',');
      if (seen.has(key)) continue;
      seen.add(key);
      if (seen.size > MAX_EXPLORED_STATE_SETS) return Number.POSITIVE_INFINITY;
      queue.push(next);
    }
  }
  return worst;
}
