import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ENV } from '../../shared/env';
import type { Sample } from '../../shared/schemas/telemetry';
import { DynamoDbLeaseStore } from '../../services/consumer/leases/lease-store';
import type { Lease } from '../../services/consumer/leases/lease';
import { encodeJson, KinesisProducer, type Placement } from '../../services/ingest/producer';
import { FleetSimulator } from '../../services/ingest/simulator';
import { type LocalStack, startLocalStack } from '../../services/local/stack';

const ROOT = resolve(__dirname, '../..');

/** Consumer settings for tests: short failover and windows, so faults show within seconds. */
export const FAST_ENV: Record<string, string> = {
  [ENV.failoverTimeMs]: '3000',
  [ENV.takerIntervalMs]: '500',
  [ENV.shardSyncIntervalMs]: '1000',
  [ENV.idleTimeBetweenReadsMs]: '100',
  [ENV.checkpointIntervalMs]: '300',
  [ENV.windowSizeMs]: '2000',
  [ENV.outOfOrdernessMs]: '500',
  [ENV.allowedLatenessMs]: '500',
  [ENV.idleTimeoutMs]: '2000',
  [ENV.outboxSweepMs]: '1000',
  [ENV.metricsIntervalMs]: '1000',
};

/** One audit line: which worker processed which record, when. */
export interface AuditLine {
  w: string;
  s: string;
  q: string;
  u: number;
  k: string;
  f?: number;
  o: 'windowed' | 'quarantined';
  t: number;
  e: number;
}

/** A sent batch record: pump, samples, and where Kinesis put it. */
export interface Sent {
  readonly pumpId: string;
  readonly samples: readonly Sample[];
  readonly placement: Placement;
}

/**
 * A local stack plus worker processes (`pumpwatch worker`, each its own OS process) writing a
 * shared audit trail, and a traffic generator that remembers what it sent.
 */
export class Cluster {
  readonly dir: string;
  readonly auditPath: string;
  readonly workers = new Map<string, ChildProcess>();
  readonly sent: Sent[] = [];
  private traffic: { stop: () => Promise<void> } | undefined;

  private constructor(readonly stack: LocalStack) {
    this.dir = mkdtempSync(join(tmpdir(), 'pumpwatch-cluster-'));
    this.auditPath = join(this.dir, 'audit.jsonl');
  }

  static async start(options: { shards: number; env?: Record<string, string> }): Promise<Cluster> {
    const stack = await startLocalStack({ shardCount: options.shards, env: { ...FAST_ENV, ...options.env } });
    return new Cluster(stack);
  }

  get leases(): DynamoDbLeaseStore {
    return new DynamoDbLeaseStore(this.stack.clients.doc, this.stack.config.names.tables.leases);
  }

  async leaseList(): Promise<Lease[]> {
    return this.leases.list(this.stack.config.applicationName);
  }

