import type { KinesisClient } from '@aws-sdk/client-kinesis';
import { type Clock, sleep } from '../../shared/clock';
import type { Config } from '../../shared/config';
import type { Logger } from '../../shared/logging';
import type { CheckpointPolicy } from './checkpointer';
import type { LeaseCoordinator } from './leases/lease-coordinator';
import type { LeaseStore } from './leases/lease-store';
import type { ShardRecordProcessorFactory } from './processor';
import { ShardConsumer, type ShutdownReason } from './shard-consumer';
import type { ShardSyncer } from './shard-syncer';

export interface SchedulerOptions {
  readonly streamName: string;
  readonly applicationName: string;
  readonly failoverTimeMs: number;
  readonly takerIntervalMs: number;
  readonly shardSyncIntervalMs: number;
  readonly maxRecords: number;
  readonly idleTimeBetweenReadsMs: number;
  readonly checkpoint: CheckpointPolicy;
  readonly metricsIntervalMs: number;
  readonly shutdownTimeoutMs: number;
  readonly initialTimestamp?: Date;
}

/** Scheduler options of a lease group from the configuration (consumer workers, the archiver). */
export function schedulerOptions(
  config: Pick<Config, 'names' | 'consumer'>,
  applicationName: string,
  checkpoint: CheckpointPolicy,
): SchedulerOptions {
  return {
    streamName: config.names.streamName,
    applicationName,
    failoverTimeMs: config.consumer.failoverTimeMs,
    takerIntervalMs: config.consumer.takerIntervalMs,
    shardSyncIntervalMs: config.consumer.shardSyncIntervalMs,
    maxRecords: 10_000,
    idleTimeBetweenReadsMs: config.consumer.idleTimeBetweenReadsMs,
    checkpoint,
    metricsIntervalMs: config.consumer.metricsIntervalMs,
    shutdownTimeoutMs: 20_000,
  };
}

export interface SchedulerDeps {
  readonly kinesis: KinesisClient;
  readonly leases: LeaseStore;
  readonly coordinator: LeaseCoordinator;
  readonly syncer: ShardSyncer;
  readonly processorFactory: ShardRecordProcessorFactory;
  readonly clock: Clock;
  readonly log: Logger;
}

/**
 * The worker's main loop (KCL's Scheduler): renews leases, takes leases, syncs shards, and runs
 * one ShardConsumer per held lease. start() and stop() are idempotent; stop() stops taking
 * leases, drains every consumer (final checkpoints) within a timeout, and releases the leases.
 */
export class Scheduler {
  private readonly consumers = new Map<string, { consumer: ShardConsumer; done: Promise<ShutdownReason> }>();
  private readonly abort = new AbortController();
  private readonly renewAbort = new AbortController();
  private renewing: Promise<void> | undefined;
  private running: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private syncRequested = true;
  private lastMetricsAt = 0;
  private lastRecordCount = 0;

  constructor(
    private readonly options: SchedulerOptions,
    private readonly deps: SchedulerDeps,
  ) {}

  start(): Promise<void> {
    this.running ??= this.loop();
    return this.running;
  }

  /** Shard ids with a running consumer. */
  activeShards(): string[] {
    return [...this.consumers.keys()].sort();
  }

  /**
   * Renewals run on their own timer: a slow shard sync or lease scan must not delay them, or
   * every consumer of the worker would fence itself off.
   */
  private async renewLoop(renewEvery: number): Promise<void> {
    // Renewals go on while stopping, until every consumer has drained and released its lease.
    const signal = this.renewAbort.signal;
    while (!signal.aborted) {
      const started = this.deps.clock.now();
      await this.deps.coordinator.renewAll().catch((err) => this.deps.log.warn({ err }, 'lease renewal pass failed'));
      const wait = Math.max(0, renewEvery - (this.deps.clock.now() - started));
      await sleep(wait, signal).catch(() => undefined);
    }
  }

  private async loop(): Promise<void> {
    const { coordinator, log, clock } = this.deps;
    const renewEvery = Math.max(100, Math.floor(this.options.failoverTimeMs / 3));
    let nextTake = 0;
    let nextSync = 0;
    this.lastMetricsAt = clock.now();
    log.info({ workerId: coordinator.workerId }, 'worker started');
    this.renewing = this.renewLoop(renewEvery);
    while (!this.abort.signal.aborted) {
      const now = clock.now();
      try {
        if (this.syncRequested || now >= nextSync) {
          this.syncRequested = false;
          nextSync = now + this.options.shardSyncIntervalMs;
          await this.deps.syncer.sync();
          nextTake = 0;
        }
        if (now >= nextTake) {
          await coordinator.takeLeases();
          nextTake = Math.min(now + this.options.takerIntervalMs, coordinator.nextExpiryAt() ?? Number.POSITIVE_INFINITY);
        }
        this.reconcile();
        this.logMetrics(now);
      } catch (err) {
        log.warn({ err }, 'scheduler pass failed; will retry');
      }
      await sleep(Math.min(200, renewEvery), this.abort.signal).catch(() => undefined);
    }
  }

