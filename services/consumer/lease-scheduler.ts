import type { AwsClients } from '../../shared/aws/clients';
import type { Clock } from '../../shared/clock';
import type { Config } from '../../shared/config';
import type { Logger } from '../../shared/logging';
import type { CheckpointPolicy } from './checkpointer';
import { LeaseCoordinator } from './leases/lease-coordinator';
import { DynamoDbLeaseStore } from './leases/lease-store';
import type { ShardRecordProcessor } from './processor';
import { Scheduler, schedulerOptions } from './scheduler';
import { type InitialPosition, ShardSyncer } from './shard-syncer';

export interface LeaseSchedulerOptions {
  /** The lease group (KCL application name): workers of one group share the stream's shards. */
  readonly applicationName: string;
  readonly workerId: string;
  /** Where a shard without a checkpoint starts. */
  readonly initialPosition: InitialPosition;
  readonly checkpoint: CheckpointPolicy;
  readonly clock: Clock;
  readonly log: Logger;
  /** A record processor per owned shard; `coordinator` tells whether this worker still holds a lease. */
  readonly processorFactory: (shardId: string, coordinator: LeaseCoordinator) => ShardRecordProcessor;
}

/**
 * A Scheduler on the stage's lease table: the lease coordinator (failover from the configuration,
 * one lease stolen at a time) and the shard syncer of one lease group. The consumer worker and the
 * raw archiver are both built on it, each with its own group.
 */
export function createLeaseScheduler(config: Pick<Config, 'names' | 'consumer'>, clients: Pick<AwsClients, 'kinesis' | 'doc'>, options: LeaseSchedulerOptions): Scheduler {
  const { applicationName, workerId, clock, log } = options;
  const leases = new DynamoDbLeaseStore(clients.doc, config.names.tables.leases);
  const coordinator = new LeaseCoordinator(
    leases,
    clock,
    { applicationName, workerId, failoverTimeMs: config.consumer.failoverTimeMs, maxLeasesForWorker: 1_000, maxLeasesToStealAtOneTime: 1 },
    log.child({ part: 'leases' }),
  );
  const syncer = new ShardSyncer(clients.kinesis, leases, { streamName: config.names.streamName, applicationName, initialPosition: options.initialPosition }, log);
  return new Scheduler(schedulerOptions(config, applicationName, options.checkpoint), {
    kinesis: clients.kinesis,
    leases,
    coordinator,
    syncer,
    clock,
    log,
    processorFactory: (shardId) => options.processorFactory(shardId, coordinator),
  });
}
