/**
 * Resource names, derived once from the stage. The CDK app and the local stack both call
 * {@link resourceNames}, so a stream or table is called the same everywhere.
 */
export interface ResourceNames {
  readonly streamName: string;
  readonly bucketName: string;
  readonly eventBusName: string;
  readonly modelEndpointName: string;
  readonly tables: {
    readonly leases: string;
    readonly pumps: string;
    readonly state: string;
    readonly windows: string;
    readonly events: string;
    readonly models: string;
    readonly quarantine: string;
    readonly replay: string;
  };
}

/** S3 key prefixes inside the bucket. Model artifacts live under the endpoint's model prefix. */
export const S3_PREFIXES = {
  models: 'models/',
  archive: 'raw/',
} as const;

/** EventBridge `source` of every pumpwatch event. */
export const EVENT_SOURCE = 'pumpwatch';

const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,19}$/;

/**
 * Names for one stage. `account` makes the bucket name globally unique on AWS; locally it is omitted.
 */
export function resourceNames(stage: string, account?: string): ResourceNames {
  if (!STAGE_PATTERN.test(stage)) {
    throw new Error(`stage must match ${STAGE_PATTERN} (lower-case, up to 20 chars), got ${JSON.stringify(stage)}`);
  }
  const p = `pumpwatch-${stage}`;
  return {
    streamName: `${p}-telemetry`,
    bucketName: account ? `${p}-data-${account}` : `${p}-data`,
    eventBusName: `${p}-events`,
    modelEndpointName: `${p}-models`,
    tables: {
      leases: `${p}-leases`,
      pumps: `${p}-pumps`,
      state: `${p}-pump-state`,
      windows: `${p}-windows`,
      events: `${p}-events`,
      models: `${p}-models`,
      quarantine: `${p}-quarantine`,
      replay: `${p}-replay-jobs`,
    },
  };
}

/** The SageMaker model package group of one pump type (the CDK model stack creates these). */
export function modelPackageGroupName(stage: string, pumpType: string): string {
  return `pumpwatch-${stage}-${pumpType}`;
}

/**
 * The prefix of the SageMaker model package groups of single pumps (their own baselines), created
 * by the learning phase on a pump's first version: `<prefix><slug>-<hash8>`. Pump types may not
 * start with `pump-`, so no pump type group falls under it.
 */
export function pumpModelPackageGroupPrefix(stage: string): string {
  return `pumpwatch-${stage}-pump-`;
}

/** detail-type of SageMaker Model Registry approval events (the routing update listens to it). */
export const MODEL_PACKAGE_STATE_CHANGE = 'SageMaker Model Package State Change';
