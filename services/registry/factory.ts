import { SageMakerClient } from '@aws-sdk/client-sagemaker';
import type { AwsClients } from '../../shared/aws/clients';
import type { Config } from '../../shared/config';
import { ENV } from '../../shared/env';
import { ConfigError } from '../../shared/errors';
import { DynamoDbModelRegistry, type ModelRegistry } from '../../shared/stores/model-registry';
import { SageMakerModelRegistry } from './sagemaker-registry';

/**
 * The model registry the configuration names: the models table (local default), or the SageMaker
 * Model Registry (model package groups and versions; newest Approved wins).
 */
export function createModelRegistry(config: Pick<Config, 'modelRegistry' | 'modelImageUri' | 'stage' | 'region' | 'names'>, clients: Pick<AwsClients, 'doc'>): ModelRegistry {
  if (config.modelRegistry === 'dynamodb') return new DynamoDbModelRegistry(clients.doc, config.names.tables.models);
  if (!config.modelImageUri) {
    throw new ConfigError(`${ENV.modelRegistry}=sagemaker needs ${ENV.modelImageUri} (the model server image recorded in each model package)`);
  }
  return new SageMakerModelRegistry(new SageMakerClient({ region: config.region, maxAttempts: 5 }), {
    stage: config.stage,
    bucket: config.names.bucketName,
    image: config.modelImageUri,
  });
}
