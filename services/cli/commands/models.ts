import type { Command } from 'commander';
import { NotFoundError, PumpwatchError, ValidationError } from '../../../shared/errors';
import { type ModelVersion, pumpModelGroup, typeModelGroup } from '../../../shared/stores/model-registry';
import { DEFAULT_PRESET, PRESETS } from '../../model-server/training/presets';
import { approveVersion, pumpDrift, rejectVersion, type RejectResult, rollbackGroup, servingVersion } from '../../registry/actions';
import { readModelArtifact } from '../../registry/publish';
import { dynamoDbShadowWriter, ShadowScorer, shadowSummary } from '../../registry/shadow';
import { createInferenceClient } from '../../consumer/pipeline/inference-client';
import { systemClock } from '../../../shared/clock';
import { fitPreset, loadTrainingWindows, publishTrained } from '../../registry/trainer';
import type { CliContext } from '../context';
import { iso, num, paint, printJson, table } from '../output';
import { parseTimeFlag } from './queries';

interface GroupOptions {
  pump?: string;
  type?: string;
  group?: string;
}

/** The model group named by `--pump ID`, `--type TYPE` or `--group NAME` (exactly one). */
export function groupFromOptions(opts: GroupOptions): string {
  const given = [opts.pump, opts.type, opts.group].filter((v) => v !== undefined);
  if (given.length !== 1) throw new ValidationError('name exactly one of --pump ID, --type TYPE or --group NAME');
  if (opts.pump) return pumpModelGroup(opts.pump);
  if (opts.type) return typeModelGroup(opts.type);
  return opts.group!;
}

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!(Number.isInteger(n) && n > 0)) throw new ValidationError(`${flag} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

function statusColor(status: ModelVersion['status']): string {
  return status === 'Approved' ? 'green' : status === 'Rejected' ? 'grey' : status === 'PendingManualApproval' ? 'yellow' : 'cyan';
}

function versionRows(versions: readonly ModelVersion[], serving: ReadonlySet<string>): string[][] {
  return versions.map((v) => [
    v.modelGroup,
    `v${v.version}${serving.has(`${v.modelGroup}#${v.version}`) ? '*' : ''}`,
    paint(statusColor(v.status), v.status),
    v.family,
    v.target,
    iso(v.createdAt),
    (v.description ?? '').slice(0, 60),
  ]);
}

function printReject(r: RejectResult, json: boolean | undefined): void {
  if (json) return printJson(r);
  process.stdout.write(`rejected ${r.rejected.modelGroup} v${r.rejected.version}\n`);
  if (r.wasServing) {
    process.stdout.write(
      r.serving
        ? `rolled back: ${r.serving.modelGroup} v${r.serving.version} (${r.serving.target}) serves again from the workers' next route refresh\n`
        : `no approved version left in ${r.rejected.modelGroup}: its pumps fall back to their type's default model, or to LEARNING\n`,
    );
  }
}

/**
 * `pumpwatch models list|show|train|approve|reject|rollback|drift`: the model registry for data
 * scientists. Approving or rejecting changes what serves a pump within the workers' route
 * refresh (`PUMPWATCH_ROUTE_REFRESH_MS`), with no restart.
 */
