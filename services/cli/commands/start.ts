import type { Command } from 'commander';
import { resolve } from 'node:path';
import { ENV } from '../../../shared/env';
import { configureLogging } from '../../../shared/logging';
import type { PumpStateItem } from '../../../shared/stores/state-store';
import { DynamoDbStateStore } from '../../../shared/stores/state-store';
import { createArchiver } from '../../archiver/archiver';
import { createWorker } from '../../consumer/worker';
import { KinesisProducer } from '../../ingest/producer';
import { FleetSimulator, parseFault } from '../../ingest/simulator';
import { prepareFleet } from '../../local/fleet';
import { startLocalStack } from '../../local/stack';
import { readAlertsConfig, subscriptionsOf } from '../../alerts/config';
import { listenToSubscriptions } from '../../local/subscriptions';
import { iso, num, paint, stateColor, table } from '../output';
import { deliveredLine } from './local';
import { runSimulation } from './simulate';
import { untilSignal } from './worker';

/** Faults the demo develops: a bearing, cavitation, and a pressure drop, within the first minute. */
export const DEMO_FAULTS = ['P-0003:bearing@15+15', 'P-0008:cavitation@20+15', 'P-0011:pressure-drop@25+15'];

/** Window settings of the demo: short windows so a minute shows something. */
export const DEMO_WINDOW_ENV = {
  [ENV.windowSizeMs]: '5000',
  [ENV.outOfOrdernessMs]: '1000',
  [ENV.allowedLatenessMs]: '1000',
  [ENV.idleTimeoutMs]: '10000',
  [ENV.idleTimeBetweenReadsMs]: '250',
  [ENV.checkpointIntervalMs]: '2000',
  [ENV.failoverTimeMs]: '6000',
  [ENV.takerIntervalMs]: '1000',
};

function renderView(states: readonly PumpStateItem[], alerts: readonly string[], elapsedS: number, info: string): string {
  const rows = states.map((s) => [
    s.pumpId,
    paint(stateColor(s.memory.state), s.memory.state),
    num(s.lastScore),
    num(s.lastThreshold),
    s.topChannels.slice(0, 2).join(',') || '-',
    iso(s.memory.lastWindowEnd).slice(11),
  ]);
  const counts = new Map<string, number>();
  for (const s of states) counts.set(s.memory.state, (counts.get(s.memory.state) ?? 0) + 1);
  const summary = [...counts].map(([k, v]) => `${paint(stateColor(k), k)} ${v}`).join('  ');
  return [
    `${paint('bold', 'pumpwatch')} local demo — ${elapsedS}s — ${info}`,
    summary,
    '',
    table(['PUMP', 'STATE', 'SCORE', 'THRESHOLD', 'TOP CHANNELS', 'LAST WINDOW END'], rows),
    '',
    paint('bold', 'alerts delivered to subscribers (newest last):'),
    ...(alerts.length ? alerts.slice(-10) : ['  (none yet)']),
    '',
    'Ctrl-C to stop.',
  ].join('\n');
}

