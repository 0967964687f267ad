import { InvalidEventPatternError } from './errors';
import { PatternCompiler, type Goal } from './compile';
import { PreparedEvent } from './prepared-event';

/** A validated event pattern, compiled once and matched many times. */
export interface CompiledEventPattern {
  /** The pattern as parsed (a JSON object). */
  readonly pattern: Readonly<Record<string, unknown>>;
  /**
   * True when the event matches. Pass a {@link PreparedEvent} (see `prepareEvent`) to match one
   * event against many patterns without flattening it each time.
   */
  matches(event: object): boolean;
}

/**
 * Array-element bindings made while matching: fields matched inside the same array of objects
 * must come from the same element. Bindings are undone on backtracking.
 */
class Bindings {
  private readonly index = new Map<number, number>();
  private readonly log: number[] = [];

  mark(): number {
    return this.log.length;
  }

  /** Binds a leaf's array positions; 'conflict', 'unchanged' (nothing new) or 'bound'. */
  bind(trail: readonly number[]): 'conflict' | 'unchanged' | 'bound' {
    const start = this.log.length;
    for (let i = 0; i < trail.length; i += 2) {
      const id = trail[i] ?? -1;
      const at = trail[i + 1] ?? -1;
      const bound = this.index.get(id);
      if (bound === undefined) {
        this.index.set(id, at);
        this.log.push(id);
      } else if (bound !== at) {
        this.undo(start);
        return 'conflict';
      }
    }
    return this.log.length === start ? 'unchanged' : 'bound';
  }

  undo(mark: number): void {
    while (this.log.length > mark) this.index.delete(this.log.pop() ?? -1);
  }
}

function solve(goals: readonly Goal[], i: number, event: PreparedEvent, bindings: Bindings): boolean {
  if (i === goals.length) return true;
  const goal = goals[i];
  if (goal === undefined) return true;
  if (goal.kind === 'or') {
    const rest = goals.slice(i + 1);
    for (const alternative of goal.alternatives) {
      if (solve(rest.length === 0 ? alternative : [...alternative, ...rest], 0, event, bindings)) return true;
    }
    return false;
  }
  const leaves = event.at(goal.path);
  if (leaves === undefined || leaves.length === 0) {
    return goal.allowAbsent && solve(goals, i + 1, event, bindings);
  }
  for (const leaf of leaves) {
    if (!goal.test(leaf.value)) continue;
    const mark = bindings.mark();
    const bound = bindings.bind(leaf.trail);
    if (bound === 'conflict') continue;
    if (solve(goals, i + 1, event, bindings)) return true;
    bindings.undo(mark);
    // A leaf that added no constraint failed; any other leaf could only add constraints.
    if (bound === 'unchanged') return false;
  }
  return false;
}

class Compiled implements CompiledEventPattern {
  constructor(
    readonly pattern: Readonly<Record<string, unknown>>,
    private readonly goals: readonly Goal[],
  ) {}

  matches(event: object): boolean {
    const prepared = event instanceof PreparedEvent ? event : new PreparedEvent(event);
    return solve(this.goals, 0, prepared, new Bindings());
  }
}

function parse(pattern: string | object): unknown {
  if (typeof pattern !== 'string') return pattern;
  try {
    return JSON.parse(pattern);
  } catch (err) {
    throw new InvalidEventPatternError('(root)', `not valid JSON (${err instanceof Error ? err.message : String(err)})`, err);
  }
}

/**
 * Validates an EventBridge event pattern (a JSON string or an already parsed object) and compiles
 * it. Throws {@link InvalidEventPatternError} for anything EventBridge would reject, naming where in
 * the pattern and why.
 */
export function compileEventPattern(pattern: string | object): CompiledEventPattern {
  const compiled = new PatternCompiler().compile(parse(pattern));
  return new Compiled(compiled.pattern, compiled.goals);
}

/** One-off match of an event against a pattern (compile once with {@link compileEventPattern} instead when matching often). */
export function matchesEventPattern(pattern: string | object | CompiledEventPattern, event: object): boolean {
  const compiled = pattern instanceof Compiled ? pattern : compileEventPattern(pattern);
  return compiled.matches(event);
}
