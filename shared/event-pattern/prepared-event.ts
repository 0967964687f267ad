/**
 * An event flattened once for matching against many patterns: every leaf value (string, number,
 * boolean, null) under its dot-joined field path. Arrays add no path segment; each leaf remembers
 * which element of which array it came from, so fields matched inside an array of objects can be
 * required to come from the same element (as EventBridge does).
 */
export type LeafValue = string | number | boolean | null;

/** One leaf: its value and, when inside arrays, the (array id, element index) pairs leading to it. */
export interface Leaf {
  readonly value: LeafValue;
  /** Flat pairs: [arrayId0, index0, arrayId1, index1, ...]; empty outside arrays. */
  readonly trail: readonly number[];
}

const EMPTY: readonly number[] = [];

/** An event ready for matching; build it with {@link prepareEvent}. */
export class PreparedEvent {
  /** @internal */
  readonly leaves = new Map<string, Leaf[]>();
  private nextArrayId = 0;

  /** @internal use {@link prepareEvent} */
  constructor(event: unknown) {
    if (isPlainObject(event)) this.walkObject(event, '', EMPTY);
  }

  /** The leaves at a dot-joined path (empty when absent or only objects are there). */
  at(path: string): readonly Leaf[] | undefined {
    return this.leaves.get(path);
  }

  private add(path: string, value: LeafValue, trail: readonly number[]): void {
    const list = this.leaves.get(path);
    if (list) list.push({ value, trail });
    else this.leaves.set(path, [{ value, trail }]);
  }

  private walkObject(obj: Record<string, unknown>, prefix: string, trail: readonly number[]): void {
    for (const key of Object.keys(obj)) {
      this.walkValue(obj[key], prefix === '' ? key : `${prefix}.${key}`, trail);
    }
  }

  private walkValue(value: unknown, path: string, trail: readonly number[]): void {
    if (Array.isArray(value)) {
      const id = this.nextArrayId++;
      value.forEach((element, index) => this.walkValue(element, path, [...trail, id, index]));
    } else if (isPlainObject(value)) {
      this.walkObject(value, path, trail);
    } else if (typeof value === 'string' || typeof value === 'boolean' || value === null) {
      this.add(path, value, trail);
    } else if (typeof value === 'number' && Number.isFinite(value)) {
      this.add(path, value, trail);
    }
    // undefined, functions, symbols, bigints: not JSON, not part of the event.
  }
}

/** Flattens an event for matching. Reuse the result to match one event against many patterns. */
export function prepareEvent(event: object): PreparedEvent {
  return new PreparedEvent(event);
}

/** A non-null, non-array object. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
