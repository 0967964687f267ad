import type { Command } from 'commander';
import { NotFoundError, ValidationError } from '../../../shared/errors';
import { ConditionPolicySchema } from '../../../shared/schemas/condition';
import { describeIssues } from '../../../shared/schemas/issues';
import { type PumpRecord, PumpRecordSchema } from '../../../shared/schemas/pump';
import { pumpModelGroup } from '../../../shared/stores/model-registry';
import { servingVersion } from '../../registry/actions';
import type { CliContext } from '../context';
import { iso, paint, printJson, stateColor, table } from '../output';

/** A pump record from `pumps register` flags; the error names the bad flag. */
export function pumpFromFlags(
  opts: { pump: string; tenant: string; site: string; type: string; rate?: string; policy?: string },
  nowMs: number,
): PumpRecord {
  let policy: unknown;
  if (opts.policy !== undefined) {
    let raw: unknown;
    try {
      raw = JSON.parse(opts.policy);
    } catch (err) {
      throw new ValidationError(`--policy is not JSON: ${(err as Error).message}`, err);
    }
    const parsed = ConditionPolicySchema.safeParse(raw);
    if (!parsed.success) throw new ValidationError(`--policy: ${describeIssues(parsed.error)}`, parsed.error);
    policy = parsed.data;
  }
  const rate = opts.rate === undefined ? undefined : Number(opts.rate);
  const parsed = PumpRecordSchema.safeParse({
    pumpId: opts.pump,
    tenantId: opts.tenant,
    siteId: opts.site,
    pumpType: opts.type,
    ...(rate !== undefined ? { sampleRateHz: rate } : {}),
    ...(policy !== undefined ? { policy } : {}),
    enrolledAt: nowMs,
  });
  if (!parsed.success) {
    const flags: Record<string, string> = { pumpId: '--pump', tenantId: '--tenant', siteId: '--site', pumpType: '--type', sampleRateHz: '--rate' };
    const issue = parsed.error.issues[0]!;
    const field = String(issue.path[0] ?? '');
    throw new ValidationError(`${flags[field] ?? field}: ${issue.message}`, parsed.error);
  }
  return parsed.data;
}

/** `pumpwatch pumps list|show|register`: the pump registry. */
export function registerPumps(program: Command, ctx: () => CliContext): void {
  const pumps = program.command('pumps').description('the pump registry: tenant, site, type, sample rate, condition policy, serving model');

  pumps
    .command('list')
    .description('registered pumps with their condition and the model serving them')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const { pumps: registry, state, models } = ctx().stores;
      const [all, states] = await Promise.all([registry.list(), state.list()]);
      const byPump = new Map(states.map((s) => [s.pumpId, s]));
      const rows = [];
      for (const p of all) {
        const model = await servingVersion(models, p);
        rows.push({ ...p, state: byPump.get(p.pumpId)?.memory.state ?? null, model: model ? { modelGroup: model.modelGroup, version: model.version, target: model.target } : null });
      }
      if (opts.json) return printJson(rows);
      if (rows.length === 0) {
        process.stdout.write('no pumps registered\n');
        return;
      }
      process.stdout.write(
        `${table(
          ['PUMP', 'TENANT', 'SITE', 'TYPE', 'RATE', 'STATE', 'MODEL', 'ENROLLED'],
          rows.map((r) => [
            r.pumpId,
            r.tenantId,
            r.siteId,
            r.pumpType,
            `${r.sampleRateHz} Hz`,
            r.state ? paint(stateColor(r.state), r.state) : '-',
            r.model ? `${r.model.modelGroup} v${r.model.version}` : 'none (LEARNING)',
            iso(r.enrolledAt),
          ]),
        )}\n`,
      );
    });

  pumps
    .command('show [id]')
    .description('one pump: registry record, condition, serving model and its own model versions')
    .option('--pump <id>', 'pump id (instead of the argument)')
    .option('--json', 'machine-readable output')
    .action(async (id: string | undefined, opts: { pump?: string; json?: boolean }) => {
      const pumpId = id ?? opts.pump;
      if (!pumpId) throw new ValidationError('name a pump: pumpwatch pumps show ID');
      const { pumps: registry, state, models } = ctx().stores;
      const pump = await registry.get(pumpId);
      if (!pump) throw new NotFoundError(`pump ${pumpId} is not registered`);
      const [current, serving, versions] = await Promise.all([state.get(pumpId), servingVersion(models, pump), models.list(pumpModelGroup(pumpId))]);
      if (opts.json) {
        return printJson({
          ...pump,
          state: current ? { state: current.memory.state, lastScore: current.lastScore, lastThreshold: current.lastThreshold, lastWindowEnd: current.memory.lastWindowEnd, updatedAt: current.updatedAt } : null,
          serving: serving ?? null,
          versions,
        });
      }
      const lines = [
        `pump:      ${pump.pumpId}`,
        `tenant:    ${pump.tenantId}   site: ${pump.siteId}   type: ${pump.pumpType}   rate: ${pump.sampleRateHz} Hz`,
        `enrolled:  ${iso(pump.enrolledAt)}`,
        `policy:    ${pump.policy ? JSON.stringify(pump.policy) : 'default'}`,
        `state:     ${current ? paint(stateColor(current.memory.state), current.memory.state) : '-'}${current ? ` (last window end ${iso(current.memory.lastWindowEnd)})` : ''}`,
        `serving:   ${serving ? `${serving.modelGroup} v${serving.version} (${serving.target})` : 'no approved model: LEARNING'}`,
        `own model versions: ${versions.length === 0 ? 'none' : versions.map((v) => `v${v.version} ${v.status}`).join(', ')}`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  pumps
    .command('register')
    .description('register a pump or update its record (enrolment time is kept)')
    .requiredOption('--pump <id>', 'pump id ([A-Za-z0-9._:-], up to 128 chars)')
    .requiredOption('--tenant <id>', 'tenant id')
    .requiredOption('--site <id>', 'site id')
    .requiredOption('--type <type>', 'pump type (lower-case, e.g. centrifugal)')
    .option('--rate <hz>', 'nominal samples per second (default 1)')
    .option('--policy <json>', 'condition policy as JSON, e.g. {"k":2,"n":3,"noDataAfterMs":120000}')
    .option('--json', 'machine-readable output')
    .action(async (opts: { pump: string; tenant: string; site: string; type: string; rate?: string; policy?: string; json?: boolean }) => {
      const record = pumpFromFlags(opts, Date.now());
      const registry = ctx().stores.pumps;
      const created = await registry.put(record);
      const stored = (await registry.get(record.pumpId)) ?? record;
      if (opts.json) return printJson({ ...stored, created });
      process.stdout.write(`${created ? 'registered' : 'updated'} ${stored.pumpId} (${stored.tenantId}/${stored.siteId}, ${stored.pumpType}, ${stored.sampleRateHz} Hz)\n`);
    });
}
