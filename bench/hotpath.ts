import type { WindowConfig } from '../shared/config';
import { decodeTelemetry } from '../shared/schemas/telemetry';
import { Windower } from '../services/consumer/core/windowing';
import { FleetSimulator, simulateBatches } from '../services/ingest/simulator';
import { type Benchmark, type Figure, rate } from './harness';

const WINDOW: WindowConfig = { sizeMs: 10_000, hopMs: 10_000, outOfOrdernessMs: 2_000, allowedLatenessMs: 3_000, idleTimeoutMs: 15_000, maxFutureSkewMs: 300_000 };

/** Synthetic Kinesis payloads: batch records (5 samples × 9 channels) of a simulated fleet. */
export function syntheticRecords(pumps: number, seconds: number): Uint8Array[] {
  const sim = new FleetSimulator({ pumps, seed: 3 });
  const t0 = Date.UTC(2026, 0, 1);
  return simulateBatches(sim, t0, seconds, 5).map((b) => new TextEncoder().encode(JSON.stringify(b)));
}

/**
 * The consumer's hot path on synthetic records — decode, validate, window, features (windows
 * close as the watermark passes) — beside a JSON.parse-only baseline over the same records.
 */
export const hotPathBenchmark: Benchmark = {
  name: 'consumer.hotpath',
  description: 'decode ▸ validate ▸ window ▸ features vs JSON.parse only',
  async run(): Promise<Figure[]> {
    const records = syntheticRecords(200, 120);
    const now = Date.UTC(2026, 0, 2);
    const decoder = new TextDecoder();
    let sink = 0;
    const baseline = rate(() => {
      for (const r of records) sink += (JSON.parse(decoder.decode(r)) as { samples: unknown[] }).samples.length;
    }, records.length);
    let windows = 0;
    const pipeline = rate(() => {
      const w = new Windower({ window: WINDOW, sampleRateHz: () => 1 });
      let position = 0;
      for (const r of records) {
        const d = decodeTelemetry(r, now, WINDOW.maxFutureSkewMs);
        if (!d.ok) throw new Error(d.detail);
        for (const s of d.telemetry.samples) w.add(d.telemetry.pumpId, s, position, 0);
        position += 1;
        if (position % 200 === 0) windows += w.poll(0, false).length;
      }
      windows += w.flush().length;
    }, records.length);
    if (sink < 0 || windows < 0) throw new Error('unreachable');
    return [
      {
        name: 'consumer.hotpath',
        value: pipeline,
        unit: 'records/s',
        baseline,
        ratio: pipeline / baseline,
        note: `${records.length} batch records of 5 samples × 9 channels; baseline = JSON.parse only`,
      },
    ];
  },
};
