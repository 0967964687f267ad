import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Windower } from '../services/consumer/core/windowing';
import { FleetSimulator } from '../services/ingest/simulator';
import { type Benchmark, type Figure } from './harness';

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

function settledHeap(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

/**
 * Heap held per pump by open windows: `pumps` pumps, each with one open 10 s window holding
 * `samples` samples of the simulator's 9 channels (the state a consumer keeps between records).
 */
function heapPerPump(pumps: number, samples: number): number {
  const sim = new FleetSimulator({ pumps, seed: 9 });
  const t0 = Date.UTC(2026, 0, 1);
  const rows: ReturnType<FleetSimulator['sampleAll']>[] = [];
  for (let s = 0; s < samples; s++) rows.push(sim.sampleAll(t0 + s * 1000, s));
  const before = settledHeap();
  const windower = new Windower({
    window: { sizeMs: 10_000, hopMs: 10_000, outOfOrdernessMs: 2_000, allowedLatenessMs: 3_000, idleTimeoutMs: 15_000 },
    sampleRateHz: () => 1,
  });
  rows.forEach((row, s) => {
    for (const { pumpId, sample } of row) windower.add(pumpId, sample, s, 0);
  });
  const after = settledHeap();
  if (windower.openWindows !== pumps) throw new Error(`expected ${pumps} open windows, got ${windower.openWindows}`);
  return (after - before) / pumps;
}

/** Memory per open pump window at fleet sizes of 10k and 100k pumps. */
export const memoryBenchmark: Benchmark = {
  name: 'consumer.memory',
  description: 'heap bytes per pump with one open window (9 channels, 5 samples), 10k and 100k pumps',
  async run(): Promise<Figure[]> {
    return [10_000, 100_000].map((pumps) => ({
      name: `consumer.memory.heap_bytes_per_pump.${pumps / 1000}k`,
      value: heapPerPump(pumps, 5),
      unit: 'bytes/pump',
      note: `${pumps} pumps, one open 10 s window each, 5 samples × 9 channels (streaming moments + sample times)`,
    }));
  },
};
