import type { Clock } from '../../../shared/clock';
import { type ModelRegistry, type ModelVersion, pumpModelGroup, typeModelGroup } from '../../../shared/stores/model-registry';
import type { PumpRecord } from '../../../shared/schemas/pump';

/** Where a pump's windows go: the approved version serving it. */
export interface Route {
  readonly target: string;
  readonly modelId: string;
  readonly version: string;
  readonly modelGroup: string;
}

/** Where a pump's windows are scored: the live {@link ModelRouter}, or a replay job's fixed routing. */
export interface RouteResolver {
  route(pump: PumpRecord): Promise<Route | null>;
}

/** The route of a model version. */
export function toRoute(v: ModelVersion): Route {
  return { target: v.target, modelId: v.modelId, version: String(v.version), modelGroup: v.modelGroup };
}

/**
 * Routing: pump → newest Approved version of its own model group, else of its pump type's
 * default group, else none (the pump is LEARNING). Answers are cached for `refreshMs`, which
 * bounds how long an approval or rejection takes to reach the pipeline, with no restart.
 */
export class ModelRouter implements RouteResolver {
  private readonly cache = new Map<string, { at: number; route: Route | null }>();

  constructor(
    private readonly registry: ModelRegistry,
    private readonly clock: Clock,
    private readonly refreshMs: number,
  ) {}

  async route(pump: PumpRecord): Promise<Route | null> {
    const hit = this.cache.get(pump.pumpId);
    const now = this.clock.now();
    if (hit && now - hit.at < this.refreshMs) return hit.route;
    const own = await this.registry.approved(pumpModelGroup(pump.pumpId));
    const chosen = own ?? (await this.registry.approved(typeModelGroup(pump.pumpType)));
    const route = chosen ? toRoute(chosen) : null;
    this.cache.set(pump.pumpId, { at: now, route });
    return route;
  }

  /** Forgets cached routes (all, or one pump's) — e.g. on a model package state change event. */
  invalidate(pumpId?: string): void {
    if (pumpId) this.cache.delete(pumpId);
    else this.cache.clear();
  }
}
