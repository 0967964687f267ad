import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import pino from 'pino';
import { TransientError } from '../../../shared/errors';
import { loadConfig } from '../../../shared/config';
import { DynamoDbModelRegistry } from '../../../shared/stores/model-registry';
import { createModelRegistry } from '../../../services/registry/factory';
import { SageMakerModelRegistry } from '../../../services/registry/sagemaker-registry';
import { type MessageQueue, type QueueMessage, RoutingQueueListener, SqsMessageQueue } from '../../../services/registry/routing-queue';

class InMemoryQueue implements MessageQueue {
  readonly deleted: string[] = [];
  constructor(private messages: QueueMessage[]) {}
  async receive(max: number): Promise<QueueMessage[]> {
    const out = this.messages.slice(0, max);
    this.messages = this.messages.slice(max);
    return out;
  }
  async delete(receipt: string): Promise<void> {
    this.deleted.push(receipt);
  }
}

const log = pino({ level: 'silent' });

describe('RoutingQueueListener', () => {
  it('hands each message to the handler and deletes only the ones it handled', async () => {
    const queue = new InMemoryQueue([
      { id: '1', body: '{"ok":1}', receipt: 'r1' },
      { id: '2', body: 'not json', receipt: 'r2' },
      { id: '3', body: '{"ok":3}', receipt: 'r3' },
    ]);
    const seen: string[] = [];
    const listener = new RoutingQueueListener(
      queue,
      {
        handleMessage: async (body: string) => {
          seen.push(body);
          JSON.parse(body);
          return { kind: 'all', reason: 'test' } as const;
        },
      },
      log,
    );
    expect(await listener.pollOnce()).toBe(2);
    expect(seen).toEqual(['{"ok":1}', 'not json', '{"ok":3}']);
    expect(queue.deleted).toEqual(['r1', 'r3']);
  });
});

describe('SqsMessageQueue', () => {
  it('long-polls with the queue URL and maps messages', async () => {
    const send = jest.fn().mockResolvedValueOnce({ Messages: [{ MessageId: 'm', Body: '{}', ReceiptHandle: 'h' }, { MessageId: 'x' }] }).mockResolvedValueOnce({});
    const q = new SqsMessageQueue({ send } as never, 'https://sqs/q');
    expect(await q.receive(10, 20, new AbortController().signal)).toEqual([{ id: 'm', body: '{}', receipt: 'h' }]);
    await q.delete('h');
    expect(send.mock.calls[0][0]).toBeInstanceOf(ReceiveMessageCommand);
    expect(send.mock.calls[0][0].input).toEqual({ QueueUrl: 'https://sqs/q', MaxNumberOfMessages: 10, WaitTimeSeconds: 20 });
    expect(send.mock.calls[1][0]).toBeInstanceOf(DeleteMessageCommand);
  });

  it.each([
    { name: 'throttling', error: Object.assign(new Error('slow down'), { name: 'ThrottlingException' }), retryable: true },
    { name: 'a missing queue', error: Object.assign(new Error('no such queue'), { name: 'QueueDoesNotExist' }), retryable: false },
  ])('maps $name', async ({ error, retryable }) => {
    const q = new SqsMessageQueue({ send: jest.fn().mockRejectedValue(error) } as never, 'u');
    const err = await q.receive(1, 1, new AbortController().signal).catch((e: unknown) => e);
    expect(err instanceof TransientError).toBe(retryable);
    expect((err as Error & { cause: unknown }).cause).toBe(error);
  });
});

describe('createModelRegistry', () => {
  const base = loadConfig({});
  it('uses the models table by default', () => {
    expect(createModelRegistry(base, { doc: {} as never })).toBeInstanceOf(DynamoDbModelRegistry);
  });
  it('uses the SageMaker Model Registry when configured, and needs the model image for it', () => {
    expect(() => createModelRegistry({ ...base, modelRegistry: 'sagemaker' }, { doc: {} as never })).toThrow(/PUMPWATCH_MODEL_IMAGE_URI/);
    const r = createModelRegistry({ ...base, modelRegistry: 'sagemaker', modelImageUri: '123.dkr.ecr.us-east-1.amazonaws.com/pumpwatch:1' }, { doc: {} as never });
    expect(r).toBeInstanceOf(SageMakerModelRegistry);
  });
  it('reads the choice from the environment', () => {
    expect(loadConfig({ PUMPWATCH_MODEL_REGISTRY: 'sagemaker', PUMPWATCH_MODEL_IMAGE_URI: 'img' })).toMatchObject({ modelRegistry: 'sagemaker', modelImageUri: 'img' });
    expect(() => loadConfig({ PUMPWATCH_MODEL_REGISTRY: 'mlflow' })).toThrow(/modelRegistry/);
  });
});
