import { createAwsClients } from '../shared/aws/clients';
import { loadConfig } from '../shared/config';
import { configureLogging } from '../shared/logging';
import { runReplayJob } from '../services/replay/replay-job';

/**
 * `node bin/run-ts.js bench/replay-child.ts JOB FROM_MS TO_MS`: one archive replay job in its own
 * process (as `pumpwatch replay start` runs it), so the emulators of the benchmark process do not
 * share its CPU. Prints the outcome as JSON.
 */
async function main(): Promise<void> {
  const [jobId, from, to] = process.argv.slice(2);
  const config = loadConfig(process.env);
  configureLogging({ level: 'error', destination: process.stderr });
  const clients = createAwsClients(config);
  try {
    const started = process.hrtime.bigint();
    const outcome = await runReplayJob(config, clients, { jobId: jobId!, fromMs: Number(from), toMs: Number(to), source: 'archive' });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    process.stdout.write(`${JSON.stringify({ seconds, job: outcome.job, run: outcome.run })}\n`);
  } finally {
    clients.destroy();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
