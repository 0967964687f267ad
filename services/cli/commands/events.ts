import type { Command } from 'commander';
import { sleep } from '../../../shared/clock';
import type { OutboxItem } from '../../../shared/stores/outbox-store';
import type { CliContext } from '../context';
import { iso, paint, printJson, stateColor, table } from '../output';

function eventRow(e: OutboxItem): string[] {
  return [
    iso(e.time),
    e.detailType,
    e.pumpId,
    paint(stateColor(e.detail.state), e.detail.state),
    e.publishedAt ? 'published' : e.lastError ? `pending (${e.lastError.slice(0, 40)})` : 'pending',
    e.detail.reason.slice(0, 80),
    e.eventId,
  ];
}

/** One event as a line: for `tail`, `local up` and the live view. */
export function formatEventLine(e: { time: number; detailType: string; pumpId: string; detail: { state: string; reason: string } }): string {
  return `${iso(e.time)}  ${paint(stateColor(e.detail.state), e.detail.state.padEnd(8))} ${e.pumpId}  ${e.detailType}: ${e.detail.reason}`;
}

/** `pumpwatch events list|tail`: the events pumpwatch published (from the outbox). */
export function registerEvents(program: Command, ctx: () => CliContext): void {
  const events = program.command('events').description('condition and anomaly events (the outbox)');
  events
    .command('list')
    .description('recent events, newest first')
    .option('--pump <id>', 'only this pump')
    .option('--limit <n>', 'at most this many', '50')
    .option('--pending', 'only events not yet published')
    .option('--json', 'machine-readable output')
    .action(async (opts: { pump?: string; limit: string; pending?: boolean; json?: boolean }) => {
      let items = await ctx().stores.outbox.list({ pumpId: opts.pump, limit: Number(opts.limit) });
      if (opts.pending) items = items.filter((e) => e.publishedAt === undefined);
      if (opts.json) return printJson(items);
      if (items.length === 0) {
        process.stdout.write('no events\n');
        return;
      }
      process.stdout.write(`${table(['TIME', 'TYPE', 'PUMP', 'STATE', 'PUBLISHED', 'REASON', 'EVENT ID'], items.map(eventRow))}\n`);
    });
  events
    .command('tail')
    .description('follow new events as they are written (Ctrl-C to stop)')
    .option('--pump <id>', 'only this pump')
    .option('--interval <ms>', 'poll interval', '1000')
    .option('--json', 'one JSON object per line')
    .action(async (opts: { pump?: string; interval: string; json?: boolean }) => {
      const { outbox } = ctx().stores;
      const seen = new Set<string>();
      const since = Date.now();
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      while (!stop.signal.aborted) {
        const items = (await outbox.list({ pumpId: opts.pump, limit: 200, since })).reverse();
        for (const e of items) {
          if (seen.has(e.eventId)) continue;
          seen.add(e.eventId);
          process.stdout.write(opts.json ? `${JSON.stringify(e)}\n` : `${formatEventLine(e)}\n`);
        }
        await sleep(Number(opts.interval), stop.signal).catch(() => undefined);
      }
    });
}
