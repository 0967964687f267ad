import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from '../../shared/errors';

/** Where `pumpwatch local up` writes its environment unless told otherwise. */
export const DEFAULT_ENV_FILE = '.pumpwatch/local.env';

/** Parses `KEY=VALUE` lines (blank lines and `#` comments ignored). */
export function parseEnvFile(text: string, source: string): Record<string, string> {
  const out: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new ConfigError(`${source}:${i + 1}: expected KEY=VALUE`);
    out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  });
  return out;
}

export function readEnvFile(path: string): Record<string, string> {
  if (!existsSync(path)) throw new ConfigError(`env file ${path} does not exist (start the local stack with \`pumpwatch local up\`)`);
  return parseEnvFile(readFileSync(path, 'utf8'), path);
}

export function writeEnvFile(path: string, env: Readonly<Record<string, string>>, header: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const body = Object.keys(env)
    .sort()
    .map((k) => `${k}=${env[k]}`)
    .join('\n');
  writeFileSync(path, `# ${header}\n${body}\n`, { mode: 0o600 });
}
