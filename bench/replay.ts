import { PutObjectCommand } from '@aws-sdk/client-s3';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { archiveObjectKey } from '../shared/archive-layout';
import { ENV } from '../shared/env';
import { configureLogging } from '../shared/logging';
import { ConditionPolicySchema } from '../shared/schemas/condition';
import { encodeJson } from '../services/ingest/producer';
import { DEMO_ZONES, FleetSimulator, simulateBatches } from '../services/ingest/simulator';
import { prepareFleet } from '../services/local/fleet';
import { startLocalStack } from '../services/local/stack';
import type { ReplayJob } from '../shared/stores/replay-store';
import { type Benchmark, type Figure } from './harness';

const PUMPS = 100;
const MINUTES = 20;
const WINDOW_MS = 10_000;
/** Seconds of fleet data per archive object (Firehose's default buffer interval is 300 s; 60 s here). */
const OBJECT_SECONDS = 60;
const ROOT = resolve(__dirname, '..');

/** Runs the replay job in its own process (bench/replay-child.ts), as `pumpwatch replay start` would. */
async function replayInChild(env: Record<string, string>, jobId: string, fromMs: number, toMs: number): Promise<{ seconds: number; job: ReplayJob }> {
  const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, 'bin/run-ts.js'), 'bench/replay-child.ts', jobId, String(fromMs), String(toMs)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout) as { seconds: number; job: ReplayJob };
}

/**
 * Writes `minutes` of a 1 Hz fleet's history to the raw archive as the archiver would have while it
 * was live: 5 s batch records, objects of OBJECT_SECONDS of data named by arrival time (the end of
 * their data), gzip JSON lines. Returns the number of records and the event-time range.
 */
async function writeArchive(
  stack: Awaited<ReturnType<typeof startLocalStack>>,
  sim: FleetSimulator,
  fromMs: number,
): Promise<{ records: number; objects: number; toMs: number }> {
  const batches = simulateBatches(sim, fromMs, MINUTES * 60, 5);
  const byObject = new Map<number, typeof batches>();
  for (const b of batches) {
    const at = Math.floor((b.samples[b.samples.length - 1]!.ts - fromMs) / (OBJECT_SECONDS * 1000));
    byObject.set(at, [...(byObject.get(at) ?? []), b]);
  }
  let seq = 0n;
  for (const [i, list] of [...byObject].sort((a, b) => a[0] - b[0])) {
    const arrivalMs = fromMs + (i + 1) * OBJECT_SECONDS * 1000 + 500;
    const body = gzipSync(Buffer.concat(list.map((b) => Buffer.from(`${new TextDecoder().decode(encodeJson(b))}\n`))));
    seq += 1_000n;
    const key = archiveObjectKey(
      { arrivalMs, shardId: 'shardId-000000000000', sequenceNumber: String(seq), subSequenceNumber: 0 },
      { sequenceNumber: String(seq + BigInt(list.length - 1)), subSequenceNumber: 0 },
    );
    await stack.clients.s3.send(new PutObjectCommand({ Bucket: stack.config.names.bucketName, Key: key, Body: body }));
  }
  return { records: batches.length, objects: byObject.size, toMs: fromMs + MINUTES * 60_000 };
}

/**
 * Replay from the raw archive on the local stack (real emulators, real SDK clients, the project's
 * SageMaker-runtime endpoint): a fleet of 1 Hz pumps' history, replayed through the pipeline's own
 * decode ▸ window ▸ score ▸ condition path with the window history written to DynamoDB. Reports
 * records/s, how many times faster than real time the fleet's history is replayed, and SageMaker
 * invocations per window (counted by the endpoint; live scores one window per call, a replay scores
 * a pump's windows that close together in one call, up to 50).
 */
export const replayBenchmark: Benchmark = {
  name: 'replay.archive',
  description: `replay from the archive: records/s, × real time (${PUMPS} pumps at 1 Hz, ${MINUTES} min), SageMaker invocations per window`,
  async run(): Promise<Figure[]> {
    configureLogging({ level: 'error', destination: process.stderr });
    const dir = mkdtempSync(join(tmpdir(), 'pumpwatch-bench-replay-'));
    const stack = await startLocalStack({ shardCount: 2, env: { [ENV.windowSizeMs]: String(WINDOW_MS) } });
    try {
      const fromMs = Math.floor((Date.now() - 2 * 3_600_000) / WINDOW_MS) * WINDOW_MS;
      const sim = new FleetSimulator({ pumps: PUMPS, seed: 61 }, fromMs);
      const policy = ConditionPolicySchema.parse({ k: 2, n: 3, zones: DEMO_ZONES });
      await prepareFleet(stack.config, stack.clients, sim.pumps.map((p) => ({ ...p, policy })), { dir }, fromMs);
      const archive = await writeArchive(stack, sim, fromMs);
      stack.sageMaker.resetStats();
      const { seconds, job } = await replayInChild(stack.env, 'bench', fromMs, archive.toMs);
      const summary = job.summary;
      if (job.status !== 'completed' || !summary) throw new Error(`replay ended ${job.status}: ${job.error ?? ''}`);
      if (summary.records !== archive.records) throw new Error(`replayed ${summary.records} records, archived ${archive.records}`);
      const invocations = stack.sageMaker.stats().endpoints[stack.config.names.modelEndpointName]?.invocations ?? 0;
      const span = (archive.toMs - fromMs) / 1000;
      const context = `${PUMPS} pumps at 1 Hz, ${MINUTES} min (${archive.records} records of 5 samples in ${archive.objects} objects), ${summary.windows} windows of 10 s written; replay in its own process, emulators in the bench process`;
      return [
        { name: 'replay.archive.records_per_s', value: archive.records / seconds, unit: 'records/s', note: `${context}; ${Math.round((archive.records * 5) / seconds)} samples/s` },
        { name: 'replay.archive.realtime_factor', value: span / seconds, unit: '× real time', note: `${span} s of fleet history replayed in ${seconds.toFixed(1)} s` },
        {
          name: 'replay.sagemaker_invocations_per_window',
          value: invocations / summary.windows,
          unit: 'invocations/window',
          baseline: 1,
          ratio: invocations / summary.windows,
          note: `${invocations} InvokeEndpoint calls for ${summary.windows} windows; baseline = live at the tip (one window per call)`,
        },
      ];
    } finally {
      await stack.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
