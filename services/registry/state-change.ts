import { z } from 'zod';
import { ValidationError } from '../../shared/errors';
import { MODEL_PACKAGE_STATE_CHANGE } from '../../shared/names';
import type { Logger } from '../../shared/logging';
import { describeIssues } from '../../shared/schemas/issues';
import type { PumpRecord } from '../../shared/schemas/pump';
import { parseModelGroup, pumpModelGroup, typeModelGroup } from '../../shared/stores/model-registry';
import { METADATA } from './sagemaker-registry';

/**
 * Routing updates from the SageMaker Model Registry: the `SageMaker Model Package State Change`
 * event (EventBridge, delivered to the routing SQS queue by the CDK app's rule) says a version of
 * a model package group was registered, approved or rejected. The handler parses it and drops
 * the cached routes of the pumps the group serves — a pump group its pump, a type group every
 * pump of that type — so the change applies at once instead of after the route refresh.
 *
 * Pure apart from the injected pump list and callback. Reading the queue needs
 * `@aws-sdk/client-sqs` (not a dependency yet): a poll loop would call
 * {@link StateChangeHandler.handleMessage} with each message body and delete the message after.
 */

/** The EventBridge detail-type of a model package version change. */
export { MODEL_PACKAGE_STATE_CHANGE };

/** The part of the event the handler reads; other fields pass through. */
export const ModelPackageStateChangeSchema = z.looseObject({
  source: z.literal('aws.sagemaker'),
  'detail-type': z.literal(MODEL_PACKAGE_STATE_CHANGE),
  detail: z.looseObject({
    ModelPackageGroupName: z.string().min(1).max(63),
    ModelPackageVersion: z.number().int().positive().optional(),
    ModelPackageArn: z.string().optional(),
    ModelApprovalStatus: z.enum(['Approved', 'Rejected', 'PendingManualApproval']).optional(),
    CustomerMetadataProperties: z.record(z.string(), z.string()).optional(),
  }),
});
export type ModelPackageStateChange = z.infer<typeof ModelPackageStateChangeSchema>;

/** Parses an event (an SQS message body already JSON-parsed); the error names the field. */
export function parseModelPackageStateChange(input: unknown): ModelPackageStateChange {
  const parsed = ModelPackageStateChangeSchema.safeParse(input);
  if (!parsed.success) throw new ValidationError(`not a model package state change: ${describeIssues(parsed.error)}`, parsed.error);
  return parsed.data;
}

/** Which cached routes a change affects: some pumps, or all when the group is not known. */
export type Invalidation = { readonly kind: 'pumps'; readonly pumpIds: readonly string[] } | { readonly kind: 'all'; readonly reason: string };

/**
 * Decides which pumps' routes to drop. The group is identified by the package's
 * `pumpwatch:modelGroup` metadata when present, else by matching the package group name against
 * the names of the registered pumps' own and type groups (`groupName` maps a pumpwatch group to
 * the registry's name: identity locally, `sageMakerGroupName` on AWS). A group that matches no
 * registered pump invalidates everything (cheap, and never leaves a stale route).
 */
export function routesToInvalidate(
  change: ModelPackageStateChange,
  pumps: readonly Pick<PumpRecord, 'pumpId' | 'pumpType'>[],
  groupName: (modelGroup: string) => string,
): Invalidation {
  const declared = change.detail.CustomerMetadataProperties?.[METADATA.modelGroup];
  const ref = declared ? parseModelGroup(declared) : undefined;
  if (ref?.kind === 'pump') return { kind: 'pumps', pumpIds: [ref.pumpId] };
  if (ref?.kind === 'type') return { kind: 'pumps', pumpIds: pumps.filter((p) => p.pumpType === ref.pumpType).map((p) => p.pumpId) };
  const name = change.detail.ModelPackageGroupName.toLowerCase();
  const own = pumps.filter((p) => groupName(pumpModelGroup(p.pumpId)).toLowerCase() === name);
  if (own.length > 0) return { kind: 'pumps', pumpIds: own.map((p) => p.pumpId) };
  const byType = pumps.filter((p) => groupName(typeModelGroup(p.pumpType)).toLowerCase() === name);
  if (byType.length > 0) return { kind: 'pumps', pumpIds: byType.map((p) => p.pumpId) };
  return { kind: 'all', reason: `model package group ${change.detail.ModelPackageGroupName} serves no registered pump` };
}

export interface StateChangeDeps {
  /** The registered pumps (e.g. the pump registry's list). */
  readonly pumps: () => Promise<readonly Pick<PumpRecord, 'pumpId' | 'pumpType'>[]>;
  readonly groupName: (modelGroup: string) => string;
  /** Drops cached routes: one pump's, or all (the consumer's `ModelRouter.invalidate`). */
  readonly invalidate: (pumpId?: string) => void;
  readonly log?: Logger;
}

/** Handles routing updates. */
export class StateChangeHandler {
  constructor(private readonly deps: StateChangeDeps) {}

  /** Handles one parsed event; returns what was invalidated. */
  async handle(event: unknown): Promise<Invalidation> {
    const change = parseModelPackageStateChange(event);
    const decision = routesToInvalidate(change, await this.deps.pumps(), this.deps.groupName);
    if (decision.kind === 'all') this.deps.invalidate();
    else for (const id of decision.pumpIds) this.deps.invalidate(id);
    this.deps.log?.info(
      {
        group: change.detail.ModelPackageGroupName,
        version: change.detail.ModelPackageVersion,
        status: change.detail.ModelApprovalStatus,
        pumps: decision.kind === 'all' ? 'all' : decision.pumpIds.length,
      },
      'model routes invalidated',
    );
    return decision;
  }

  /** Handles an SQS message body (the EventBridge event as JSON). */
  async handleMessage(body: string): Promise<Invalidation> {
    let event: unknown;
    try {
      event = JSON.parse(body);
    } catch (err) {
      throw new ValidationError('routing message is not JSON', err);
    }
    return this.handle(event);
  }
}
