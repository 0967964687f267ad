import type { AwsClients } from '../../shared/aws/clients';
import type { Config } from '../../shared/config';
import { ConditionPolicySchema } from '../../shared/schemas/condition';
import type { PumpRecord } from '../../shared/schemas/pump';
import { DynamoDbModelRegistry } from '../../shared/stores/model-registry';
import { DynamoDbPumpRegistry } from '../../shared/stores/pump-registry';
import { type AlertsConfig, standardAlertsConfig, subscriptionsOf } from '../alerts/config';
import { DEMO_ZONES } from '../ingest/simulator';
import { ensureTypeDefaultModels } from '../registry/bootstrap';
import { applySubscriptions, type LocalTargetOptions } from './subscriptions';

/** The condition policy the demo pump types use: 2-of-3 hysteresis and vibration zones. */
export const DEMO_POLICY = ConditionPolicySchema.parse({ k: 2, n: 3, zones: DEMO_ZONES });

/**
 * Prepares a local stack for a fleet: registers the pumps, makes sure each pump type has an
 * approved default model, and creates the standard subscriptions on the local bus.
 */
export async function prepareFleet(
  config: Config,
  clients: AwsClients,
  pumps: readonly PumpRecord[],
  targets: LocalTargetOptions,
  nowMs: number,
  options: { defaultModelTypes?: readonly string[]; alerts?: AlertsConfig } = {},
): Promise<void> {
  const registry = new DynamoDbPumpRegistry(clients.doc, config.names.tables.pumps);
  for (const p of pumps) await registry.put({ ...p, policy: p.policy ?? DEMO_POLICY });
  const types = options.defaultModelTypes ?? [...new Set(pumps.map((p) => p.pumpType))];
  await ensureTypeDefaultModels(
    { registry: new DynamoDbModelRegistry(clients.doc, config.names.tables.models), s3: clients.s3, bucket: config.names.bucketName },
    types,
    config.window,
    nowMs,
  );
  const alerts = options.alerts ?? standardAlertsConfig();
  await applySubscriptions(clients.eventBridge, config.names.eventBusName, subscriptionsOf(alerts), { ...targets, topics: alerts.topics });
}