  /** Owner → number of active (not SHARD_END) leases. */
  async ownership(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const l of await this.leaseList()) {
      if (l.checkpoint === 'SHARD_END' || !l.leaseOwner) continue;
      out.set(l.leaseOwner, (out.get(l.leaseOwner) ?? 0) + 1);
    }
    return out;
  }

  /** Starts `pumpwatch worker` as a separate process. */
  startWorker(id: string, env: Record<string, string> = {}): ChildProcess {
    const log = createWriteStream(join(this.dir, `${id}.log`));
    const child = spawn(process.execPath, [...(process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/wprof'] : []), join(ROOT, 'bin/pumpwatch.js'), '--no-env-file', 'worker', '--worker-id', id], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        ...this.stack.env,
        [ENV.recordAuditFile]: this.auditPath,
        [ENV.logLevel]: 'info',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    this.workers.set(id, child);
    return child;
  }

  /** Sends SIGKILL to a worker (no shutdown, no lease release). */
  kill(id: string): void {
    this.workers.get(id)?.kill('SIGKILL');
  }

  /** Graceful stop: SIGTERM and wait for exit. */
  async stopWorker(id: string, timeoutMs = 30_000): Promise<number | null> {
    const child = this.workers.get(id);
    if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }

  workerLog(id: string): string {
    const p = join(this.dir, `${id}.log`);
    return existsSync(p) ? readFileSync(p, 'utf8') : '';
  }

  /**
   * Sends live traffic: every `intervalMs` each pump sends one batch record of the samples since
   * its last one (`rateHz` samples per second, event time = now). Records every placement.
   */
  startTraffic(options: { pumps: number; rateHz: number; intervalMs: number; idPrefix?: string }): void {
    const sim = new FleetSimulator({ pumps: options.pumps, sampleRateHz: options.rateHz, seed: 5, idPrefix: options.idPrefix ?? 'T-' });
    const producer = new KinesisProducer(this.stack.clients.kinesis, { streamName: this.stack.config.names.streamName });
    let stopped = false;
    const stepMs = 1000 / options.rateHz;
    const start = Date.now();
    let nextTs = start;
    const loop = (async () => {
      while (!stopped) {
        await new Promise((r) => setTimeout(r, options.intervalMs));
        const now = Date.now();
        const byPump = new Map<string, Sample[]>();
        for (; nextTs <= now; nextTs += stepMs) {
          for (const { pumpId, sample } of sim.sampleAll(Math.round(nextTs), (nextTs - start) / 1000)) {
            byPump.set(pumpId, [...(byPump.get(pumpId) ?? []), sample]);
          }
        }
        const batches = [...byPump].map(([pumpId, samples]) => ({ pumpId, samples }));
        if (batches.length === 0) continue;
        const r = await producer.putAll(batches.map((b) => ({ partitionKey: b.pumpId, data: encodeJson(b) })));
        batches.forEach((b, i) => this.sent.push({ ...b, placement: r.placements[i]! }));
      }
    })();
    this.traffic = {
      stop: async () => {
        stopped = true;
        await loop;
      },
    };
  }

  async stopTraffic(): Promise<void> {
    await this.traffic?.stop();
    this.traffic = undefined;
  }

  audit(): AuditLine[] {
    if (!existsSync(this.auditPath)) return [];
    return readFileSync(this.auditPath, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as AuditLine);
  }

  async close(): Promise<void> {
    await this.stopTraffic();
    for (const [id, child] of this.workers) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await new Promise((r) => child.once('exit', r));
      }
      this.workers.delete(id);
    }
    await this.stack.stop();
    if (!process.env.PUMPWATCH_KEEP_TEST_DIRS) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Expected samples per (pump, window start) from what was sent. */
export function expectedWindows(sent: readonly Sent[], sizeMs: number): Map<string, number> {
  const out = new Map<string, number>();
  const seen = new Set<string>();
  for (const s of sent) {
    for (const sample of s.samples) {
      const id = `${s.pumpId}|${sample.ts}`;
      if (seen.has(id)) continue;
      seen.add(id);
      const key = `${s.pumpId}|${Math.floor(sample.ts / sizeMs) * sizeMs}`;
      out.set(key, (out.get(key) ?? 0) + 1);
    }
  }
  return out;
}

/**
 * Checks no shard was processed by two workers at once: every batch is the interval [t, e] of
 * its records; intervals of different workers on one shard must not overlap.
 */
export function concurrentOwners(audit: readonly AuditLine[]): string[] {
  const batches = new Map<string, { w: string; t: number; e: number }>();
  for (const a of audit) {
    const key = `${a.s}|${a.w}|${a.e}`;
    const b = batches.get(key);
    if (b) b.t = Math.min(b.t, a.t);
    else batches.set(key, { w: a.w, t: a.t, e: a.e });
  }
  const byShard = new Map<string, { w: string; t: number; e: number }[]>();
  for (const [key, b] of batches) {
    const shard = key.split('|')[0]!;
    byShard.set(shard, [...(byShard.get(shard) ?? []), b]);
  }
  const problems: string[] = [];
  for (const [shard, list] of byShard) {
    list.sort((a, b) => a.t - b.t);
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length && list[j]!.t <= list[i]!.e; j++) {
        if (list[j]!.w !== list[i]!.w) problems.push(`${shard}: ${list[i]!.w} [${list[i]!.t},${list[i]!.e}] overlaps ${list[j]!.w} [${list[j]!.t},${list[j]!.e}]`);
      }
    }
  }
  return problems;
}
