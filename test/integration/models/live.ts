import { ENV } from '../../../shared/env';
import type { Sample } from '../../../shared/schemas/telemetry';
import { encodeJson, KinesisProducer } from '../../../services/ingest/producer';
import { FleetSimulator } from '../../../services/ingest/simulator';
import type { LocalStack } from '../../../services/local/stack';
import { windowSamples } from '../../../services/model-server/training/replay';
import type { FeatureVector } from '../../../shared/schemas/features';

/** Settings for model tests: 2 s windows, fast routing refresh and retries. */
export const MODEL_TEST_ENV: Record<string, string> = {
  [ENV.failoverTimeMs]: '3000',
  [ENV.takerIntervalMs]: '500',
  [ENV.shardSyncIntervalMs]: '1000',
  [ENV.idleTimeBetweenReadsMs]: '100',
  [ENV.checkpointIntervalMs]: '500',
  [ENV.windowSizeMs]: '2000',
  [ENV.outOfOrdernessMs]: '300',
  [ENV.allowedLatenessMs]: '300',
  [ENV.idleTimeoutMs]: '2000',
  [ENV.outboxSweepMs]: '1000',
  [ENV.routeRefreshMs]: '1000',
  [ENV.unscoredRetryMs]: '500',
};

/** Live telemetry: every `intervalMs`, each pump sends the samples since its last record (event time = now). */
export function startLiveTraffic(stack: LocalStack, sim: FleetSimulator, intervalMs = 250): { stop: () => Promise<void> } {
  const producer = new KinesisProducer(stack.clients.kinesis, { streamName: stack.config.names.streamName, concurrency: 1 });
  const stepMs = 1000 / sim.sampleRateHz;
  const start = Date.now();
  let nextTs = start;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await new Promise((r) => setTimeout(r, intervalMs));
      const byPump = new Map<string, Sample[]>();
      for (const now = Date.now(); nextTs <= now; nextTs += stepMs) {
        for (const { pumpId, sample } of sim.sampleAll(Math.round(nextTs), (nextTs - start) / 1000)) byPump.set(pumpId, [...(byPump.get(pumpId) ?? []), sample]);
      }
      if (byPump.size === 0) continue;
      await producer.putAll([...byPump].map(([pumpId, samples]) => ({ partitionKey: pumpId, data: encodeJson({ pumpId, samples }) })));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

/** Healthy windows of simulated pumps of one kind (training data for test models). */
export function healthyWindows(pumpType: string, sizeMs: number, minutes: number, rateHz: number, seed = 3): FeatureVector[] {
  const sim = new FleetSimulator({ pumps: 4, seed, types: [pumpType], sampleRateHz: rateHz, idPrefix: 'ref-' });
  const t0 = Date.UTC(2026, 0, 1);
  const byPump = new Map<string, Sample[]>();
  for (let i = 0; i < minutes * 60 * rateHz; i++) {
    for (const { pumpId, sample } of sim.sampleAll(t0 + i * (1000 / rateHz), i / rateHz)) byPump.set(pumpId, [...(byPump.get(pumpId) ?? []), sample]);
  }
  return [...byPump].flatMap(([pumpId, samples]) => windowSamples(samples, pumpId, { sizeMs, hopMs: sizeMs }, rateHz));
}
