import type { Command } from 'commander';
import { resolve } from 'node:path';
import { configureLogging } from '../../../shared/logging';
import { ENV } from '../../../shared/env';
import { PumpEventDetailSchema } from '../../../shared/schemas/events';
import { DynamoDbModelRegistry } from '../../../shared/stores/model-registry';
import { PUMP_TYPES } from '../../ingest/simulator';
import { ensureTypeDefaultModels } from '../../registry/bootstrap';
import { startLocalStack } from '../../local/stack';
import { readAlertsConfig, subscriptionsOf } from '../../alerts/config';
import { applySubscriptions, listenToSubscriptions } from '../../local/subscriptions';
import { DEFAULT_ENV_FILE, writeEnvFile } from '../env-file';
import type { EventBridgeEnvelope } from '../../local/eventbridge/index';
import { formatEventLine } from './events';
import { untilSignal } from './worker';

/** The data folder `local up` uses unless told otherwise. */
export const DEFAULT_DATA_DIR = '.pumpwatch/data';

/** A pumpwatch event delivered to a local subscription, as a line (undefined for other events). */
export function deliveredLine(rule: string, e: EventBridgeEnvelope): string | undefined {
  const d = PumpEventDetailSchema.safeParse(e.detail);
  if (!d.success) return undefined;
  return `[${rule}] ${formatEventLine({ time: Date.parse(e.time), detailType: e['detail-type'], pumpId: d.data.pumpId, detail: d.data })}`;
}

function printDelivered(rule: string, e: EventBridgeEnvelope): void {
  const line = deliveredLine(rule, e);
  if (line) process.stdout.write(`${line}\n`);
}

/** `pumpwatch local up`: only the emulators and the resources, until stopped. */
export function registerLocal(program: Command): void {
  const local = program.command('local').description('the local stack of emulators');
  local
    .command('up')
    .description('start the emulators and create the resources; write the environment other commands need; run until stopped')
    .option('--in-memory', 'keep no data on disk (gone when stopped)')
    .option('--data <dir>', 'persist emulator data here', DEFAULT_DATA_DIR)
    .option('--env-file <file>', 'write KEY=VALUE lines for other commands here', DEFAULT_ENV_FILE)
    .option('--shards <n>', 'shards of a new stream', '2')
    .option('--quiet', 'do not print delivered alerts')
    .action(async (opts: { inMemory?: boolean; data: string; envFile: string; shards: string; quiet?: boolean }) => {
      configureLogging({ level: process.env[ENV.logLevel] ?? 'warn', destination: process.stderr });
      const dataDir = opts.inMemory ? undefined : resolve(opts.data);
      const stack = await startLocalStack({ dataDir, shardCount: Number(opts.shards) });
      const targetsDir = resolve(dataDir ?? '.pumpwatch/in-memory', 'subscriptions');
      const alerts = readAlertsConfig({ env: process.env });
      const subscriptions = subscriptionsOf(alerts);
      listenToSubscriptions(stack.eventBridge, subscriptions, (rule, e) => (opts.quiet ? undefined : printDelivered(rule, e)));
      await applySubscriptions(stack.clients.eventBridge, stack.config.names.eventBusName, subscriptions, { dir: targetsDir, topics: alerts.topics });
      const published = await ensureTypeDefaultModels(
        { registry: new DynamoDbModelRegistry(stack.clients.doc, stack.config.names.tables.models), s3: stack.clients.s3, bucket: stack.config.names.bucketName },
        Object.keys(PUMP_TYPES),
        stack.config.window,
        Date.now(),
      );
      writeEnvFile(opts.envFile, { ...stack.env, [ENV.subscriptionsDir]: targetsDir }, `written by pumpwatch local up at ${new Date().toISOString()}; valid while it runs`);
      process.stdout.write(
        [
          `local stack up (${dataDir ? `data in ${dataDir}` : 'in memory'})`,
          `  kinesis      ${stack.config.endpoints.kinesis}  stream ${stack.config.names.streamName}`,
          `  dynamodb     ${stack.config.endpoints.dynamodb}`,
          `  s3           ${stack.config.endpoints.s3}  bucket ${stack.config.names.bucketName}`,
          `  eventbridge  ${stack.config.endpoints.eventBridge}  bus ${stack.config.names.eventBusName}`,
          `  sagemaker    ${stack.config.endpoints.sageMakerRuntime}  endpoint ${stack.config.names.modelEndpointName}`,
          `  subscriptions: ${subscriptions.map((s) => s.name).join(', ')} (files under ${targetsDir}${alerts.source ? `; from ${alerts.source}` : ''})`,
          published.length ? `  default models published: ${published.join(', ')}` : '  default models: already approved',
          `environment written to ${opts.envFile}; other commands read it from there.`,
          'Ctrl-C to stop.',
          '',
        ].join('\n'),
      );
      await untilSignal(async () => {
        process.stdout.write('stopping the local stack...\n');
        await stack.stop();
      });
    });
}