/** `pumpwatch start`: the local stack, a demo fleet with faults, the pipeline and a live view. */
export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run everything locally: emulators, a demo fleet with faults, a consumer worker, alert subscribers and a live view')
    .option('--pumps <n>', 'pumps in the demo fleet', '12')
    .option('--fault <spec>', 'faults to develop (repeatable; default: three demo faults)', (v: string, p: string[]) => [...p, v], [] as string[])
    .option('--duration <s>', 'stop after this many seconds (0 = until Ctrl-C)', '0')
    .option('--data <dir>', 'persist emulator data here (default: in memory)')
    .option('--no-view', 'print alerts and a status line instead of the live table')
    .action(async (opts: { pumps: string; fault: string[]; duration: string; data?: string; view: boolean }) => {
      configureLogging({ level: process.env[ENV.logLevel] ?? 'error', destination: process.stderr });
      const live = opts.view && !!process.stdout.isTTY;
      const say = (line: string): void => {
        if (!live) process.stdout.write(`${line}\n`);
      };
      say('starting the local stack...');
      const stack = await startLocalStack({ dataDir: opts.data ? resolve(opts.data) : undefined, env: DEMO_WINDOW_ENV });
      const alerts: string[] = [];
      const alertsConfig = readAlertsConfig({ env: process.env });
      listenToSubscriptions(stack.eventBridge, subscriptionsOf(alertsConfig), (rule, e) => {
        // The alarm topic and the condition log both see condition changes into ALARM; show each once.
        if (rule === 'pump-condition-log' && e['detail-type'] === 'Pump Condition Changed' && (e.detail as { state?: string }).state === 'ALARM') return;
        const line = deliveredLine(rule, e);
        if (!line) return;
        alerts.push(line);
        say(line);
      });
      const faults = (opts.fault.length ? opts.fault : DEMO_FAULTS).map((f) => parseFault(f));
      const sim = new FleetSimulator({ pumps: Number(opts.pumps), types: ['centrifugal', 'booster'], faults }, Date.now());
      say(`registering ${sim.pumps.length} pumps and fitting the pump-type default models...`);
      await prepareFleet(stack.config, stack.clients, sim.pumps, { dir: resolve(opts.data ?? '.pumpwatch/demo', 'subscriptions') }, Date.now(), { alerts: alertsConfig });
      const worker = createWorker(stack.config, stack.clients);
      worker.start();
      // The raw archive, so `replay --source archive` works on a demo run kept with --data.
      const archiver = createArchiver(stack.config, stack.clients);
      archiver.start();
      const producer = new KinesisProducer(stack.clients.kinesis, { streamName: stack.config.names.streamName });
      const abort = new AbortController();
      const states = new DynamoDbStateStore(stack.clients.doc, stack.config.names.tables.state);
      const started = Date.now();
      say(`streaming ${sim.pumps.length} pumps at 1 Hz; faults: ${faults.map((f) => `${f.pumpId} ${f.kind} from ${f.startS}s`).join(', ')}`);
      const info = `${sim.pumps.length} pumps, faults: ${faults.map((f) => `${f.pumpId} ${f.kind}@${f.startS}s`).join(', ')}`;
      const view = setInterval(() => {
        void states.list().then((list) => {
          const elapsed = Math.round((Date.now() - started) / 1000);
          if (live) process.stdout.write(`\u001b[H\u001b[2J${renderView(list, alerts, elapsed, info)}\n`);
          else if (elapsed % 10 === 0) {
            const counts = new Map<string, number>();
            for (const s of list) counts.set(s.memory.state, (counts.get(s.memory.state) ?? 0) + 1);
            say(`[${elapsed}s] ${[...counts].map(([k, v]) => `${k}=${v}`).join(' ')}`);
          }
        }, () => undefined);
      }, 1_000);
      const simulation = runSimulation(producer, sim, { durationS: Number(opts.duration), batchS: 1 }, abort.signal);
      const shutdown = async (): Promise<void> => {
        abort.abort();
        clearInterval(view);
        await simulation.catch(() => undefined);
        say('stopping: draining the worker, then the local stack...');
        await worker.stop();
        await archiver.stop();
        await stack.eventBridge.drain(5_000).catch(() => undefined);
        const final = await states.list();
        await stack.stop();
        const counts = new Map<string, number>();
        for (const s of final) counts.set(s.memory.state, (counts.get(s.memory.state) ?? 0) + 1);
        process.stdout.write(`stopped. final states: ${[...counts].map(([k, v]) => `${k}=${v}`).join(' ')}; alerts delivered: ${alerts.length}\n`);
      };
      if (Number(opts.duration) > 0) {
        await simulation;
        await shutdown();
      } else {
        await untilSignal(shutdown);
      }
    });
}
