import type { AwsClients } from '../../shared/aws/clients';
import { type Clock, systemClock } from '../../shared/clock';
import type { Config } from '../../shared/config';
import { getLogger } from '../../shared/logging';
import { LeaseCoordinator } from '../consumer/leases/lease-coordinator';
import { DynamoDbLeaseStore } from '../consumer/leases/lease-store';
import { Scheduler, schedulerOptions } from '../consumer/scheduler';
import { ShardSyncer } from '../consumer/shard-syncer';
import { newWorkerId } from '../consumer/worker';
import { ArchiveProcessor } from './archive-processor';

export interface ArchiverOptions {
  readonly clock?: Clock;
}

/** A running raw archiver and the parts a caller may want to look at. */
export interface Archiver {
  readonly workerId: string;
  readonly scheduler: Scheduler;
  readonly processors: ReadonlyMap<string, ArchiveProcessor>;
  start(): void;
  stop(): Promise<void>;
}

/**
 * Builds the local raw archiver (the part Firehose plays on AWS): a worker of its own lease group
 * (`config.archive.applicationName`) on the telemetry stream, with the consumer's Scheduler,
 * LeaseCoordinator and ShardSyncer, reading every shard from TRIM_HORIZON and writing the Firehose
 * object layout to the data bucket. Scale by running more; SIGTERM drains (writes the buffered
 * objects), checkpoints and releases the leases.
 */
export function createArchiver(config: Config, clients: AwsClients, options: ArchiverOptions = {}): Archiver {
  const clock = options.clock ?? systemClock;
  const workerId = config.workerId ?? newWorkerId();
  const applicationName = config.archive.applicationName;
  const log = getLogger('archiver').child({ workerId });
  const leases = new DynamoDbLeaseStore(clients.doc, config.names.tables.leases);
  const coordinator = new LeaseCoordinator(
    leases,
    clock,
    { applicationName, workerId, failoverTimeMs: config.consumer.failoverTimeMs, maxLeasesForWorker: 1_000, maxLeasesToStealAtOneTime: 1 },
    log.child({ part: 'leases' }),
  );
  const syncer = new ShardSyncer(clients.kinesis, leases, { streamName: config.names.streamName, applicationName, initialPosition: 'TRIM_HORIZON' }, log);
  const processors = new Map<string, ArchiveProcessor>();
  const scheduler = new Scheduler(
    // The processor checkpoints each object right after writing it.
    schedulerOptions(config, applicationName, { everyMarks: 1, everyMs: config.consumer.checkpointIntervalMs }),
    {
      kinesis: clients.kinesis,
      leases,
      coordinator,
      syncer,
      clock,
      log,
      processorFactory: (shardId) => {
        const processor = new ArchiveProcessor(
          { bucket: config.names.bucketName, bufferMs: config.archive.bufferMs, bufferBytes: config.archive.bufferBytes },
          { s3: clients.s3, clock, log: log.child({ shardId }), leaseValid: () => coordinator.isValid(shardId) },
        );
        processors.set(shardId, processor);
        return processor;
      },
    },
  );
  let started = false;
  return {
    workerId,
    scheduler,
    processors,
    start() {
      if (started) return;
      started = true;
      void scheduler.start();
    },
    stop: () => scheduler.stop(),
  };
}
