import { ENV } from '../shared/env';
import { systemClock } from '../shared/clock';
import { configureLogging } from '../shared/logging';
import type { FeatureVector } from '../shared/schemas/features';
import type { Sample } from '../shared/schemas/telemetry';
import { ConditionPolicySchema } from '../shared/schemas/condition';
import { DynamoDbModelRegistry } from '../shared/stores/model-registry';
import { DynamoDbPumpRegistry } from '../shared/stores/pump-registry';
import { createWorker, type Worker } from '../services/consumer/worker';
import { InferenceClient } from '../services/consumer/pipeline/inference-client';
import { encodeJson, KinesisProducer } from '../services/ingest/producer';
import { FleetSimulator } from '../services/ingest/simulator';
import { type LocalStack, startLocalStack } from '../services/local/stack';
import { DEFAULT_PRESET } from '../services/model-server/training/presets';
import { windowSamples } from '../services/model-server/training/replay';
import { fitPreset, publishTrained } from '../services/registry/trainer';
import { type Benchmark, type Figure, median, percentile } from './harness';

/**
 * Model serving figures on the local stack (real emulators, real SDK clients, the project's
 * SageMaker-runtime endpoint and model cache):
 * - latency of one InvokeEndpoint call through the consumer's InferenceClient (HTTP, TargetModel
 *   routing, model cache hit, MSET scoring of the default preset, response validation), for one
 *   window per call and for a catch-up batch of 50;
 * - SageMaker invocations per scored window through a real worker and window sink, counted by
 *   the endpoint (stats()): live (windows close one at a time per pump, so one call each) and
 *   catch-up (a backlog of a pump's windows closes at once and the sink scores up to
 *   maxWindowsPerCall of them per call).
 */

const WINDOW_MS = 1_000;
const RATE_HZ = 5;
const PUMP_TYPE = 'bench-models';

const ENV_OVERRIDES: Record<string, string> = {
  [ENV.windowSizeMs]: String(WINDOW_MS),
  [ENV.outOfOrdernessMs]: '200',
  [ENV.allowedLatenessMs]: '200',
  [ENV.idleTimeoutMs]: '1500',
  [ENV.failoverTimeMs]: '3000',
  [ENV.takerIntervalMs]: '500',
  [ENV.shardSyncIntervalMs]: '1000',
  [ENV.idleTimeBetweenReadsMs]: '100',
  [ENV.checkpointIntervalMs]: '1000',
  [ENV.routeRefreshMs]: '5000',
};

function samplesByPump(sim: FleetSimulator, fromMs: number, seconds: number): Map<string, Sample[]> {
  const out = new Map<string, Sample[]>();
  for (let i = 0; i < seconds * sim.sampleRateHz; i++) {
    for (const { pumpId, sample } of sim.sampleAll(fromMs + i * (1000 / sim.sampleRateHz), i / sim.sampleRateHz)) out.set(pumpId, [...(out.get(pumpId) ?? []), sample]);
  }
  return out;
}

/** Healthy reference windows for the pumps' models. */
function referenceWindows(): FeatureVector[] {
  const sim = new FleetSimulator({ pumps: 4, seed: 5, types: [PUMP_TYPE], sampleRateHz: RATE_HZ, idPrefix: 'ref-' });
  return [...samplesByPump(sim, Date.UTC(2026, 0, 1), 120)].flatMap(([pumpId, s]) => windowSamples(s, pumpId, { sizeMs: WINDOW_MS, hopMs: WINDOW_MS }, RATE_HZ));
}

async function enroll(stack: LocalStack, sim: FleetSimulator, windows: readonly FeatureVector[]): Promise<string[]> {
  const { config, clients } = stack;
  const pumps = new DynamoDbPumpRegistry(clients.doc, config.names.tables.pumps);
  const deps = { registry: new DynamoDbModelRegistry(clients.doc, config.names.tables.models), s3: clients.s3, bucket: config.names.bucketName };
  const targets: string[] = [];
  for (const p of sim.pumps) {
    await pumps.put({ ...p, policy: ConditionPolicySchema.parse({ k: 2, n: 3, noDataAfterMs: 3_600_000 }), enrolledAt: Date.now() });
    const trained = fitPreset(p.pumpId, DEFAULT_PRESET, windows, Date.now());
    targets.push((await publishTrained(deps, p.pumpId, DEFAULT_PRESET, trained, 'Approved', Date.now())).target);
  }
  return targets;
}

function invocations(stack: LocalStack): number {
  return stack.sageMaker.stats().endpoints[stack.config.names.modelEndpointName]?.invocations ?? 0;
}

function scored(worker: Worker): number {
  return [...worker.sinks.values()].reduce((n, s) => n + s.stats.scored, 0);
}