export function registerModels(program: Command, ctx: () => CliContext): void {
  const models = program
    .command('models')
    .description('model versions per pump and pump type: list, inspect, train, approve, reject, roll back, shadow-score, drift');
  const groupFlags = (cmd: Command): Command =>
    cmd.option('--pump <id>', "the pump's own models (group pump-<id>)").option('--type <type>', "the pump type's default models (group type-<type>)").option('--group <name>', 'a model group by name');

  groupFlags(models.command('list').description('model versions, newest first per group (* = serving)'))
    .option('--json', 'machine-readable output')
    .action(async (opts: GroupOptions & { json?: boolean }) => {
      const { models: registry } = ctx().stores;
      const any = opts.pump ?? opts.type ?? opts.group;
      const versions = await registry.list(any === undefined ? undefined : groupFromOptions(opts));
      const serving = new Set<string>();
      for (const g of new Set(versions.map((v) => v.modelGroup))) {
        const a = versions.find((v) => v.modelGroup === g && v.status === 'Approved');
        if (a) serving.add(`${g}#${a.version}`);
      }
      if (opts.json) return printJson(versions.map((v) => ({ ...v, serving: serving.has(`${v.modelGroup}#${v.version}`) })));
      if (versions.length === 0) {
        process.stdout.write('no model versions\n');
        return;
      }
      process.stdout.write(`${table(['GROUP', 'VERSION', 'STATUS', 'FAMILY', 'TARGET', 'CREATED', 'DESCRIPTION'], versionRows(versions, serving))}\n`);
    });

  groupFlags(models.command('show').description('one model version: registry entry and the feature spec from its artifact (default: the serving version)'))
    .option('--version <n>', 'version number')
    .option('--json', 'machine-readable output')
    .action(async (opts: GroupOptions & { version?: string; json?: boolean }) => {
      const c = ctx();
      const group = groupFromOptions(opts);
      const registry = c.stores.models;
      const v = opts.version ? await registry.get(group, positiveInt(opts.version, '--version')) : ((await registry.approved(group)) ?? (await registry.list(group))[0]);
      if (!v) throw new NotFoundError(opts.version ? `model ${group} v${opts.version} does not exist` : `model group ${group} has no versions`);
      const serving = (await registry.approved(group))?.version === v.version;
      const artifact = v.status === 'Registering' ? undefined : await readModelArtifact({ s3: c.clients.s3, bucket: c.config.names.bucketName }, v.target).catch(() => undefined);
      const spec = artifact?.featureSpec;
      if (opts.json) {
        return printJson({
          ...v,
          serving,
          artifact: artifact
            ? { family: artifact.document.family, features: spec!.features, trainingPeriod: spec!.trainingPeriod, trainingWindows: spec!.trainingWindows, trainingMetrics: spec!.trainingMetrics }
            : null,
        });
      }
      const lines = [
        `group:        ${v.modelGroup}`,
        `version:      ${v.version}${serving ? ' (serving)' : ''}`,
        `status:       ${paint(statusColor(v.status), v.status)}`,
        `model:        ${v.modelId} (${v.family})`,
        `target:       ${v.target}`,
        `created:      ${iso(v.createdAt)}   updated: ${iso(v.updatedAt)}`,
        `description:  ${v.description ?? '-'}`,
      ];
      if (v.trainingPeriod) lines.push(`trained on:   ${iso(v.trainingPeriod.from)} – ${iso(v.trainingPeriod.to)}`);
      if (spec) {
        lines.push(`windows:      ${spec.trainingWindows}`, `features:     ${spec.features.length}: ${spec.features.join(', ')}`);
        lines.push(`metrics:      ${Object.entries(spec.trainingMetrics).map(([k, m]) => `${k}=${Number.isInteger(m) ? String(m) : num(m, 3)}`).join(', ') || '-'}`);
      } else if (v.status !== 'Registering') {
        lines.push('artifact:     not readable');
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  models
    .command('train')
    .description("fit a pump's model from its stored window history (healthy windows) and register it as a new version")
    .requiredOption('--pump <id>', 'pump id')
    .option('--preset <name>', `detection preset (${[...PRESETS.keys()].join(', ')})`, DEFAULT_PRESET.name)
    .option('--from <time>', 'windows starting at or after (ISO-8601, epoch ms, or -15m / -2h / -1d)')
    .option('--to <time>', 'windows ending at or before (same forms)')
    .option('--approve', 'approve it at once (default: PendingManualApproval)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { pump: string; preset: string; from?: string; to?: string; approve?: boolean; json?: boolean }) => {
      const c = ctx();
      const preset = PRESETS.get(opts.preset);
      if (!preset) throw new ValidationError(`unknown preset ${JSON.stringify(opts.preset)}; one of ${[...PRESETS.keys()].join(', ')}`);
      const now = Date.now();
      const from = opts.from ? parseTimeFlag(opts.from, now) : undefined;
      const to = opts.to ? parseTimeFlag(opts.to, now) : undefined;
      const { windows, models: registry } = c.stores;
      const vectors = await loadTrainingWindows(windows, opts.pump, {
        ...(from !== undefined ? { from } : {}),
        ...(to !== undefined ? { to } : {}),
        minQualityRatio: preset.training.minQualityRatio,
        maxWindows: 5_000,
      });
      const trained = fitPreset(opts.pump, preset, vectors, now);
      const version = await publishTrained(
        { registry, s3: c.clients.s3, bucket: c.config.names.bucketName },
        opts.pump,
        preset,
        trained,
        opts.approve ? 'Approved' : 'PendingManualApproval',
        now,
        'trained by pumpwatch models train',
      );
      if (opts.json) return printJson({ ...version, windows: trained.windows, skippedWindows: trained.skippedWindows, features: trained.artifact.featureSpec.features });
      process.stdout.write(
        `${version.modelGroup} v${version.version} ${version.status}: ${preset.family} on ${trained.windows} windows (${trained.skippedWindows} left out), ${trained.artifact.featureSpec.features.length} features -> ${version.target}\n`,
      );
      if (!opts.approve) process.stdout.write(`approve it with: pumpwatch models approve --pump ${opts.pump} --version ${version.version}\n`);
    });

  groupFlags(models.command('approve').description('approve a version: the newest Approved version serves the group from the next route refresh'))
    .requiredOption('--version <n>', 'version number')
    .option('--json', 'machine-readable output')
    .action(async (opts: GroupOptions & { version: string; json?: boolean }) => {
      const group = groupFromOptions(opts);
      const registry = ctx().stores.models;
      const v = await approveVersion(registry, group, positiveInt(opts.version, '--version'), Date.now());
      const serving = await registry.approved(group);
      if (opts.json) return printJson({ ...v, serving: serving?.version === v.version });
      process.stdout.write(
        serving?.version === v.version
          ? `approved ${group} v${v.version}: it serves from the workers' next route refresh (${v.target})\n`
          : `approved ${group} v${v.version}; the newer v${serving?.version} still serves (newest Approved wins)\n`,
      );
    });

  groupFlags(models.command('reject').description('reject a version; rejecting the serving version rolls back to the previous approved one'))
    .requiredOption('--version <n>', 'version number')
    .option('--json', 'machine-readable output')
    .action(async (opts: GroupOptions & { version: string; json?: boolean }) => {
      printReject(await rejectVersion(ctx().stores.models, groupFromOptions(opts), positiveInt(opts.version, '--version'), Date.now()), opts.json);
    });

  groupFlags(models.command('rollback').description('reject the serving version so the previous approved one serves'))
    .option('--json', 'machine-readable output')
    .action(async (opts: GroupOptions & { json?: boolean }) => {
      printReject(await rollbackGroup(ctx().stores.models, groupFromOptions(opts), Date.now()), opts.json);
    });

  models
    .command('shadow')
    .description(
      "score a pump's recent live-scored windows with its pending version (newer than the approved one) and store the scores beside the live ones; nothing live changes (no state, no events)",
    )
    .requiredOption('--pump <id>', 'pump id')
    .option('--lookback <ms>', 'also windows from this long before the pending version was registered', '3600000')
    .option('--json', 'machine-readable output')
    .action(async (opts: { pump: string; lookback: string; json?: boolean }) => {
      const c = ctx();
      const { models: registry, windows } = c.stores;
      const scorer = new ShadowScorer(
        {
          registry,
          windows,
          inference: createInferenceClient(c.config, c.clients.sageMakerRuntime, systemClock),
          writeShadow: dynamoDbShadowWriter(c.clients.doc, c.config.names.tables.windows),
        },
        { lookbackMs: positiveInt(opts.lookback, '--lookback') },
      );
      const [pass] = await scorer.runOnce([opts.pump]);
      if (pass!.error) throw new PumpwatchError(`shadow scoring of ${opts.pump} failed: ${pass!.error}`, { code: 'SHADOW_FAILED' });
      if (!pass!.pending) throw new NotFoundError(`pump ${opts.pump} has no pending version newer than its approved one (register one with \`models train --pump ${opts.pump}\`)`);
      const summary = shadowSummary(await windows.query(opts.pump), pass!.pending.target);
      if (opts.json) return printJson({ pumpId: opts.pump, pending: pass!.pending, scoredNow: pass!.scored, ...summary });
      process.stdout.write(
        `${opts.pump}: pending v${pass!.pending.version} (${pass!.pending.target}) scored ${pass!.scored} more window(s)\n` +
          `${summary.windows} window(s) with both scores: flagged live ${summary.liveFlagged}, flagged by the pending version ${summary.shadowFlagged}, agreement ${num(summary.agreement * 100, 1)} %\n`,
      );
    });

  models
    .command('drift')
    .description("PSI per feature of a pump's recent windows against the training distribution of the model serving it")
    .requiredOption('--pump <id>', 'pump id')
    .option('--windows <n>', 'recent windows to compare', '360')
    .option('--version <n>', "a version of the pump's own group instead of the serving model")
    .option('--json', 'machine-readable output')
    .action(async (opts: { pump: string; windows: string; version?: string; json?: boolean }) => {
      const c = ctx();
      const { models: registry, pumps, windows } = c.stores;
      let model: ModelVersion | undefined;
      if (opts.version) {
        model = await registry.get(pumpModelGroup(opts.pump), positiveInt(opts.version, '--version'));
        if (!model) throw new NotFoundError(`model ${pumpModelGroup(opts.pump)} v${opts.version} does not exist`);
      } else {
        const pump = await pumps.get(opts.pump);
        model = pump ? await servingVersion(registry, pump) : await registry.approved(pumpModelGroup(opts.pump));
        if (!model) throw new NotFoundError(`no model serves pump ${opts.pump} (it is LEARNING); name one with --version`);
      }
      const result = await pumpDrift(
        { windows, readArtifact: (target) => readModelArtifact({ s3: c.clients.s3, bucket: c.config.names.bucketName }, target) },
        opts.pump,
        model,
        positiveInt(opts.windows, '--windows'),
      );
      if (opts.json) return printJson({ pumpId: opts.pump, model: { modelGroup: model.modelGroup, version: model.version, target: model.target }, period: result.period, ...result.report });
      const levelColor = (l: string): string => (l === 'significant' ? 'red' : l === 'moderate' ? 'yellow' : 'green');
      process.stdout.write(
        `${table(
          ['FEATURE', 'PSI', 'LEVEL', 'WINDOWS'],
          result.report.features.map((f) => [f.feature, num(f.psi, 3), paint(levelColor(f.level), f.level), String(f.windows)]),
        )}\n\n${opts.pump} vs ${model.modelGroup} v${model.version}: ${result.report.windows} recent windows${result.period ? ` (${iso(result.period.from)} – ${iso(result.period.to)})` : ''}; max PSI ${num(result.report.maxPsi, 3)} → ${paint(levelColor(result.report.level), result.report.level)}\n`,
      );
    });
}
