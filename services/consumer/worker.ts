import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { type AwsClients, createSqsClient } from '../../shared/aws/clients';
import { type Clock, systemClock } from '../../shared/clock';
import type { Config } from '../../shared/config';
import { Faults } from '../../shared/faults';
import { getLogger } from '../../shared/logging';
import { DynamoDbOutboxStore } from '../../shared/stores/outbox-store';
import { DynamoDbPumpRegistry } from '../../shared/stores/pump-registry';
import { DynamoDbQuarantineStore } from '../../shared/stores/quarantine-store';
import { DynamoDbStateStore } from '../../shared/stores/state-store';
import { DynamoDbWindowStore } from '../../shared/stores/window-store';
import { createLeaseScheduler } from './lease-scheduler';
import { DynamoDbHandoffStore } from './pipeline/handoff-store';
import { createInferenceClient, type InferenceClient } from './pipeline/inference-client';
import { ModelRouter } from './pipeline/model-router';
import { createOutboxRelay, type OutboxRelay } from './pipeline/outbox-relay';
import { PipelineProcessor } from './pipeline/pipeline-processor';
import { PumpDirectory } from './pipeline/pump-directory';
import { FileRecordAudit } from './pipeline/record-audit';
import { WindowSink } from './pipeline/window-sink';
import { createLearningCoordinator, type LearningOptions } from '../registry/learning';
import { RoutingQueueListener, SqsMessageQueue } from '../registry/routing-queue';
import { sageMakerGroupName } from '../registry/sagemaker-registry';
import { StateChangeHandler } from '../registry/state-change';
import type { Scheduler } from './scheduler';
import type { InitialPosition } from './shard-syncer';
import { createModelRegistry } from '../registry/factory';

export interface WorkerOptions {
  readonly clock?: Clock;
  readonly initialPosition?: InitialPosition;
  /** Called for pumps without a model after each of their windows (learning phase hook). */
  readonly onUnrouted?: ConstructorParameters<typeof WindowSink>[0]['onUnrouted'];
  /** Train pumps' own baselines in their learning phase (ignored when onUnrouted is given). */
  readonly learning?: LearningOptions;
}

/** A running consumer worker and the parts a caller may want to look at. */
export interface Worker {
  readonly workerId: string;
  readonly scheduler: Scheduler;
  readonly relay: OutboxRelay;
  readonly router: ModelRouter;
  readonly inference: InferenceClient;
  readonly processors: ReadonlyMap<string, PipelineProcessor>;
  readonly sinks: ReadonlyMap<string, WindowSink>;
  start(): void;
  stop(): Promise<void>;
}

/** A unique worker id: host, pid and a random suffix (a restarted process is a new worker). */
export function newWorkerId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** Builds a consumer worker from the configuration and the clients (composition of the consumer). */
export function createWorker(config: Config, clients: AwsClients, options: WorkerOptions = {}): Worker {
  const clock = options.clock ?? systemClock;
  const workerId = config.workerId ?? newWorkerId();
  const log = getLogger('consumer').child({ workerId });
  const { tables } = config.names;
  const faults = new Faults(config.faults);
  const windows = new DynamoDbWindowStore(clients.doc, tables.windows);
  const state = new DynamoDbStateStore(clients.doc, tables.state);
  const outbox = new DynamoDbOutboxStore(clients.doc, tables.events);
  const quarantine = new DynamoDbQuarantineStore(clients.doc, tables.quarantine);
  const handoff = new DynamoDbHandoffStore(clients.doc, tables.windows);
  const pumpRegistry = new DynamoDbPumpRegistry(clients.doc, tables.pumps);
  const directory = new PumpDirectory(pumpRegistry, clock, 60_000);
  const registry = createModelRegistry(config, clients);
  const router = new ModelRouter(registry, clock, config.consumer.routeRefreshMs);
  const learning =
    options.learning && !options.onUnrouted
      ? createLearningCoordinator(config, clients, { ...options.learning, registry, clock, onPublished: (pumpId) => router.invalidate(pumpId) })
      : undefined;
  const onUnrouted = options.onUnrouted ?? learning?.onUnrouted;
  // On AWS, approvals in the SageMaker Model Registry arrive on the routing queue: routes are
  // dropped at once instead of at the next refresh.
  const routing = config.routingQueueUrl
    ? new RoutingQueueListener(
        new SqsMessageQueue(createSqsClient(config), config.routingQueueUrl),
        new StateChangeHandler({
          pumps: () => pumpRegistry.list(),
          groupName: (group) => sageMakerGroupName(config.stage, group),
          invalidate: (pumpId) => router.invalidate(pumpId),
          log: log.child({ part: 'routing' }),
        }),
        log.child({ part: 'routing' }),
      )
    : undefined;
  const inference = createInferenceClient(config, clients.sageMakerRuntime, clock);
  const relay = createOutboxRelay(config, outbox, clients.eventBridge, clock, log.child({ part: 'outbox' }));
  const audit = config.recordAuditFile ? new FileRecordAudit(config.recordAuditFile, workerId) : undefined;
  const processors = new Map<string, PipelineProcessor>();
  const sinks = new Map<string, WindowSink>();
  const scheduler = createLeaseScheduler(config, clients, {
    applicationName: config.applicationName,
    workerId,
    initialPosition: options.initialPosition ?? 'TRIM_HORIZON',
    checkpoint: { everyMarks: 10, everyMs: config.consumer.checkpointIntervalMs },
    clock,
    log,
    processorFactory: (shardId) => {
      const shardLog = log.child({ shardId });
      const sink = new WindowSink(
        { directory, router, inference, windows, state, outbox, relay, clock, log: shardLog, faults, onUnrouted },
        {
          historyRetentionDays: 90,
          retryBaseMs: config.consumer.unscoredRetryMs,
          retryMaxMs: 300_000,
          pumpConcurrency: 16,
          maxWindowsPerCall: 50,
        },
      );
      const processor = new PipelineProcessor(
        { window: config.window, maxRecordAttempts: 3, atTipLagMs: 1_000, silenceSweepMs: 10_000 },
        { sink, directory, quarantine, windows, state, handoff, clock, log: shardLog, faults, ...(audit ? { audit } : {}) },
      );
      processors.set(shardId, processor);
      sinks.set(shardId, sink);
      return processor;
    },
  });
  let started = false;
  return {
    workerId,
    scheduler,
    relay,
    router,
    inference,
    processors,
    sinks,
    start() {
      if (started) return;
      started = true;
      relay.start();
      routing?.start();
      void scheduler.start();
    },
    async stop() {
      await scheduler.stop();
      await learning?.stop();
      await routing?.stop();
      await relay.stop();
    },
  };
}
