import { z } from 'zod';

/**
 * Request shapes of the EventBridge JSON 1.1 operations the local bus serves, with the AWS length
 * and pattern constraints. Unknown members are dropped (a newer SDK may send more).
 */

const NAME_RE = /^[.\-_A-Za-z0-9]+$/;
/** A bus by name or by ARN (`arn:aws:events:REGION:ACCOUNT:event-bus/NAME`). */
const BUS_NAME_OR_ARN_RE = /^(arn:aws[\w-]*:events:[a-z0-9-]+:\d{12}:event-bus\/)?[/.\-_A-Za-z0-9]+$/;

/** A rule (or target) name: 1-64 of [.-_A-Za-z0-9]. */
export const RuleNameSchema = z.string().min(1).max(64).regex(NAME_RE, 'Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+');
/** An event bus, by name or ARN. */
export const BusNameOrArnSchema = z.string().min(1).max(1600).regex(BUS_NAME_OR_ARN_RE, 'Member must be an event bus name or ARN');
const LimitSchema = z.number().int().min(1).max(100);
const NextTokenSchema = z.string().min(1).max(2048);
const RuleStateSchema = z.enum(['ENABLED', 'DISABLED', 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS']);
/** A rule's state. */
export type RuleState = z.infer<typeof RuleStateSchema>;
const TagsSchema = z.array(z.object({ Key: z.string().min(1).max(128), Value: z.string().max(256) })).optional();

/** Epoch seconds (what the SDK sends for a Date) or an ISO-8601 string. */
const TimestampSchema = z.union([z.number(), z.string()]);

/** One PutEvents entry; the per-entry checks (required members, Detail JSON) answer per entry. */
export const PutEventsEntrySchema = z.object({
  Time: TimestampSchema.optional(),
  Source: z.string().optional(),
  Resources: z.array(z.string().max(2048)).optional(),
  DetailType: z.string().optional(),
  Detail: z.string().optional(),
  EventBusName: z.string().optional(),
  TraceHeader: z.string().optional(),
});
export type PutEventsEntry = z.infer<typeof PutEventsEntrySchema>;

/** PutEvents: 1-10 entries. */
export const PutEventsRequestSchema = z.object({
  Entries: z.array(PutEventsEntrySchema).min(1, 'Member must have length greater than or equal to 1').max(10, 'Member must have length less than or equal to 10'),
  EndpointId: z.string().optional(),
});

/** PutRule (create or update). */
export const PutRuleRequestSchema = z.object({
  Name: RuleNameSchema,
  ScheduleExpression: z.string().max(256).optional(),
  EventPattern: z.string().max(4096).optional(),
  State: RuleStateSchema.optional(),
  Description: z.string().max(512).optional(),
  RoleArn: z.string().min(1).max(1600).optional(),
  Tags: TagsSchema,
  EventBusName: BusNameOrArnSchema.optional(),
});

/** A rule by name on a bus (DescribeRule, EnableRule, DisableRule). */
export const RuleRefSchema = z.object({
  Name: RuleNameSchema,
  EventBusName: BusNameOrArnSchema.optional(),
});

/** DeleteRule. */
export const DeleteRuleRequestSchema = RuleRefSchema.extend({ Force: z.boolean().optional() });

/** ListRules. */
export const ListRulesRequestSchema = z.object({
  NamePrefix: z.string().min(1).max(64).optional(),
  EventBusName: BusNameOrArnSchema.optional(),
  NextToken: NextTokenSchema.optional(),
  Limit: LimitSchema.optional(),
});

/** Webhook header and query-string parameters. */
export const HttpParametersSchema = z.object({
  PathParameterValues: z.array(z.string()).optional(),
  HeaderParameters: z.record(z.string(), z.string()).optional(),
  QueryStringParameters: z.record(z.string(), z.string()).optional(),
});

/**
 * A rule target. Fields the local bus does not use are kept as sent, so ListTargetsByRule returns
 * what PutTargets stored.
 */
export const TargetSchema = z.looseObject({
  Id: z.string().min(1).max(64).regex(NAME_RE, 'Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+'),
  Arn: z.string().min(1).max(1600),
  RoleArn: z.string().min(1).max(1600).optional(),
  Input: z.string().max(8192).optional(),
  InputPath: z.string().max(256).optional(),
  InputTransformer: z.unknown().optional(),
  HttpParameters: HttpParametersSchema.optional(),
  DeadLetterConfig: z.object({ Arn: z.string().min(1).max(1600).optional() }).optional(),
  RetryPolicy: z
    .object({
      MaximumRetryAttempts: z.number().int().min(0).max(185).optional(),
      MaximumEventAgeInSeconds: z.number().int().min(60).max(86_400).optional(),
    })
    .optional(),
});
export type Target = z.infer<typeof TargetSchema>;

/** PutTargets: 1-10 targets. */
export const PutTargetsRequestSchema = z.object({
  Rule: RuleNameSchema,
  EventBusName: BusNameOrArnSchema.optional(),
  Targets: z.array(TargetSchema).min(1, 'Member must have length greater than or equal to 1').max(10, 'Member must have length less than or equal to 10'),
});

/** RemoveTargets. */
export const RemoveTargetsRequestSchema = z.object({
  Rule: RuleNameSchema,
  EventBusName: BusNameOrArnSchema.optional(),
  Ids: z.array(z.string().min(1).max(64)).min(1).max(100),
  Force: z.boolean().optional(),
});

/** ListTargetsByRule. */
export const ListTargetsByRuleRequestSchema = z.object({
  Rule: RuleNameSchema,
  EventBusName: BusNameOrArnSchema.optional(),
  NextToken: NextTokenSchema.optional(),
  Limit: LimitSchema.optional(),
});

/** TestEventPattern: both members are JSON text. */
export const TestEventPatternRequestSchema = z.object({
  EventPattern: z.string().min(1).max(4096),
  Event: z.string().min(1),
});

/** CreateEventBus (custom buses only). */
export const CreateEventBusRequestSchema = z.object({
  Name: z.string().min(1).max(256).regex(/^[.\-_A-Za-z0-9]+$/, 'Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+ (partner buses are not supported locally)'),
  EventSourceName: z.string().optional(),
  Description: z.string().max(512).optional(),
  KmsKeyIdentifier: z.string().optional(),
  DeadLetterConfig: z.object({ Arn: z.string().optional() }).optional(),
  Tags: TagsSchema,
});

/** DescribeEventBus (default: the default bus). */
export const DescribeEventBusRequestSchema = z.object({ Name: BusNameOrArnSchema.optional() });

/** DeleteEventBus. */
export const DeleteEventBusRequestSchema = z.object({ Name: z.string().min(1).max(256) });

/** ListEventBuses. */
export const ListEventBusesRequestSchema = z.object({
  NamePrefix: z.string().min(1).max(256).optional(),
  NextToken: NextTokenSchema.optional(),
  Limit: LimitSchema.optional(),
});
