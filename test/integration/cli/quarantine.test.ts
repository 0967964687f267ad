import { createWorker, type Worker } from '../../../services/consumer/worker';
import { encodeJson, KinesisProducer } from '../../../services/ingest/producer';
import { type LocalStack, startLocalStack } from '../../../services/local/stack';
import { DynamoDbQuarantineStore } from '../../../shared/stores/quarantine-store';
import { FAST_ENV } from '../../support/cluster';
import { allWindows } from '../../support/effects';
import { runCli } from '../../support/run-cli';
import { waitFor } from '../../support/waiting';

/**
 * Nothing is lost (DESIGN.md §4.1): records that could not be processed wait in quarantine with
 * their reason, and `pumpwatch quarantine redrive` puts them back through the pipeline.
 */
describe('pumpwatch quarantine', () => {
  let stack: LocalStack;
  let worker: Worker | undefined;

  beforeAll(async () => {
    stack = await startLocalStack({ env: FAST_ENV });
  });

  afterAll(async () => {
    await worker?.stop();
    await stack.stop();
  });

  it('lists and shows quarantined records, then re-drives them once the cause is fixed', async () => {
    // prepare: a worker that cannot process pump Q-1 (injected fault), and data for
    worker = createWorker({ ...stack.config, faults: 'poison@Q-1' }, stack.clients);
    worker.start();
    const t0 = Math.floor((Date.now() - 60_000) / 2_000) * 2_000;
    const records = ['Q-1', 'Q-2'].flatMap((pumpId) =>
      [0, 1, 2].map((b) => ({ pumpId, samples: [0, 1, 2, 3].map((i) => ({ ts: t0 + (b * 4 + i) * 500, metrics: { pressure: 5 + i } })) })),
    );
    await new KinesisProducer(stack.clients.kinesis, { streamName: stack.config.names.streamName }).putAll(records.map((r) => ({ partitionKey: r.pumpId, data: encodeJson(r) })));
    const quarantine = new DynamoDbQuarantineStore(stack.clients.doc, stack.config.names.tables.quarantine);
    await waitFor('Q-1 quarantined', async () => (await quarantine.list()).length === 3, 20_000);
    await worker.stop();
    // the fault is fixed: a worker without it
    worker = createWorker(stack.config, stack.clients);
    worker.start();
    // act + assess: list (JSON), show, dry run, redrive
    const list = await runCli(['quarantine', 'list', '--json'], stack.env);
    expect(list.code).toBe(0);
    const items = JSON.parse(list.stdout) as { id: string; reason: string; pumpId: string }[];
    expect(items.map((i) => [i.reason, i.pumpId])).toEqual(Array(3).fill(['processing_failed', 'Q-1']));
    const show = await runCli(['quarantine', 'show', items[0]!.id], stack.env);
    expect(show.stdout).toMatch(/reason: processing_failed/);
    expect(show.stdout).toMatch(/"pumpId":"Q-1"/);
    expect((await runCli(['quarantine', 'redrive', '--reason', 'processing_failed', '--dry-run'], stack.env)).stdout).toMatch(/would re-drive 3/);
    expect(await runCli(['quarantine', 'show', 'no-such-id'], stack.env)).toMatchObject({ code: 1, stderr: expect.stringMatching(/no quarantined record/) });
    const redrive = await runCli(['quarantine', 'redrive', '--reason', 'processing_failed'], stack.env);
    expect(redrive).toMatchObject({ code: 0, stdout: expect.stringMatching(/re-drove 3 record/) });
    // every sample of Q-1 is now in its windows, and the quarantine says so
    await waitFor('Q-1 windowed', async () => {
      const w = await allWindows(stack, ['Q-1']);
      return w.reduce((n, x) => n + x.features.sampleCount, 0) === 12;
    }, 20_000);
    expect((await quarantine.list({ status: 'quarantined' })).length).toBe(0);
    expect((await runCli(['quarantine', 'redrive', '--all'], stack.env)).stdout).toMatch(/re-drove 0/);
    // and `status` shows both pumps
    const status = JSON.parse((await runCli(['status', '--json'], stack.env)).stdout) as { pumpId: string; state: string }[];
    expect(status.map((s) => s.pumpId)).toEqual(['Q-1', 'Q-2']);
  }, 60_000);
});
