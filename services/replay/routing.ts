import { NotFoundError, ValidationError } from '../../shared/errors';
import type { PumpRecord } from '../../shared/schemas/pump';
import { type ModelRegistry, parseModelGroup, pumpModelGroup, typeModelGroup } from '../../shared/stores/model-registry';
import { type Route, type RouteResolver, toRoute } from '../consumer/pipeline/model-router';

/**
 * Which model a replay scores with:
 * - `approved`: what live routing would pick (the pump's own newest Approved version, else its
 *   type's), as the registry stood when the job was created — frozen, so a resumed job and a
 *   re-run score with the same versions even if approvals changed meanwhile;
 * - `version`: version N of the model group serving each pump (an older version, to compare);
 * - `model`: one model version (`<modelGroup>:<version>`) for every pump of the replay.
 */
export type ModelChoice =
  | { readonly kind: 'approved' }
  | { readonly kind: 'version'; readonly version: number }
  | { readonly kind: 'model'; readonly modelGroup: string; readonly version: number };

/** Reads `--model`: `approved`, `N` / `vN`, or `<modelGroup>:<N>` (e.g. `type-centrifugal:1`). */
export function parseModelChoice(value: string): ModelChoice {
  if (value === 'approved') return { kind: 'approved' };
  const version = /^v?(\d+)$/.exec(value);
  if (version && Number(version[1]) > 0) return { kind: 'version', version: Number(version[1]) };
  const pinned = /^(.+):v?(\d+)$/.exec(value);
  if (pinned && parseModelGroup(pinned[1]!) && Number(pinned[2]) > 0) return { kind: 'model', modelGroup: pinned[1]!, version: Number(pinned[2]) };
  throw new ValidationError(`--model ${JSON.stringify(value)}: use approved, a version number, or <modelGroup>:<version> (e.g. type-centrifugal:1)`);
}

/** The newest Approved version of every model group, now: a job's frozen `approved` routing. */
export async function snapshotApproved(registry: ModelRegistry): Promise<Record<string, Route>> {
  const out: Record<string, Route> = {};
  // list() is newest first within a group.
  for (const v of await registry.list()) if (v.status === 'Approved' && !out[v.modelGroup]) out[v.modelGroup] = toRoute(v);
  return out;
}

/** Resolves a pinned `<group>:<version>`; it must exist and have an artifact (not Registering). */
export async function resolvePinned(registry: ModelRegistry, modelGroup: string, version: number): Promise<Route> {
  const v = await registry.get(modelGroup, version);
  if (!v) throw new NotFoundError(`model ${modelGroup} v${version} does not exist`);
  if (v.status === 'Registering') throw new ValidationError(`model ${modelGroup} v${version} is still being registered`);
  return toRoute(v);
}

/**
 * A replay job's routing: fixed for the job (see {@link ModelChoice}), never the live cache. A
 * pinned version a pump's groups do not have fails the job with a message, rather than leaving
 * its windows unscored.
 */
export class ReplayRouter implements RouteResolver {
  private readonly byPump = new Map<string, Promise<Route | null>>();

  constructor(
    private readonly choice: ModelChoice,
    private readonly approved: Readonly<Record<string, Route>>,
    private readonly registry: ModelRegistry,
    private readonly pinned?: Route,
  ) {}

  route(pump: PumpRecord): Promise<Route | null> {
    let r = this.byPump.get(pump.pumpId);
    if (!r) {
      r = this.resolve(pump);
      this.byPump.set(pump.pumpId, r);
      r.catch(() => this.byPump.delete(pump.pumpId));
    }
    return r;
  }

  private async resolve(pump: PumpRecord): Promise<Route | null> {
    const own = pumpModelGroup(pump.pumpId);
    const type = typeModelGroup(pump.pumpType);
    const serving = this.approved[own] ?? this.approved[type];
    switch (this.choice.kind) {
      case 'approved':
        return serving ?? null;
      case 'model':
        if (!this.pinned) throw new ValidationError(`replay routing: pinned model ${this.choice.modelGroup}:${this.choice.version} not resolved`);
        return this.pinned;
      case 'version': {
        const groups = [...new Set([serving?.modelGroup, own, type].filter((g): g is string => !!g))];
        for (const group of groups) {
          const v = await this.registry.get(group, this.choice.version);
          if (v && v.status !== 'Registering') return { target: v.target, modelId: v.modelId, version: String(v.version), modelGroup: v.modelGroup };
        }
        throw new ValidationError(`pump ${pump.pumpId}: no model version ${this.choice.version} in ${groups.join(' or ')}`);
      }
    }
  }
}
