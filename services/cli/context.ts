import { existsSync } from 'node:fs';
import { type AwsClients, createAwsClients } from '../../shared/aws/clients';
import { type Config, loadConfig } from '../../shared/config';
import { ENV } from '../../shared/env';
import { configureLogging } from '../../shared/logging';
import { DynamoDbOutboxStore } from '../../shared/stores/outbox-store';
import { DynamoDbPumpRegistry } from '../../shared/stores/pump-registry';
import { DynamoDbQuarantineStore } from '../../shared/stores/quarantine-store';
import { DynamoDbStateStore } from '../../shared/stores/state-store';
import { DynamoDbWindowStore } from '../../shared/stores/window-store';
import { DEFAULT_ENV_FILE, readEnvFile } from './env-file';
import { createModelRegistry } from '../registry/factory';

export interface GlobalOptions {
  /** Path of an env file, or false to use the process environment only. */
  readonly envFile?: string | false;
}

/**
 * Everything a command needs, built once: the configuration (environment, plus the local
 * stack's env file when present) and lazily created clients and stores.
 */
export class CliContext {
  private clientsValue: AwsClients | undefined;

  constructor(readonly config: Config) {}

  get clients(): AwsClients {
    this.clientsValue ??= createAwsClients(this.config);
    return this.clientsValue;
  }

  get stores() {
    const { doc } = this.clients;
    const t = this.config.names.tables;
    return {
      pumps: new DynamoDbPumpRegistry(doc, t.pumps),
      state: new DynamoDbStateStore(doc, t.state),
      windows: new DynamoDbWindowStore(doc, t.windows),
      outbox: new DynamoDbOutboxStore(doc, t.events),
      quarantine: new DynamoDbQuarantineStore(doc, t.quarantine),
      models: createModelRegistry(this.config, this.clients),
    };
  }

  close(): void {
    this.clientsValue?.destroy();
  }
}

/**
 * The environment a command runs with: the process environment, on top of an env file. The
 * default file (written by `pumpwatch local up`) is used only when it exists and the environment
 * does not already point somewhere (no endpoint overrides set).
 */
export function commandEnv(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): Record<string, string | undefined> {
  let fileEnv: Record<string, string> = {};
  if (typeof options.envFile === 'string') fileEnv = readEnvFile(options.envFile);
  else if (options.envFile !== false && !env[ENV.kinesisEndpoint] && existsSync(DEFAULT_ENV_FILE)) fileEnv = readEnvFile(DEFAULT_ENV_FILE);
  return { ...fileEnv, ...env };
}

export function createContext(options: GlobalOptions): CliContext {
  const config = loadConfig(commandEnv(options));
  // Logs go to stderr so command output on stdout stays clean for scripts.
  configureLogging({ level: process.env[ENV.logLevel] ? config.logLevel : 'warn', destination: process.stderr });
  return new CliContext(config);
}
