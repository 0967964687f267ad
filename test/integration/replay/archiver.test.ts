import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { encodeJson, KinesisProducer } from '../../../services/ingest/producer';
import { FleetSimulator, simulateBatches } from '../../../services/ingest/simulator';
import { type LocalStack, startLocalStack } from '../../../services/local/stack';
import { ENV } from '../../../shared/env';
import { waitFor } from '../../support/waiting';
import { archivedLines, REPLAY_TEST_ENV } from './support';

const ROOT = resolve(__dirname, '../../..');

/**
 * The raw archiver as its own process (`pumpwatch archiver`), SIGKILLed while it writes: the next
 * archiver re-reads from the checkpoint and re-writes the object the crash left uncheckpointed
 * under the same key, so the archive ends with every record exactly once.
 */
describe('the raw archiver survives SIGKILL without losing or duplicating records', () => {
  let stack: LocalStack;
  const children: ChildProcess[] = [];

  const archiver = (id: string): ChildProcess => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/run-ts.js'), 'test/support/replay-cli-main.ts', '--no-env-file', 'archiver', '--worker-id', id], {
      cwd: ROOT,
      // one record per object: many writes, so the kill lands in the middle
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...stack.env, [ENV.archiveBufferBytes]: '1024', [ENV.logLevel]: 'warn' },
      stdio: 'ignore',
    });
    children.push(child);
    return child;
  };

  beforeAll(async () => {
    stack = await startLocalStack({ shardCount: 2, env: REPLAY_TEST_ENV });
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await stack?.stop();
  });

  it('archives every record once across a crash', async () => {
    // prepare: 4 minutes of 6 pumps on the stream
    const sim = new FleetSimulator({ pumps: 6, seed: 71 });
    const batches = simulateBatches(sim, Date.now() - 10 * 60_000, 240, 5);
    const sent = batches.map((b) => new TextDecoder().decode(encodeJson(b)));
    await new KinesisProducer(stack.clients.kinesis, { streamName: stack.config.names.streamName }).putAll(batches.map((b) => ({ partitionKey: b.pumpId, data: encodeJson(b) })));
    // act: kill the first archiver mid-way, then let a second one finish
    const first = archiver('first');
    await waitFor('some objects written', async () => (await archivedLines(stack)).length >= 30, 30_000, 20);
    const exited = new Promise((r) => first.once('exit', r));
    first.kill('SIGKILL');
    await exited;
    const atKill = (await archivedLines(stack)).length;
    expect(atKill).toBeLessThan(sent.length);
    const second = archiver('second');
    await waitFor('every record archived', async () => (await archivedLines(stack)).length >= sent.length, 40_000, 200);
    const done = new Promise((r) => second.once('exit', r));
    second.kill('SIGTERM');
    await done;
    // assess: each record once
    const lines = await archivedLines(stack);
    expect(lines.map((l) => l.line).sort()).toEqual([...sent].sort());
  }, 60_000);
});
