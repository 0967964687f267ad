/**
 * Environment variable names, defined once. The CDK app sets these on task definitions and the
 * local stack writes them to its env file, so runtime code and infrastructure never disagree.
 */
export const ENV = {
  stage: 'PUMPWATCH_STAGE',
  region: 'AWS_REGION',
  logLevel: 'PUMPWATCH_LOG_LEVEL',
  // Endpoint overrides: set locally, absent on AWS.
  kinesisEndpoint: 'PUMPWATCH_KINESIS_ENDPOINT',
  dynamodbEndpoint: 'PUMPWATCH_DYNAMODB_ENDPOINT',
  s3Endpoint: 'PUMPWATCH_S3_ENDPOINT',
  eventBridgeEndpoint: 'PUMPWATCH_EVENTBRIDGE_ENDPOINT',
  sageMakerRuntimeEndpoint: 'PUMPWATCH_SAGEMAKER_RUNTIME_ENDPOINT',
  // Resource names.
  streamName: 'PUMPWATCH_STREAM_NAME',
  bucketName: 'PUMPWATCH_BUCKET_NAME',
  eventBusName: 'PUMPWATCH_EVENT_BUS_NAME',
  modelEndpointName: 'PUMPWATCH_MODEL_ENDPOINT_NAME',
  leaseTable: 'PUMPWATCH_LEASE_TABLE',
  pumpTable: 'PUMPWATCH_PUMP_TABLE',
  stateTable: 'PUMPWATCH_STATE_TABLE',
  windowTable: 'PUMPWATCH_WINDOW_TABLE',
  eventTable: 'PUMPWATCH_EVENT_TABLE',
  modelTable: 'PUMPWATCH_MODEL_TABLE',
  quarantineTable: 'PUMPWATCH_QUARANTINE_TABLE',
  replayTable: 'PUMPWATCH_REPLAY_TABLE',
  // Pipeline tuning (all optional; defaults in config.ts).
  windowSizeMs: 'PUMPWATCH_WINDOW_SIZE_MS',
  windowHopMs: 'PUMPWATCH_WINDOW_HOP_MS',
  outOfOrdernessMs: 'PUMPWATCH_OUT_OF_ORDERNESS_MS',
  allowedLatenessMs: 'PUMPWATCH_ALLOWED_LATENESS_MS',
  idleTimeoutMs: 'PUMPWATCH_IDLE_TIMEOUT_MS',
  maxFutureSkewMs: 'PUMPWATCH_MAX_FUTURE_SKEW_MS',
  workerId: 'PUMPWATCH_WORKER_ID',
  failoverTimeMs: 'PUMPWATCH_FAILOVER_TIME_MS',
  takerIntervalMs: 'PUMPWATCH_TAKER_INTERVAL_MS',
  shardSyncIntervalMs: 'PUMPWATCH_SHARD_SYNC_INTERVAL_MS',
  idleTimeBetweenReadsMs: 'PUMPWATCH_IDLE_TIME_BETWEEN_READS_MS',
  checkpointIntervalMs: 'PUMPWATCH_CHECKPOINT_INTERVAL_MS',
  routeRefreshMs: 'PUMPWATCH_ROUTE_REFRESH_MS',
  inferenceTimeoutMs: 'PUMPWATCH_INFERENCE_TIMEOUT_MS',
  unscoredRetryMs: 'PUMPWATCH_UNSCORED_RETRY_MS',
  outboxSweepMs: 'PUMPWATCH_OUTBOX_SWEEP_MS',
  metricsIntervalMs: 'PUMPWATCH_METRICS_INTERVAL_MS',
  /** Where model versions are registered: `dynamodb` (the models table; default) or `sagemaker`. */
  modelRegistry: 'PUMPWATCH_MODEL_REGISTRY',
  /** The model server image recorded in SageMaker model packages (with the sagemaker registry). */
  modelImageUri: 'PUMPWATCH_MODEL_IMAGE_URI',
  /** SQS queue of SageMaker model package state changes (AWS): routes are refreshed when one arrives. */
  routingQueueUrl: 'PUMPWATCH_ROUTING_QUEUE_URL',
  /** User alert subscriptions (JSON); default ./pumpwatch.subscriptions.json when it exists. */
  subscriptionsFile: 'PUMPWATCH_SUBSCRIPTIONS_FILE',
  /** The local stack's subscriptions folder (queue, log and file targets write JSON lines there). */
  subscriptionsDir: 'PUMPWATCH_SUBSCRIPTIONS_DIR',
  /** Append a JSON line per processed record to this file (audit trail; off when unset). */
  recordAuditFile: 'PUMPWATCH_RECORD_AUDIT_FILE',
  /** Fault injection for tests and demos, e.g. `crash@after-history-write#3,poison@P-13`. */
  faults: 'PUMPWATCH_FAULTS',
  applicationName: 'PUMPWATCH_APPLICATION_NAME',
  // The local raw archiver (Firehose plays its part on AWS).
  archiverApplicationName: 'PUMPWATCH_ARCHIVER_APPLICATION_NAME',
  archiveBufferMs: 'PUMPWATCH_ARCHIVE_BUFFER_MS',
  archiveBufferBytes: 'PUMPWATCH_ARCHIVE_BUFFER_BYTES',
  /** Records a replay hands to the pipeline per call (GetRecords limit / archive lines). */
  replayBatchRecords: 'PUMPWATCH_REPLAY_BATCH_RECORDS',
} as const;

export type EnvKey = keyof typeof ENV;
