import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { cdkJsonContext } from './helpers';

/**
 * The app entry point exactly as `cdk synth` runs it (cdk.json's `app` command, context passed in
 * CDK_CONTEXT_JSON): cdk-nag as a validation plugin and CDK's CloudFormation schema validation both
 * run, and either would fail the synth. No network, no Docker.
 */
const REPO_ROOT = path.resolve(__dirname, '..', '..');
const cdkJson = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { app: string };

const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs) fs.rmSync(dir, { recursive: true, force: true });
});

function runApp(context: Record<string, unknown>) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'pumpwatch-app-'));
  outdirs.push(outdir);
  const [command, ...args] = cdkJson.app.split(' ');
  const result = spawnSync(command!, args, {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      CDK_OUTDIR: outdir,
      CDK_CONTEXT_JSON: JSON.stringify({ ...cdkJsonContext(), ...context }),
      CDK_DEFAULT_ACCOUNT: '',
      CDK_DEFAULT_REGION: '',
    },
    encoding: 'utf8',
    timeout: 150_000,
  });
  return { ...result, outdir };
}

describe('cdk app entry (what `npm run synth` runs)', () => {
  test('synthesizes every stack with no context beyond cdk.json, passing cdk-nag and CloudFormation validation', () => {
    const result = runApp({});
    expect({ status: result.status, stderr: result.stderr.slice(-2000) }).toEqual({ status: 0, stderr: expect.any(String) });
    const manifest = JSON.parse(fs.readFileSync(path.join(result.outdir, 'manifest.json'), 'utf8')) as { artifacts: Record<string, { type: string }> };
    const stacks = Object.entries(manifest.artifacts)
      .filter(([, a]) => a.type === 'aws:cloudformation:stack')
      .map(([id]) => id)
      .sort();
    expect(stacks).toEqual(['Pumpwatch-dev-Alerts', 'Pumpwatch-dev-Data', 'Pumpwatch-dev-Models', 'Pumpwatch-dev-Observability', 'Pumpwatch-dev-Pipeline']);
    const report = JSON.parse(fs.readFileSync(path.join(result.outdir, 'validation-report.json'), 'utf8')) as { pluginReports: unknown[] };
    expect(report.pluginReports).toEqual([]);
  }, 150_000);

  test('a bad stage config fails synth with a message naming the field', () => {
    const result = runApp({ stage: 'prod', 'pumpwatch:stages': { prod: { stream: { mode: 'provisioned' } } } });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('invalid stage config for "prod": stream.shardCount: required when mode is "provisioned"');
  }, 60_000);
});
