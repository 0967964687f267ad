import { z } from 'zod';
import { EVENT_SOURCE } from './names';
import { DETAIL_TYPES } from './schemas/events';

/**
 * Alert subscriptions as configuration: named rules with an EventBridge pattern and a logical
 * target. The CDK alerts stack and the local bus both read this list, so a rule routes the same
 * events in both places. Logical targets map to:
 * - `topic`:   an SNS topic on AWS; locally a fan-out to the configured webhooks (and the console).
 * - `queue`:   an SQS queue on AWS; locally a JSON-lines file.
 * - `log`:     a CloudWatch Logs group on AWS; locally the console / a JSON-lines file.
 */
export const SubscriptionTargetSchema = z.strictObject({
  kind: z.enum(['topic', 'queue', 'log']),
  /** Logical id: names the topic / queue / log group. */
  id: z.string().regex(/^[a-z][a-z0-9-]{0,39}$/),
});
export type SubscriptionTarget = z.infer<typeof SubscriptionTargetSchema>;

export const SubscriptionSchema = z.strictObject({
  name: z.string().regex(/^[a-zA-Z0-9._-]{1,64}$/, 'rule names are 1-64 of [a-zA-Z0-9._-] (EventBridge)'),
  description: z.string().max(512),
  /** An EventBridge event pattern. */
  pattern: z.record(z.string(), z.unknown()),
  targets: z.array(SubscriptionTargetSchema).min(1).max(5),
});
export type Subscription = z.infer<typeof SubscriptionSchema>;

/**
 * Live events only. `exists` matches leaf values, and `replay` is an object, so the test is on its
 * leaf `jobId`: absent on live events, present on every replayed one.
 */
const live = { replay: { jobId: [{ exists: false }] } };

/** The standard subscriptions every deployment gets. */
export const STANDARD_SUBSCRIPTIONS: readonly Subscription[] = [
  {
    name: 'pump-alarms',
    description: 'Live condition changes into ALARM: page the on-call service engineer.',
    pattern: {
      source: [EVENT_SOURCE],
      'detail-type': [DETAIL_TYPES.conditionChanged],
      detail: { state: ['ALARM'], ...live },
    },
    targets: [{ kind: 'topic', id: 'alarms' }],
  },
  {
    name: 'pump-anomalies',
    description: 'Every live anomaly episode, for the maintenance work queue.',
    pattern: {
      source: [EVENT_SOURCE],
      'detail-type': [DETAIL_TYPES.anomalyDetected],
      detail: live,
    },
    targets: [{ kind: 'queue', id: 'anomalies' }],
  },
  {
    name: 'pump-condition-log',
    description: 'All live condition and data-quality changes, for the operations log.',
    pattern: {
      source: [EVENT_SOURCE],
      'detail-type': [DETAIL_TYPES.conditionChanged, DETAIL_TYPES.anomalyDetected, DETAIL_TYPES.dataQualityDegraded],
      detail: live,
    },
    targets: [{ kind: 'log', id: 'conditions' }],
  },
];
