import { createWorker, type Worker } from '../../../services/consumer/worker';
import { encodeJson, KinesisProducer } from '../../../services/ingest/producer';
import { FleetSimulator, simulateBatches } from '../../../services/ingest/simulator';
import { type LocalStack, startLocalStack } from '../../../services/local/stack';
import { FAST_ENV, expectedWindows } from '../../support/cluster';
import { waitForWindows } from '../../support/effects';

/** KPL-aggregated records (the ingest side's optional aggregation) are de-aggregated by the consumer. */
describe('KPL-aggregated records', () => {
  let stack: LocalStack;
  let worker: Worker;

  afterAll(async () => {
    await worker?.stop();
    await stack?.stop();
  });

  it('reach the windows exactly as plain records would', async () => {
    stack = await startLocalStack({ shardCount: 2, env: FAST_ENV });
    const sim = new FleetSimulator({ pumps: 10, seed: 3, sampleRateHz: 2 });
    const start = Math.floor((Date.now() - 60_000) / 2_000) * 2_000;
    const batches = simulateBatches(sim, start, 30, 1);
    const producer = new KinesisProducer(stack.clients.kinesis, { streamName: stack.config.names.streamName, aggregate: true });
    const result = await producer.putAll(batches.map((b) => ({ partitionKey: b.pumpId, data: encodeJson(b) })));
    // far fewer Kinesis records than user records
    expect(result.sent).toBeLessThan(batches.length / 5);
    worker = createWorker(stack.config, stack.clients);
    worker.start();
    const sent = batches.map((b) => ({ ...b, placement: { shardId: '', sequenceNumber: '' } }));
    expect(await waitForWindows(stack, expectedWindows(sent, 2_000), 30_000)).toEqual([]);
  }, 60_000);
});
