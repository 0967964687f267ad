/**
 * Environment variables the AWS deployment sets beyond shared/env.ts (ENV), because AWS has a piece
 * the local stack does not. To be moved into shared/env.ts (and read by loadConfig) by the owner of
 * shared/; until then the infra tests treat these as the only keys allowed besides configToEnv's.
 */
export const INFRA_ENV = {
  /** URL of the SQS queue carrying SageMaker model package state changes (routing updates). */
  routingQueueUrl: 'PUMPWATCH_ROUTING_QUEUE_URL',
} as const;
