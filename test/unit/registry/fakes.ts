import type { FeatureVector } from '../../../shared/schemas/features';
import type { ModelStatus, ModelVersion } from '../../../shared/stores/model-registry';
import { type WindowItem, type WindowStore, windowSortKey } from '../../../shared/stores/window-store';
import { vector } from '../../support/factories';

/** The window history in memory (a fake of the port, same query semantics). */
export class InMemoryWindowStore implements WindowStore {
  readonly items = new Map<string, WindowItem>();
  failQueries = false;

  async putIfAbsent(item: WindowItem): Promise<{ created: boolean; item: WindowItem }> {
    const key = `${item.pumpId}|${item.sk}`;
    const existing = this.items.get(key);
    if (existing) return { created: false, item: existing };
    this.items.set(key, item);
    return { created: true, item };
  }
  async get(pumpId: string, sk: string): Promise<WindowItem | undefined> {
    return this.items.get(`${pumpId}|${sk}`);
  }
  async resolveUnscored(): Promise<boolean> {
    return false;
  }
  async recordAttempt(): Promise<void> {}
  async setOutcome(): Promise<void> {}
  async query(pumpId: string, o: { from?: number; to?: number; limit?: number; newestFirst?: boolean } = {}): Promise<WindowItem[]> {
    if (this.failQueries) throw new Error('window table unavailable');
    const all = [...this.items.values()]
      .filter((i) => i.pumpId === pumpId && !i.replayJobId && i.windowStart >= (o.from ?? 0) && i.windowStart < (o.to ?? Number.MAX_SAFE_INTEGER))
      .sort((a, b) => (o.newestFirst ? b.windowStart - a.windowStart : a.windowStart - b.windowStart));
    return o.limit ? all.slice(0, o.limit) : all;
  }
  async listUnscored(): Promise<WindowItem[]> {
    return [];
  }
}

/** A stored window of a pump, healthy and UNROUTED unless overridden; `i` numbers 10-s windows. */
export function storedWindow(pumpId: string, i: number, overrides: Partial<WindowItem> = {}, features: Partial<FeatureVector> = {}): WindowItem {
  const start = 1_700_000_000_000 + i * 10_000;
  const pressure = 5 + 0.1 * Math.sin(i) + 0.01 * (i % 3);
  return {
    pumpId,
    sk: windowSortKey(start),
    windowStart: start,
    windowEnd: start + 10_000,
    status: 'UNROUTED',
    features: vector(start, {
      pumpId,
      channels: {
        pressure: { count: 10, mean: pressure, std: 0.1 + 0.01 * (i % 4), min: pressure - 0.2, max: pressure + 0.2, rms: pressure, last: pressure, slope: 0, kurtosis: 0, crest: 1.04 },
        flow: { count: 10, mean: 40 + (i % 5), std: 0.5 + 0.05 * (i % 3), min: 39, max: 46, rms: 42, last: 42, slope: 0, kurtosis: 0, crest: 1.1 },
      },
      ...features,
    }),
    level: 'NORMAL',
    state: 'LEARNING',
    attempts: 0,
    createdAt: start + 10_000,
    ...overrides,
  };
}

/** Completes a reservation in the registry only (the artifact is built, not stored). */
export function completeInRegistry(registry: { setStatus(g: string, v: number, s: ModelStatus, n: number): Promise<ModelVersion> }) {
  const built: { version: number; modelId: string }[] = [];
  return {
    built,
    complete: async (reserved: ModelVersion, build: (v: number) => { document: { modelId: string; version: string } }, status: Exclude<ModelStatus, 'Registering'>, nowMs: number) => {
      const artifact = build(reserved.version);
      built.push({ version: Number(artifact.document.version), modelId: artifact.document.modelId });
      return registry.setStatus(reserved.modelGroup, reserved.version, status, nowMs);
    },
  };
}
