import type { Command } from 'commander';
import { NotFoundError, ValidationError } from '../../../shared/errors';
import { REJECT_REASONS, type QuarantineItem, type QuarantineStore } from '../../../shared/stores/quarantine-store';
import { KinesisProducer } from '../../ingest/producer';
import type { CliContext } from '../context';
import { iso, printJson, table } from '../output';

/** Puts quarantined records back on the stream and marks them redriven. */
export async function redrive(
  items: readonly QuarantineItem[],
  deps: { producer: KinesisProducer; quarantine: QuarantineStore; nowMs: () => number },
): Promise<number> {
  const todo = items.filter((i) => i.status === 'quarantined');
  if (todo.length === 0) return 0;
  // Partition by pump so the records land where the pump's other records are; fall back to the id.
  await deps.producer.putAll(todo.map((i) => ({ partitionKey: i.pumpId ?? i.id, data: Buffer.from(i.data, 'base64') })));
  let marked = 0;
  for (const i of todo) if (await deps.quarantine.markRedriven(i.id, deps.nowMs())) marked += 1;
  return marked;
}

/** `pumpwatch quarantine list|show|redrive`. */
export function registerQuarantine(program: Command, ctx: () => CliContext): void {
  const q = program.command('quarantine').description('records the pipeline rejected, with the reason, and re-driving them');
  q.command('list')
    .description('quarantined records, oldest first')
    .option('--reason <reason>', `only this reason (${REJECT_REASONS.join(', ')})`)
    .option('--all', 'include records already re-driven')
    .option('--limit <n>', 'at most this many', '100')
    .option('--json', 'machine-readable output')
    .action(async (opts: { reason?: string; all?: boolean; limit: string; json?: boolean }) => {
      if (opts.reason && !(REJECT_REASONS as readonly string[]).includes(opts.reason)) throw new ValidationError(`--reason must be one of ${REJECT_REASONS.join(', ')}`);
      const items = await ctx().stores.quarantine.list({
        reason: opts.reason as QuarantineItem['reason'] | undefined,
        ...(opts.all ? {} : { status: 'quarantined' as const }),
        limit: Number(opts.limit),
      });
      if (opts.json) return printJson(items.map(({ data: _data, ...rest }) => rest));
      if (items.length === 0) {
        process.stdout.write('quarantine is empty\n');
        return;
      }
      process.stdout.write(
        `${table(
          ['ID', 'RECEIVED', 'REASON', 'PUMP', 'STATUS', 'DETAIL'],
          items.map((i) => [i.id, iso(i.receivedAt), i.reason, i.pumpId ?? '-', i.status, i.detail.slice(0, 90)]),
        )}\n`,
      );
    });
  q.command('show <id>')
    .description('one quarantined record, whole (data decoded when it is text)')
    .option('--json', 'machine-readable output')
    .action(async (id: string, opts: { json?: boolean }) => {
      const item = await ctx().stores.quarantine.get(id);
      if (!item) throw new NotFoundError(`no quarantined record ${id}`);
      const text = Buffer.from(item.data, 'base64').toString('utf8');
      if (opts.json) return printJson({ ...item, dataText: text });
      const { data: _data, ...rest } = item;
      for (const [k, v] of Object.entries(rest)) process.stdout.write(`${k}: ${typeof v === 'number' && k.endsWith('At') ? iso(v) : String(v)}\n`);
      process.stdout.write(`data:\n${text}\n`);
    });
  q.command('redrive [ids...]')
    .description('put quarantined records back through the pipeline (by id, by --reason, or --all)')
    .option('--reason <reason>', 'every quarantined record with this reason')
    .option('--all', 'every quarantined record')
    .option('--dry-run', 'only say what would be re-driven')
    .option('--json', 'machine-readable output')
    .action(async (ids: string[], opts: { reason?: string; all?: boolean; dryRun?: boolean; json?: boolean }) => {
      const c = ctx();
      const { quarantine } = c.stores;
      let items: QuarantineItem[];
      if (ids.length > 0) {
        items = [];
        for (const id of ids) {
          const item = await quarantine.get(id);
          if (!item) throw new NotFoundError(`no quarantined record ${id}`);
          items.push(item);
        }
      } else if (opts.reason || opts.all) {
        // A replay job's rejected records are its findings (the live pipeline quarantined the same
        // records itself): re-driving them too would put each record on the stream twice.
        items = await quarantine.list({ reason: opts.reason as QuarantineItem['reason'] | undefined, status: 'quarantined', liveOnly: true });
      } else {
        throw new ValidationError('name record ids, or use --reason R or --all');
      }
      const todo = items.filter((i) => i.status === 'quarantined');
      if (opts.dryRun) {
        if (opts.json) return printJson({ wouldRedrive: todo.map((i) => i.id) });
        process.stdout.write(`would re-drive ${todo.length} record(s)\n`);
        return;
      }
      const producer = new KinesisProducer(c.clients.kinesis, { streamName: c.config.names.streamName });
      const count = await redrive(todo, { producer, quarantine, nowMs: Date.now });
      if (opts.json) return printJson({ redriven: count, skipped: items.length - todo.length });
      process.stdout.write(`re-drove ${count} record(s) onto ${c.config.names.streamName}${items.length > todo.length ? ` (${items.length - todo.length} already re-driven)` : ''}\n`);
    });
}