async function until(what: string, timeoutMs: number, check: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`bench models: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const modelsBenchmark: Benchmark = {
  name: 'models',
  description: 'InvokeEndpoint latency on the local endpoint; SageMaker invocations per scored window, live and catch-up',
  async run(): Promise<Figure[]> {
    // The stack and worker log per model load and per metrics period; keep the table readable.
    configureLogging({ level: process.env[ENV.logLevel] ?? 'warn', destination: process.stderr });
    const stack = await startLocalStack({ shardCount: 1, env: ENV_OVERRIDES });
    let worker: Worker | undefined;
    try {
      const reference = referenceWindows();
      const figures: Figure[] = [];

      // Latency per call, through the consumer's inference client (the model is cached after the first call).
      const latencySim = new FleetSimulator({ pumps: 1, seed: 9, types: [PUMP_TYPE], sampleRateHz: RATE_HZ, idPrefix: 'LAT-' });
      const [target] = await enroll(stack, latencySim, reference);
      const client = new InferenceClient(
        stack.clients.sageMakerRuntime,
        { endpointName: stack.config.names.modelEndpointName, maxAttempts: 1, timeoutMs: 10_000, concurrency: 1, breakerThreshold: 100, breakerResetMs: 1_000 },
        systemClock,
      );
      const pumpId = latencySim.pumps[0]!.pumpId;
      const vectors = windowSamples(samplesByPump(latencySim, Date.UTC(2026, 0, 2), 60).get(pumpId)!, pumpId, { sizeMs: WINDOW_MS, hopMs: WINDOW_MS }, RATE_HZ);
      const measure = async (batch: number, calls: number): Promise<number[]> => {
        const out: number[] = [];
        for (let i = 0; i < calls + 20; i++) {
          const windows = Array.from({ length: batch }, (_, j) => vectors[(i + j) % vectors.length]!);
          const t0 = process.hrtime.bigint();
          await client.score(target!, { pumpId, windows });
          if (i >= 20) out.push(Number(process.hrtime.bigint() - t0) / 1e6);
        }
        return out;
      };
      const single = await measure(1, 500);
      const batch = await measure(50, 200);
      figures.push(
        { name: 'models.invoke.p50', value: median(single), unit: 'ms', note: '1 window per InvokeEndpoint call, local endpoint, MSET default preset (model cached)' },
        { name: 'models.invoke.p99', value: percentile(single, 99), unit: 'ms', note: '1 window per call' },
        { name: 'models.invoke.batch50.p50', value: median(batch), unit: 'ms', note: '50 windows of one pump per call (catch-up batch)' },
        { name: 'models.invoke.batch50.p99', value: percentile(batch, 99), unit: 'ms', note: '50 windows per call' },
      );

      // Live: pumps stream in real time; each poll closes at most one window per pump.
      const liveSim = new FleetSimulator({ pumps: 4, seed: 10, types: [PUMP_TYPE], sampleRateHz: RATE_HZ, idPrefix: 'LIVE-' });
      const catchSim = new FleetSimulator({ pumps: 4, seed: 11, types: [PUMP_TYPE], sampleRateHz: RATE_HZ, idPrefix: 'CATCH-' });
      await enroll(stack, liveSim, reference);
      await enroll(stack, catchSim, reference);
      worker = createWorker(stack.config, stack.clients);
      worker.start();
      const w = worker;
      const producer = new KinesisProducer(stack.clients.kinesis, { streamName: stack.config.names.streamName, concurrency: 1 });
      const liveStart = Date.now();
      let nextTs = liveStart;
      // Warm-up: models loaded, leases taken, first windows scored.
      const send = async (): Promise<void> => {
        const batchBy = new Map<string, Sample[]>();
        for (const now = Date.now(); nextTs <= now; nextTs += 1000 / RATE_HZ) {
          for (const { pumpId: id, sample } of liveSim.sampleAll(Math.round(nextTs), (nextTs - liveStart) / 1000)) batchBy.set(id, [...(batchBy.get(id) ?? []), sample]);
        }
        if (batchBy.size > 0) await producer.putAll([...batchBy].map(([id, samples]) => ({ partitionKey: id, data: encodeJson({ pumpId: id, samples }) })));
      };
      const runLive = async (ms: number): Promise<void> => {
        const end = Date.now() + ms;
        while (Date.now() < end) {
          await send();
          await new Promise((r) => setTimeout(r, 200));
        }
      };
      await runLive(4_000);
      await until('live windows scored', 30_000, () => scored(w) > 0);
      const inv0 = invocations(stack);
      const scored0 = scored(w);
      await runLive(12_000);
      await new Promise((r) => setTimeout(r, 2_500));
      const liveInv = invocations(stack) - inv0;
      const liveScored = scored(w) - scored0;
      figures.push({
        name: 'models.invocations_per_window.live',
        value: liveScored > 0 ? liveInv / liveScored : Number.NaN,
        unit: 'calls/window',
        note: `${liveScored} windows of ${liveSim.pumps.length} live pumps (${WINDOW_MS} ms windows), ${liveInv} InvokeEndpoint calls`,
      });

      // Catch-up: 3 minutes of 4 pumps' telemetry already on the stream when the worker reads it.
      const backlog = samplesByPump(catchSim, Date.now() - 10 * 60_000, 180);
      const expected = [...backlog.values()].reduce((n, s) => n + new Set(s.map((x) => Math.floor(x.ts / WINDOW_MS))).size, 0);
      const inv1 = invocations(stack);
      const scored1 = scored(w);
      const records = [...backlog].flatMap(([id, samples]) => {
        const out = [];
        for (let i = 0; i < samples.length; i += 25) out.push({ partitionKey: id, data: encodeJson({ pumpId: id, samples: samples.slice(i, i + 25) }) });
        return out;
      });
      await producer.putAll(records);
      await until('the backlog scored', 120_000, () => scored(w) - scored1 >= expected);
      const catchInv = invocations(stack) - inv1;
      const catchScored = scored(w) - scored1;
      figures.push({
        name: 'models.invocations_per_window.catchup',
        value: catchInv / catchScored,
        unit: 'calls/window',
        note: `${catchScored} backlog windows of ${catchSim.pumps.length} pumps, ${catchInv} calls (sink batches up to 50 windows per call)`,
      });
      return figures;
    } finally {
      await worker?.stop();
      await stack.stop();
    }
  },
};
