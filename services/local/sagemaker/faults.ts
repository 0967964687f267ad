import { z } from 'zod';
import { ValidationError } from '../../../shared/errors';
import { describeIssues } from '../../../shared/schemas/issues';

/** Matches every TargetModel in {@link FaultInjector.inject}. */
export const ANY_TARGET = '*';

/**
 * A fault to inject into invocations of one TargetModel (tests and the demo):
 * - `ModelError`: answer 424 as if the container failed (`originalStatusCode`, default 500);
 * - `ModelNotReady`: answer 429 ModelNotReadyException;
 * - `ServiceUnavailable` (503) / `InternalFailure` (500);
 * - `delay`: wait `delayMs`, then serve normally.
 * Any kind may carry `delayMs` (wait first, then fail). It applies to the next `count` matching
 * calls (default 1), or to every call while `untilCleared` is true.
 */
export const FaultSpecSchema = z
  .strictObject({
    kind: z.enum(['ModelError', 'ModelNotReady', 'ServiceUnavailable', 'InternalFailure', 'delay']),
    count: z.number().int().positive().optional(),
    untilCleared: z.boolean().optional(),
    delayMs: z.number().int().nonnegative().optional(),
    /** Only invocations of this endpoint; default every endpoint. */
    endpoint: z.string().min(1).optional(),
    /** ModelError only: the container status reported as `OriginalStatusCode`. */
    originalStatusCode: z.number().int().min(400).max(599).optional(),
    /** Message reported (ModelError: as `OriginalMessage`). */
    message: z.string().optional(),
  })
  .refine((f) => !(f.count !== undefined && f.untilCleared === true), { message: 'give count or untilCleared, not both', path: ['count'] })
  .refine((f) => f.kind !== 'delay' || f.delayMs !== undefined, { message: 'a delay fault needs delayMs', path: ['delayMs'] });
export type FaultSpec = z.input<typeof FaultSpecSchema>;
export type Fault = z.output<typeof FaultSpecSchema>;

/** A fault waiting to fire. */
export interface ActiveFault {
  readonly target: string;
  readonly fault: Fault;
  /** Calls left; `Infinity` until cleared. */
  readonly remaining: number;
}

interface Slot {
  readonly target: string;
  readonly fault: Fault;
  remaining: number;
}

/** Injected faults by TargetModel, consumed in the order they were injected. */
export class FaultInjector {
  private slots: Slot[] = [];

  /** Adds a fault; throws ValidationError for an invalid spec. */
  inject(target: string, spec: FaultSpec): void {
    if (target === '') throw new ValidationError('fault target must not be empty');
    const parsed = FaultSpecSchema.safeParse(spec);
    if (!parsed.success) throw new ValidationError(`invalid fault: ${describeIssues(parsed.error)}`, parsed.error);
    const fault = parsed.data;
    this.slots.push({ target, fault, remaining: fault.untilCleared ? Infinity : (fault.count ?? 1) });
  }

  /** Removes the faults of one target, or all of them. */
  clear(target?: string): void {
    this.slots = target === undefined ? [] : this.slots.filter((s) => s.target !== target);
  }

  /** Takes the fault for one call, if any: an exact target match first, then {@link ANY_TARGET}. */
  take(endpoint: string, target: string): Fault | undefined {
    const matches = (s: Slot): boolean => s.remaining > 0 && (s.fault.endpoint === undefined || s.fault.endpoint === endpoint);
    const slot = this.slots.find((s) => s.target === target && matches(s)) ?? this.slots.find((s) => s.target === ANY_TARGET && matches(s));
    if (!slot) return undefined;
    slot.remaining--;
    if (slot.remaining <= 0) this.slots = this.slots.filter((s) => s !== slot);
    return slot.fault;
  }

  /** Faults still waiting to fire. */
  list(): ActiveFault[] {
    return this.slots.map((s) => ({ target: s.target, fault: s.fault, remaining: s.remaining }));
  }
}
