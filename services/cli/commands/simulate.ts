import type { Command } from 'commander';
import { sleep } from '../../../shared/clock';
import { ValidationError } from '../../../shared/errors';
import { encodeJson, KinesisProducer } from '../../ingest/producer';
import { FleetSimulator, type FaultPlan, parseFault, PUMP_TYPES, simulateBatches } from '../../ingest/simulator';
import { DEMO_POLICY } from '../../local/fleet';
import type { CliContext } from '../context';

export interface SimulateOptions {
  readonly pumps: number;
  readonly rateHz: number;
  /** Seconds; 0 = until stopped. */
  readonly durationS: number;
  readonly batchS: number;
  readonly faults: readonly FaultPlan[];
  readonly seed: number;
  readonly types: readonly string[];
}

/**
 * Streams a simulated fleet in real time: every `batchS` seconds each pump sends the samples of
 * the last `batchS` seconds as one batch record (partition key = pump id).
 */
export async function runSimulation(
  producer: KinesisProducer,
  sim: FleetSimulator,
  options: Pick<SimulateOptions, 'durationS' | 'batchS'>,
  signal: AbortSignal,
  onBatch?: (info: { elapsedS: number; records: number; samples: number }) => void,
): Promise<{ records: number; samples: number }> {
  const start = Date.now();
  let elapsedS = 0;
  let records = 0;
  let samples = 0;
  while (!signal.aborted && (options.durationS === 0 || elapsedS < options.durationS)) {
    const due = start + (elapsedS + options.batchS) * 1000;
    await sleep(Math.max(0, due - Date.now()), signal).catch(() => undefined);
    if (signal.aborted) break;
    const batches = simulateBatches(sim, start + elapsedS * 1000, options.batchS, options.batchS, elapsedS);
    await producer.putAll(batches.map((b) => ({ partitionKey: b.pumpId, data: encodeJson(b) })));
    records += batches.length;
    samples += batches.reduce((n, b) => n + b.samples.length, 0);
    elapsedS += options.batchS;
    onBatch?.({ elapsedS, records, samples });
  }
  return { records, samples };
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `pumpwatch simulate`: a simulated fleet streaming to the stream in real time. */
export function registerSimulate(program: Command, ctx: () => CliContext): void {
  program
    .command('simulate')
    .description('stream a simulated pump fleet in real time (registers the pumps first)')
    .requiredOption('--pumps <n>', 'number of pumps')
    .option('--rate <hz>', 'samples per second per pump', '1')
    .option('--duration <s>', 'seconds to run (0 = until Ctrl-C)', '0')
    .option('--batch <s>', 'seconds of samples per record (devices send in batches)', '2')
    .option('--fault <pump:kind[@start[+ramp]]>', 'develop a fault, e.g. P-0003:bearing@30+20 (repeatable)', collect, [])
    .option('--types <list>', `pump types to cycle through (${Object.keys(PUMP_TYPES).join(', ')})`, 'centrifugal')
    .option('--seed <n>', 'random seed (same seed, same data)', '42')
    .option('--no-register', 'do not register the pumps (they enrol themselves as unassigned)')
    .action(async (opts: { pumps: string; rate: string; duration: string; batch: string; fault: string[]; types: string; seed: string; register: boolean }) => {
      const c = ctx();
      const pumps = Number(opts.pumps);
      const rateHz = Number(opts.rate);
      if (!Number.isInteger(pumps) || pumps < 1 || pumps > 100_000) throw new ValidationError('--pumps must be 1..100000');
      if (!(rateHz > 0 && rateHz <= 100)) throw new ValidationError('--rate must be in (0, 100]');
      const types = opts.types.split(',').map((t) => t.trim());
      for (const t of types) if (!PUMP_TYPES[t]) throw new ValidationError(`unknown pump type ${t}; one of ${Object.keys(PUMP_TYPES).join(', ')}`);
      const sim = new FleetSimulator({ pumps, sampleRateHz: rateHz, seed: Number(opts.seed), types, faults: opts.fault.map((f) => parseFault(f)) }, Date.now());
      if (opts.register) for (const p of sim.pumps) await c.stores.pumps.put({ ...p, policy: DEMO_POLICY });
      const producer = new KinesisProducer(c.clients.kinesis, { streamName: c.config.names.streamName });
      const abort = new AbortController();
      process.once('SIGINT', () => abort.abort());
      process.stderr.write(`simulating ${pumps} pumps at ${rateHz} Hz onto ${c.config.names.streamName}${opts.fault.length ? `, faults: ${opts.fault.join(' ')}` : ''} (Ctrl-C to stop)\n`);
      const total = await runSimulation(producer, sim, { durationS: Number(opts.duration), batchS: Number(opts.batch) }, abort.signal, (i) => {
        if (i.elapsedS % 10 < Number(opts.batch)) process.stderr.write(`  ${i.elapsedS}s: ${i.records} records, ${i.samples} samples sent\n`);
      });
      process.stdout.write(`sent ${total.records} records (${total.samples} samples)\n`);
      c.close();
    });
}
