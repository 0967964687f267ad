import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { composeApp, type PumpwatchStacks } from '../../infra/compose';
import { parseStageConfig, type StageConfig, type StageConfigInput } from '../../infra/config';

export const TEST_ACCOUNT = '111111111111';
export const TEST_REGION = 'eu-west-1';

const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Cloud assemblies of this test file (Docker build contexts are staged into them): removed afterwards. */
const outdirs: string[] = [];
if (typeof afterAll === 'function') {
  afterAll(() => {
    for (const dir of outdirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  });
}

/** The context of cdk.json (feature flags and stage presets), as `cdk synth` passes it to the app. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

export interface SynthesizedStage {
  readonly app: App;
  readonly config: StageConfig;
  readonly stacks: PumpwatchStacks;
  /** Template of one stack; the app is synthesized once (the first call) and cached. */
  template(stack: keyof PumpwatchStacks): Template;
  /** Raw templates of every stack. */
  allTemplates(): Record<keyof PumpwatchStacks, Record<string, any>>;
}

/** A bare app (cdk.json context, no CloudFormation schema validation) for construct-level tests. */
export function testApp(): App {
  return new App({ context: cdkJsonContext(), builtinCloudFormationValidation: false });
}

/** A stack in a bare app, with an explicit environment. */
export function testStack(id = 'Test'): Stack {
  return new Stack(testApp(), id, { env: { account: TEST_ACCOUNT, region: TEST_REGION } });
}

export interface SynthOptions {
  /**
   * CDK's built-in CloudFormation schema validation (what `cdk synth` runs). It takes ~15 s per app,
   * so only the test that is about it turns it on.
   */
  readonly cloudFormationValidation?: boolean;
}

/** Composes the whole app for one stage with cdk.json's context, as `cdk synth` would. */
export function synthStage(input: Partial<StageConfigInput> = {}, options: SynthOptions = {}): SynthesizedStage {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'pumpwatch-cdk-'));
  outdirs.push(outdir);
  const app = new App({
    outdir,
    context: cdkJsonContext(),
    builtinCloudFormationValidation: options.cloudFormationValidation ?? false,
  });
  const config = parseStageConfig({ stage: 'test', account: TEST_ACCOUNT, region: TEST_REGION, ...input });
  const stacks = composeApp(app, config);
  const cache = new Map<string, Template>();
  const template = (key: keyof PumpwatchStacks): Template => {
    let t = cache.get(key);
    if (!t) {
      t = Template.fromStack(stacks[key] as Stack);
      cache.set(key, t);
    }
    return t;
  };
  return {
    app,
    config,
    stacks,
    template,
    allTemplates: () =>
      Object.fromEntries((Object.keys(stacks) as (keyof PumpwatchStacks)[]).map((k) => [k, template(k).toJSON()])) as Record<
        keyof PumpwatchStacks,
        Record<string, any>
      >,
  };
}

/** A container image asset of a stack, as written to its assets manifest. */
export interface DockerImageAssetEntry {
  readonly dockerFile: string;
  /** Absolute path of the staged build context. */
  readonly stagedDirectory: string;
  readonly platform?: string;
}

/** The container image assets of a stack (synthesizes the app if needed). */
export function dockerImageAssets(stage: SynthesizedStage, key: keyof PumpwatchStacks): DockerImageAssetEntry[] {
  const assembly = stage.app.synth();
  const stack = stage.stacks[key] as Stack;
  const manifest = JSON.parse(fs.readFileSync(path.join(assembly.directory, `${stack.artifactId}.assets.json`), 'utf8')) as {
    dockerImages?: Record<string, { source: { directory: string; dockerFile?: string; platform?: string } }>;
  };
  return Object.values(manifest.dockerImages ?? {}).map((d) => ({
    dockerFile: d.source.dockerFile ?? 'Dockerfile',
    stagedDirectory: path.join(assembly.directory, d.source.directory),
    platform: d.source.platform,
  }));
}

/** Resources of one type in a template, by logical id. */
export function resourcesOfType(template: Template, type: string): Record<string, { Properties: Record<string, any>; [k: string]: any }> {
  return template.findResources(type) as Record<string, { Properties: Record<string, any> }>;
}

/** The single resource of a type whose properties satisfy `pick`. */
export function findOne(template: Template, type: string, pick: (props: Record<string, any>) => boolean): Record<string, any> {
  const found = Object.values(resourcesOfType(template, type)).filter((r) => pick(r.Properties ?? {}));
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0]!;
}

/** A policy statement as written in a template. */
export interface Statement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | string[];
  readonly NotAction?: string | string[];
  readonly Resource?: unknown;
  readonly Principal?: unknown;
  readonly Condition?: unknown;
  readonly Sid?: string;
}

/** A policy document found in a template, with where it was found. */
export interface FoundPolicy {
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
  /** `identity` for IAM policies attached to principals, `resource` for key/bucket/queue/... policies, `trust` for role trust. */
  readonly kind: 'identity' | 'resource' | 'trust';
  readonly statements: readonly Statement[];
}

