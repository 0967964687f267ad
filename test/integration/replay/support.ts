import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { gunzipSync } from 'node:zlib';
import { createArchiver } from '../../../services/archiver/archiver';
import { createWorker } from '../../../services/consumer/worker';
import { encodeJson, KinesisProducer } from '../../../services/ingest/producer';
import { DEMO_ZONES, FleetSimulator, parseFault, simulateBatches } from '../../../services/ingest/simulator';
import { prepareFleet } from '../../../services/local/fleet';
import type { LocalStack } from '../../../services/local/stack';
import { ENV } from '../../../shared/env';
import { S3_PREFIXES } from '../../../shared/names';
import { ConditionPolicySchema } from '../../../shared/schemas/condition';
import type { WindowItem } from '../../../shared/stores/window-store';
import { buildProgramWithReplay } from '../../support/replay-cli';
import { captureCli, type CliRun } from '../../support/run-cli';
import { waitFor } from '../../support/waiting';

/** 10 s windows, quick idle close and checkpoints, archive objects every second. */
export const REPLAY_TEST_ENV: Record<string, string> = {
  [ENV.failoverTimeMs]: '3000',
  [ENV.takerIntervalMs]: '500',
  [ENV.shardSyncIntervalMs]: '1000',
  [ENV.idleTimeBetweenReadsMs]: '100',
  [ENV.checkpointIntervalMs]: '300',
  [ENV.windowSizeMs]: '10000',
  [ENV.outOfOrdernessMs]: '1000',
  [ENV.allowedLatenessMs]: '1000',
  [ENV.idleTimeoutMs]: '2000',
  [ENV.outboxSweepMs]: '1000',
  [ENV.archiveBufferMs]: '1000',
  // Small objects, so a shard's records span many of them (their order matters).
  [ENV.archiveBufferBytes]: '4096',
};

export const WINDOW_MS = 10_000;

/** Deterministic conditions: NO_DATA depends on processing time, so it is switched off. */
export const POLICY = ConditionPolicySchema.parse({ k: 2, n: 3, zones: DEMO_ZONES, noDataAfterMs: 365 * 86_400_000 });

/** What a test fleet sent: the pumps, the event-time range, and the records. */
export interface History {
  readonly pumpIds: string[];
  readonly fromMs: number;
  readonly toMs: number;
  readonly records: number;
}

/**
 * Registers a fleet (one pump develops a bearing fault), sends `seconds` of its history (event time
 * `agoMs` before now, aligned to the window) to the stream, and runs the live worker and the
 * archiver until every window is applied and every record is archived.
 */
export async function liveHistory(
  stack: LocalStack,
  options: { pumps: number; seconds: number; agoMs: number; seed: number; dir: string; extra?: Uint8Array[] },
): Promise<History> {
  const { config, clients } = stack;
  const fromMs = Math.floor((Date.now() - options.agoMs) / WINDOW_MS) * WINDOW_MS;
  const sim = new FleetSimulator({ pumps: options.pumps, seed: options.seed, faults: [parseFault('P-0002:bearing@60+30')] }, fromMs);
  await prepareFleet(config, clients, sim.pumps.map((p) => ({ ...p, policy: POLICY })), { dir: options.dir }, fromMs);
  const batches = simulateBatches(sim, fromMs, options.seconds, 5);
  const producer = new KinesisProducer(clients.kinesis, { streamName: config.names.streamName });
  const extra = (options.extra ?? []).map((data, i) => ({ partitionKey: sim.pumps[i % sim.pumps.length]!.pumpId, data }));
  await producer.putAll([...batches.map((b) => ({ partitionKey: b.pumpId, data: encodeJson(b) })), ...extra]);
  const records = batches.length + extra.length;
  const worker = createWorker(config, clients);
  const archiver = createArchiver(config, clients);
  worker.start();
  archiver.start();
  const pumpIds = sim.pumps.map((p) => p.pumpId);
  const expected = pumpIds.length * (options.seconds * 1000 / WINDOW_MS);
  try {
    await waitFor(
      'every live window applied and every record archived',
      async () => {
        const live = (await scanTable(stack, config.names.tables.windows)).filter((w) => String(w.sk).startsWith('w#'));
        return live.length >= expected && live.every((w) => w.state !== undefined) && (await archivedLines(stack)).length >= records;
      },
      45_000,
      300,
    );
  } finally {
    await worker.stop();
    await archiver.stop();
  }
  return { pumpIds, fromMs, toMs: fromMs + options.seconds * 1000, records };
}

/** Every item of a table. */
export async function scanTable(stack: LocalStack, table: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const r = await stack.clients.doc.send(new ScanCommand({ TableName: table, ExclusiveStartKey: startKey, ConsistentRead: true }));
    out.push(...(r.Items ?? []));
    startKey = r.LastEvaluatedKey;
  } while (startKey);
  return out;
}

/** Every line of every raw archive object, with its key. */
export async function archivedLines(stack: LocalStack): Promise<{ key: string; line: string }[]> {
  const { s3 } = stack.clients;
  const bucket = stack.config.names.bucketName;
  const out: { key: string; line: string }[] = [];
  let token: string | undefined;
  do {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: S3_PREFIXES.archive, ...(token ? { ContinuationToken: token } : {}) }));
    for (const o of r.Contents ?? []) {
      const body = await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key! }))).Body!.transformToByteArray();
      for (const line of gunzipSync(body).toString('utf8').split('\n')) if (line !== '') out.push({ key: o.Key!, line });
    }
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** The parts of a window that must not depend on how it was produced (live, replay, resumed). */
export function windowContent(w: Record<string, unknown> | WindowItem): Record<string, unknown> {
  const i = w as WindowItem;
  return {
    pumpId: i.pumpId,
    windowStart: i.windowStart,
    windowEnd: i.windowEnd,
    status: i.status,
    features: i.features,
    score: i.score,
    model: i.model,
    level: i.level,
    state: i.state,
  };
}

/** Windows of the live run (`w#`) or of one replay job, as comparable content in key order. */
export async function windowsOf(stack: LocalStack, job?: string): Promise<Record<string, unknown>[]> {
  const items = (await scanTable(stack, stack.config.names.tables.windows)).filter((w) =>
    job ? w.replayJobId === job : String(w.sk).startsWith('w#'),
  );
  return items
    .map(windowContent)
    .sort((a, b) => String(a.pumpId).localeCompare(String(b.pumpId)) || Number(a.windowStart) - Number(b.windowStart));
}

/** Runs `pumpwatch ARGS…` (with the replay commands) in process against a stack's environment. */
export async function pumpwatch(args: readonly string[], env: Record<string, string>): Promise<CliRun> {
  const savedEnv = { ...process.env };
  Object.assign(process.env, env, { [ENV.logLevel]: 'warn' });
  try {
    return await captureCli(buildProgramWithReplay(), args);
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
    Object.assign(process.env, savedEnv);
  }
}
