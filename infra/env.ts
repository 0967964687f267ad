import { ENV } from '../shared/env';

/**
 * Environment variables whose values only exist at deploy time (CloudFormation tokens), so the app
 * sets them beside `configToEnv`'s output rather than through `loadConfig`. Their names are the
 * runtime's own (shared/env.ts), and `loadConfig` reads them.
 */
export const INFRA_ENV = {
  /** URL of the SQS queue carrying SageMaker model package state changes (routing updates). */
  routingQueueUrl: ENV.routingQueueUrl,
  /**
   * The model server image recorded in the model packages the workers register (SageMaker registry
   * only). Read by ECS at task start from the model stack's SSM parameter, not set as a plain value.
   */
  modelImageUri: ENV.modelImageUri,
} as const;
