/**
 * pumpwatch's own CloudWatch metrics, defined once. Services emit them as CloudWatch embedded metric
 * format (EMF) lines on stdout; on Fargate the awslogs driver ships stdout to CloudWatch Logs, which
 * extracts the metrics — no agent and no PutMetricData permission needed. The observability stack
 * builds its alarms and dashboard from the same constants, so a renamed metric fails the infra tests
 * instead of silently leaving an alarm without data.
 *
 * Every metric is emitted with exactly one dimension set, `[["Stage"]]`: CloudWatch matches
 * dimensions exactly, and the alarms query `{ Stage: <stage> }`.
 *
 * This file has no CDK imports so runtime code can import it.
 */

/** CloudWatch namespace of every pumpwatch metric. */
export const METRIC_NAMESPACE = 'pumpwatch';

/** The single dimension every metric carries. */
export const STAGE_DIMENSION = 'Stage';

/** CloudWatch units used by pumpwatch metrics. */
export type MetricUnit = 'Count' | 'Milliseconds';

/** A metric: its CloudWatch name, unit and whether it is a gauge (a level) or a counter (per flush). */
export interface MetricDefinition {
  readonly name: string;
  readonly unit: MetricUnit;
  readonly kind: 'counter' | 'gauge';
  readonly description: string;
}

/** All pumpwatch metrics. Counters are emitted per flush (sum them); gauges as the current level. */
export const METRICS = {
  recordsRead: { name: 'RecordsRead', unit: 'Count', kind: 'counter', description: 'Kinesis records (after de-aggregation) read by consumers.' },
  recordsQuarantined: { name: 'RecordsQuarantined', unit: 'Count', kind: 'counter', description: 'Records stored in quarantine, any reason.' },
  windowsClosed: { name: 'WindowsClosed', unit: 'Count', kind: 'counter', description: 'Per-pump windows closed into feature vectors.' },
  windowsScored: { name: 'WindowsScored', unit: 'Count', kind: 'counter', description: 'Windows scored by a model.' },
  windowsUnscored: { name: 'WindowsUnscored', unit: 'Count', kind: 'counter', description: 'Windows stored UNSCORED (model error or timeout; retried).' },
  modelInvocations: { name: 'ModelInvocations', unit: 'Count', kind: 'counter', description: 'InvokeEndpoint calls.' },
  modelInvocationErrors: { name: 'ModelInvocationErrors', unit: 'Count', kind: 'counter', description: 'InvokeEndpoint calls that failed (ModelError, timeout, throttling after retries).' },
  modelLatency: { name: 'ModelLatency', unit: 'Milliseconds', kind: 'gauge', description: 'InvokeEndpoint round trip per call.' },
  eventsPublished: { name: 'EventsPublished', unit: 'Count', kind: 'counter', description: 'Outbox events published to EventBridge.' },
  outboxPending: { name: 'OutboxPending', unit: 'Count', kind: 'gauge', description: 'Outbox events written but not yet published.' },
  millisBehindLatest: { name: 'MillisBehindLatest', unit: 'Milliseconds', kind: 'gauge', description: 'GetRecords MillisBehindLatest, per shard consumer.' },
  leasesHeld: { name: 'LeasesHeld', unit: 'Count', kind: 'gauge', description: 'Shard leases held by one worker.' },
} as const satisfies Record<string, MetricDefinition>;

export type MetricKey = keyof typeof METRICS;

/**
 * One EMF document (a JSON log line) carrying `values` for the stage. Pure: the timestamp is passed in.
 * See https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
export function emfDocument(
  stage: string,
  values: Partial<Record<MetricKey, number>>,
  timestampMs: number,
): Record<string, unknown> {
  const keys = (Object.keys(values) as MetricKey[]).filter((k) => Number.isFinite(values[k]));
  const doc: Record<string, unknown> = {
    _aws: {
      Timestamp: timestampMs,
      CloudWatchMetrics: [
        {
          Namespace: METRIC_NAMESPACE,
          Dimensions: [[STAGE_DIMENSION]],
          Metrics: keys.map((k) => ({ Name: METRICS[k].name, Unit: METRICS[k].unit })),
        },
      ],
    },
    [STAGE_DIMENSION]: stage,
  };
  for (const k of keys) doc[METRICS[k].name] = values[k];
  return doc;
}
