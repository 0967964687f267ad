/**
 * Fault injection, for tests that prove the guarantees by breaking things on purpose. Off unless
 * configured. Spec: comma-separated `crash@<point>[#n]` (kill the process the n-th time the point
 * is reached, default the first) and `poison@<pumpId>` (processing any record of that pump throws).
 */
export const FAULT_POINTS = [
  'after-read',
  'after-window',
  'after-history-write',
  'after-outbox-write',
  'after-state-write',
  'after-put-events',
  'before-checkpoint',
] as const;
export type FaultPoint = (typeof FAULT_POINTS)[number];

/** Thrown for a poisoned pump's records: it is a processing failure, not a validation one. */
export class InjectedPoisonError extends Error {
  constructor(pumpId: string) {
    super(`injected poison for pump ${pumpId}`);
    this.name = 'InjectedPoisonError';
  }
}

export class Faults {
  private readonly crashes = new Map<FaultPoint, number>();
  private readonly poisoned = new Set<string>();
  private readonly counts = new Map<FaultPoint, number>();

  constructor(
    spec: string | undefined,
    private readonly crash: () => void = () => process.kill(process.pid, 'SIGKILL'),
  ) {
    for (const part of (spec ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
      const m = /^(crash|poison)@([^#]+)(?:#(\d+))?$/.exec(part);
      if (!m) throw new Error(`bad fault spec ${JSON.stringify(part)}: use crash@<point>[#n] or poison@<pumpId>`);
      if (m[1] === 'poison') {
        this.poisoned.add(m[2]!);
        continue;
      }
      const point = m[2] as FaultPoint;
      if (!(FAULT_POINTS as readonly string[]).includes(point)) throw new Error(`unknown fault point ${point}; one of ${FAULT_POINTS.join(', ')}`);
      this.crashes.set(point, Number(m[3] ?? '1'));
    }
  }

  get enabled(): boolean {
    return this.crashes.size > 0 || this.poisoned.size > 0;
  }

  /** Marks that execution reached `point`; crashes the process if so configured. */
  reach(point: FaultPoint): void {
    const at = this.crashes.get(point);
    if (at === undefined) return;
    const n = (this.counts.get(point) ?? 0) + 1;
    this.counts.set(point, n);
    if (n === at) this.crash();
  }

  /** Throws for a poisoned pump. */
  checkPoison(pumpId: string): void {
    if (this.poisoned.has(pumpId)) throw new InjectedPoisonError(pumpId);
  }
}

/** No faults. */
export const NO_FAULTS = new Faults(undefined);