  /** Starts consumers for newly held leases and stops those whose lease is gone or handed over. */
  private reconcile(): void {
    const { coordinator } = this.deps;
    for (const shardId of coordinator.heldShardIds()) {
      if (this.consumers.has(shardId)) {
        if (coordinator.handoverRequested(shardId)) void this.consumers.get(shardId)!.consumer.requestShutdown();
        continue;
      }
      const lease = coordinator.heldLease(shardId)!;
      if (lease.checkpoint === 'SHARD_END') {
        coordinator.forget(shardId);
        continue;
      }
      const consumer = new ShardConsumer(
        lease,
        {
          streamName: this.options.streamName,
          applicationName: this.options.applicationName,
          maxRecords: this.options.maxRecords,
          idleTimeBetweenReadsMs: this.options.idleTimeBetweenReadsMs,
          parentPollIntervalMs: Math.min(1_000, this.options.takerIntervalMs),
          checkpoint: this.options.checkpoint,
          initialTimestamp: this.options.initialTimestamp,
        },
        {
          kinesis: this.deps.kinesis,
          leases: this.deps.leases,
          coordinator,
          processor: this.deps.processorFactory(shardId),
          clock: this.deps.clock,
          log: this.deps.log.child({ shardId }),
        },
      );
      const done = consumer.start().then(async (reason) => {
        this.consumers.delete(shardId);
        try {
          if (reason === 'SHARD_END') {
            coordinator.forget(shardId);
            this.syncRequested = true;
          } else if (reason === 'REQUESTED' && coordinator.handoverRequested(shardId) && !this.abort.signal.aborted) {
            await coordinator.handOver(shardId);
          } else if (reason === 'LEASE_LOST') {
            coordinator.forget(shardId);
          }
        } catch (err) {
          // The lease stays ours in the table; the next taker pass adopts it again (or it expires).
          coordinator.forget(shardId);
          this.deps.log.warn({ shardId, reason, err }, 'shard hand-off after shutdown failed');
        }
        return reason;
      });
      this.consumers.set(shardId, { consumer, done });
    }
  }

  private logMetrics(now: number): void {
    if (now - this.lastMetricsAt < this.options.metricsIntervalMs) return;
    let records = 0;
    const shards: Record<string, { millisBehindLatest: number; checkpointLagMs: number; records: number; state: string }> = {};
    for (const [shardId, { consumer }] of this.consumers) {
      records += consumer.stats.records;
      shards[shardId] = {
        millisBehindLatest: consumer.stats.millisBehindLatest,
        checkpointLagMs: consumer.checkpointLagMs(now),
        records: consumer.stats.records,
        state: consumer.state,
      };
    }
    const seconds = (now - this.lastMetricsAt) / 1000;
    this.deps.log.info(
      {
        leasesHeld: this.deps.coordinator.heldShardIds().length,
        recordsPerSecond: Math.max(0, Math.round((records - this.lastRecordCount) / seconds)),
        shards,
      },
      'worker metrics',
    );
    this.lastRecordCount = records;
    this.lastMetricsAt = now;
  }

  /** Graceful shutdown: stop taking, drain and checkpoint every shard, release the leases. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const { coordinator, log } = this.deps;
      coordinator.stopTaking();
      this.abort.abort(new Error('stopping'));
      await this.running?.catch(() => undefined);
      const finished = new Set<string>();
      const drains = [...this.consumers.entries()].map(async ([shardId, { consumer, done }]) => {
        await consumer.requestShutdown();
        await done;
        finished.add(shardId);
        await coordinator.release(shardId).catch((err) => log.warn({ shardId, err }, 'lease release failed'));
      });
      const timer = new AbortController();
      const timeout = sleep(this.options.shutdownTimeoutMs, timer.signal).then(
        () => 'timeout' as const,
        () => 'drained' as const,
      );
      const result = await Promise.race([Promise.all(drains).then(() => 'drained' as const), timeout]);
      timer.abort();
      if (result === 'timeout') log.warn({ shards: this.activeShards() }, 'shutdown timed out; leases will expire');
      // Leases of consumers still draining are left to expire, so nobody starts while they work.
      for (const shardId of coordinator.heldShardIds()) {
        if (finished.has(shardId) || !this.consumers.has(shardId)) await coordinator.release(shardId).catch(() => undefined);
      }
      this.renewAbort.abort(new Error('stopped'));
      await this.renewing;
      log.info({ workerId: coordinator.workerId, result }, 'worker stopped');
    })();
    return this.stopping;
  }
}
