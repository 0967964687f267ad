import type { Clock } from '../../../shared/clock';
import { type ConditionPolicy, ConditionPolicySchema } from '../../../shared/schemas/condition';
import type { PumpRecord } from '../../../shared/schemas/pump';
import type { PumpRegistry } from '../../../shared/stores/pump-registry';

/** Registry values for pumps that send data before anyone registered them (plug and play). */
export const UNASSIGNED = { tenantId: 'unassigned', siteId: 'unassigned', pumpType: 'default' } as const;

/**
 * Cached pump registry lookups. An unknown pump is enrolled with defaults (it is kept, not
 * rejected); `enrolled` tells the caller to announce it with a `Pump Enrolled` event.
 */
export class PumpDirectory {
  private readonly cache = new Map<string, { at: number; pump: PumpRecord }>();

  constructor(
    private readonly registry: PumpRegistry,
    private readonly clock: Clock,
    private readonly refreshMs: number,
    private readonly defaultPolicy: ConditionPolicy = ConditionPolicySchema.parse({}),
  ) {}

  async get(pumpId: string): Promise<{ pump: PumpRecord; enrolled: boolean }> {
    const now = this.clock.now();
    const hit = this.cache.get(pumpId);
    if (hit && now - hit.at < this.refreshMs) return { pump: hit.pump, enrolled: false };
    let pump = await this.registry.get(pumpId);
    let enrolled = false;
    if (!pump) {
      const candidate: PumpRecord = { pumpId, ...UNASSIGNED, sampleRateHz: 1, enrolledAt: now };
      enrolled = await this.registry.put(candidate);
      pump = (await this.registry.get(pumpId)) ?? candidate;
    }
    this.cache.set(pumpId, { at: now, pump });
    return { pump, enrolled };
  }

  /** Sample rate from the cache (the windower asks synchronously); 1 Hz until known. */
  sampleRateHz(pumpId: string): number {
    return this.cache.get(pumpId)?.pump.sampleRateHz ?? 1;
  }

  policyOf(pump: PumpRecord): ConditionPolicy {
    return pump.policy ?? this.defaultPolicy;
  }
}