const IDENTITY_TYPES = new Set(['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy', 'AWS::IAM::Role', 'AWS::IAM::User', 'AWS::IAM::Group']);

/** Turns a template value that may be JSON text (plain or Fn::Join with tokens) into a document. */
function parseJsonDocument(value: unknown): unknown {
  if (typeof value === 'string') {
    try {
      return JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (value && typeof value === 'object' && 'Fn::Join' in value) {
    const [sep, parts] = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
    const text = parts.map((p) => (typeof p === 'string' ? p : 'TOKEN')).join(sep);
    try {
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function asStatements(doc: unknown): Statement[] | undefined {
  if (!doc || typeof doc !== 'object') return undefined;
  const st = (doc as { Statement?: unknown }).Statement;
  if (st === undefined) return undefined;
  return (Array.isArray(st) ? st : [st]) as Statement[];
}

/**
 * Every policy document in the templates: IAM policies, role inline and trust policies, and any
 * resource policy anywhere in resource properties (keys, buckets, queues, topics, log resource
 * policies — including JSON-string documents).
 */
export function allPolicies(templates: Record<string, Record<string, any>>): FoundPolicy[] {
  const out: FoundPolicy[] = [];
  for (const [stack, template] of Object.entries(templates)) {
    for (const [logicalId, resource] of Object.entries<Record<string, any>>(template.Resources ?? {})) {
      const type: string = resource.Type;
      const visit = (value: unknown, key: string | undefined): void => {
        if (value === null || value === undefined) return;
        const parsed = typeof value === 'string' || (typeof value === 'object' && 'Fn::Join' in (value as object)) ? parseJsonDocument(value) : undefined;
        const candidate = parsed ?? value;
        const statements = asStatements(candidate);
        if (statements) {
          const kind = key === 'AssumeRolePolicyDocument' ? 'trust' : IDENTITY_TYPES.has(type) ? 'identity' : 'resource';
          out.push({ stack, logicalId, type, kind, statements });
          return;
        }
        if (Array.isArray(value)) value.forEach((v) => visit(v, key));
        else if (typeof value === 'object' && !('Fn::Join' in (value as object))) {
          for (const [k, v] of Object.entries(value as Record<string, unknown>)) visit(v, k);
        }
      };
      visit(resource.Properties, undefined);
    }
  }
  return out;
}

export const toArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Actions that have no resource-level permissions in IAM, so `Resource: "*"` is their only form. */
export const ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS = new Set(['ecr:GetAuthorizationToken']);

/**
 * Violations of the wildcard policy: any Allow with `NotAction`, any Allow action containing `*`
 * (`*`, `service:*`, `service:Get*`), and, in identity policies, `Resource: "*"` on an action that has
 * resource-level permissions.
 */
export function wildcardViolations(policies: readonly FoundPolicy[]): string[] {
  const problems: string[] = [];
  for (const p of policies) {
    for (const s of p.statements) {
      if (s.Effect !== 'Allow') continue;
      const where = `${p.stack}/${p.logicalId} (${p.type})${s.Sid ? ` ${s.Sid}` : ''}`;
      if (s.NotAction !== undefined) problems.push(`${where}: Allow with NotAction`);
      const actions = toArray(s.Action);
      for (const a of actions) if (typeof a !== 'string' || a.includes('*')) problems.push(`${where}: wildcard action ${JSON.stringify(a)}`);
      if (p.kind === 'identity' && toArray(s.Resource).includes('*')) {
        for (const a of actions) {
          if (!ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS.has(a)) problems.push(`${where}: ${a} on Resource "*"`);
        }
      }
    }
  }
  return problems;
}

/** Identity statements granted to a role (inline and attached policies). */
export function roleStatements(template: Template, roleLogicalId: string): Statement[] {
  const out: Statement[] = [];
  for (const r of Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))) {
    const roles = toArray(r.Properties.Roles).map((x: any) => x?.Ref);
    if (roles.includes(roleLogicalId)) out.push(...(asStatements(r.Properties.PolicyDocument) ?? []));
  }
  const role = template.toJSON().Resources?.[roleLogicalId];
  for (const p of toArray(role?.Properties?.Policies)) out.push(...(asStatements((p as any).PolicyDocument) ?? []));
  return out;
}

/** Logical id of the single resource of `type` whose properties satisfy `pick`. */
export function logicalIdOf(template: Template, type: string, pick: (props: Record<string, any>) => boolean): string {
  const ids = Object.entries(resourcesOfType(template, type))
    .filter(([, r]) => pick(r.Properties ?? {}))
    .map(([id]) => id);
  if (ids.length !== 1) throw new Error(`expected one ${type}, found ${ids.length}`);
  return ids[0]!;
}

/** Logical id of a construct's CloudFormation resource. */
export function logicalId(construct: { node: { defaultChild?: unknown } } | unknown): string {
  const c = construct as any;
  const cfn = c.node?.defaultChild ?? c;
  return Stack.of(cfn).getLogicalId(cfn);
}
