import { CfnResource, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, type IApplyRule, NagRuleCompliance } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { synthStage } from './helpers';

/** AwsSolutions, recording every finding (acknowledged or not) so stale acknowledgements show up. */
class RecordingAwsSolutionsChecks extends AwsSolutionsChecks {
  readonly findings: { readonly id: string; readonly path: string }[] = [];
  readonly visited = new Set<string>();

  protected override applyRule(params: IApplyRule): void {
    this.visited.add(params.node.node.path);
    const base = `AwsSolutions-${params.ruleSuffixOverride ?? params.rule.name}`;
    try {
      const result = params.rule(params.node);
      if (result === NagRuleCompliance.NON_COMPLIANT) this.findings.push({ id: base, path: params.node.node.path });
      else if (Array.isArray(result)) for (const f of result) this.findings.push({ id: `${base}[${f}]`, path: params.node.node.path });
    } catch {
      this.findings.push({ id: base, path: params.node.node.path });
    }
    super.applyRule(params);
  }
}

interface Acknowledgement {
  readonly id: string;
  readonly reason: string;
  readonly path: string;
  readonly construct: IConstruct;
}

function acknowledgements(root: IConstruct): Acknowledgement[] {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY && m.data)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({
          id: id.replace(/^annotation::/i, ''),
          reason,
          path: c.node.path,
          construct: c,
        })),
      )
      // CDK's own constructs acknowledge some of its CloudFormation-Validate rules; ours are AwsSolutions.
      .filter((a) => a.id.startsWith('AwsSolutions-')),
  );
}

// Two stage shapes: the default (on-demand stream) and a production-like one (provisioned, more alerting).
const stages = [synthStage(), synthStage({ stage: 'prod', stream: { mode: 'provisioned', shardCount: 4 }, consumer: { minCount: 2, maxCount: 4 } })];

describe.each(stages.map((s) => [s.config.stage, s] as const))('cdk-nag AwsSolutions (stage %s)', (_name, stage) => {
  // As in `cdk synth`: the checks run on the prepared app (cross-stack references resolved).
  stage.app.synth();
  const pack = new RecordingAwsSolutionsChecks();
  const report = pack.validateScope(stage.app);
  const acks = acknowledgements(stage.app);

  test('zero unacknowledged errors or warnings', () => {
    const unacknowledged = report.violations.map((v) => ({
      rule: v.ruleName,
      severity: v.severity,
      resources: v.violatingResources.map((r) => r.constructPath),
    }));
    expect(unacknowledged).toEqual([]);
    expect(report.success).toBe(true);
  });

  test('the checks ran over every resource of every stack', () => {
    const stacks = new Set([...pack.visited].map((p) => p.split('/')[0]));
    expect(stacks).toEqual(new Set(Object.values(stage.stacks).map((s) => s.node.id)));
    const cfnResources = stage.app.node.findAll().filter((c) => CfnResource.isCfnResource(c));
    for (const r of cfnResources) expect(pack.visited).toContain(r.node.path);
  });

  test('each acknowledgement names one finding on one resource, with a real reason', () => {
    expect(acks.length).toBeGreaterThan(0);
    for (const a of acks) {
      expect(a.id).toMatch(/^AwsSolutions-[A-Z]+[0-9]+(\[[^\]]+\])?$/);
      // IAM5 is per finding: the bare rule id would not name one finding.
      if (a.id.startsWith('AwsSolutions-IAM5')) expect(a.id).toMatch(/\[(Resource|Action)::.+\]$/);
      expect(a.reason.length).toBeGreaterThanOrEqual(60);
      // Never on a stack or the app (a blanket suppression).
      expect(a.path.split('/').length).toBeGreaterThan(1);
    }
  });

  test('every acknowledgement matches a finding under the acknowledged construct (none stale)', () => {
    const stale = acks.filter((a) => !pack.findings.some((f) => f.id === a.id && (f.path === a.path || f.path.startsWith(`${a.path}/`))));
    expect(stale.map((a) => `${a.path}: ${a.id}`)).toEqual([]);
  });

  test('each acknowledgement covers findings of one resource only', () => {
    for (const a of acks) {
      const resources = new Set(
        pack.findings.filter((f) => f.id === a.id && (f.path === a.path || f.path.startsWith(`${a.path}/`))).map((f) => f.path),
      );
      expect({ ack: `${a.path}: ${a.id}`, resources: resources.size }).toEqual({ ack: `${a.path}: ${a.id}`, resources: 1 });
    }
  });
});
