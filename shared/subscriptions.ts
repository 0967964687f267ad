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

// ---- User subscriptions (the subscriptions file) ----
//
// Beyond the standard list, operators add their own rules in a JSON file (see
// services/alerts/README.md). Such a rule may use the logical targets above (deployable by the CDK
// alerts stack as they are) and two local-stack targets: a webhook and a JSON-lines file. Topics get
// their subscribers here: a topic is an SNS-like fan-out, locally one webhook target per subscriber.

const LOGICAL_ID = /^[a-z][a-z0-9-]{0,39}$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/;

const HttpUrlSchema = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

/** A path for a JSON-lines file; relative paths are under the local subscriptions folder. */
const FilePathSchema = z
  .string()
  .min(1)
  .max(1024)
  .refine((p) => !/[\r\n\0]/.test(p), 'must not contain line breaks or NUL');

/** EventBridge's RetryPolicy of a target; omitted fields take the local defaults. */
export const RetryPolicySchema = z.strictObject({
  /** Retries after the first attempt (EventBridge allows 0-185). */
  maximumRetryAttempts: z.number().int().min(0).max(185).optional(),
  /** Give up on an event older than this (EventBridge allows 60-86400 s). */
  maximumEventAgeSeconds: z.number().int().min(60).max(86_400).optional(),
});
export type RetryPolicy = z.infer<typeof RetryPolicySchema>;

/** HTTP headers sent with every webhook call (e.g. an authorization token). */
const HeadersSchema = z.record(z.string().regex(HEADER_NAME, 'must be an HTTP header name'), z.string().max(4096));

/** One webhook: its URL, optionally with headers. A plain string is the URL alone. */
export const WebhookEndpointSchema = z.union([
  HttpUrlSchema.transform((url): { url: string; headers?: Record<string, string> } => ({ url })),
  z.strictObject({ url: HttpUrlSchema, headers: HeadersSchema.optional() }),
]);
export type WebhookEndpoint = z.output<typeof WebhookEndpointSchema>;

/** A webhook target: the event is POSTed as JSON, retried, then written to a dead-letter file. */
export const WebhookTargetSchema = z.strictObject({
  kind: z.literal('webhook'),
  url: HttpUrlSchema,
  headers: HeadersSchema.optional(),
  retry: RetryPolicySchema.optional(),
  /** Default `<subscriptions folder>/dead-letters/<rule>.jsonl`. */
  deadLetterFile: FilePathSchema.optional(),
});
export type WebhookTarget = z.infer<typeof WebhookTargetSchema>;

/** A JSON-lines file target: one event per line, appended. */
export const FileTargetSchema = z.strictObject({
  kind: z.literal('file'),
  path: FilePathSchema,
});
export type FileTarget = z.infer<typeof FileTargetSchema>;

/** A target of a configured subscription: a logical target (topic, queue, log), a webhook or a file. */
export const ConfiguredTargetSchema = z.discriminatedUnion('kind', [SubscriptionTargetSchema, WebhookTargetSchema, FileTargetSchema]);
export type ConfiguredTarget = z.infer<typeof ConfiguredTargetSchema>;

/** A subscription from the subscriptions file; every standard {@link Subscription} is one too. */
export const ConfiguredSubscriptionSchema = z.strictObject({
  ...SubscriptionSchema.shape,
  targets: z.array(ConfiguredTargetSchema).min(1).max(5),
});
export type ConfiguredSubscription = z.infer<typeof ConfiguredSubscriptionSchema>;

/** A topic's subscribers: every event published to the topic goes to each webhook (SNS-like fan-out). */
export const TopicSchema = z.strictObject({
  description: z.string().max(512).optional(),
  webhooks: z.array(WebhookEndpointSchema).min(1),
  retry: RetryPolicySchema.optional(),
  /** Default `<subscriptions folder>/dead-letters/<rule>.jsonl`. */
  deadLetterFile: FilePathSchema.optional(),
});
export type Topic = z.output<typeof TopicSchema>;

/** The subscriptions file (`pumpwatch.subscriptions.json`). */
export const SubscriptionsFileSchema = z.strictObject({
  $schema: z.string().optional(),
  /** Subscribers of topics by logical id, standard ones (`alarms`) included. */
  topics: z.record(z.string().regex(LOGICAL_ID, 'topic ids are 1-40 of [a-z0-9-], starting with a letter'), TopicSchema).default({}),
  subscriptions: z.array(ConfiguredSubscriptionSchema).default([]),
});
export type SubscriptionsFile = z.output<typeof SubscriptionsFileSchema>;
