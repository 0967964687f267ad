import type { AwsClients } from '../../shared/aws/clients';
import { type Clock, systemClock } from '../../shared/clock';
import type { Config } from '../../shared/config';
import { getLogger } from '../../shared/logging';
import { createLeaseScheduler } from '../consumer/lease-scheduler';
import type { Scheduler } from '../consumer/scheduler';
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
  const processors = new Map<string, ArchiveProcessor>();
  const scheduler = createLeaseScheduler(config, clients, {
    applicationName,
    workerId,
    initialPosition: 'TRIM_HORIZON',
    // The processor checkpoints each object right after writing it.
    checkpoint: { everyMarks: 1, everyMs: config.consumer.checkpointIntervalMs },
    clock,
    log,
    processorFactory: (shardId, coordinator) => {
      const processor = new ArchiveProcessor(
        { bucket: config.names.bucketName, bufferMs: config.archive.bufferMs, bufferBytes: config.archive.bufferBytes },
        { s3: clients.s3, clock, log: log.child({ shardId }), leaseValid: () => coordinator.isValid(shardId) },
      );
      processors.set(shardId, processor);
      return processor;
    },
  });
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
