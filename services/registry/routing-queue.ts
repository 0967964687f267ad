import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { backoffDelay, sleep } from '../../shared/clock';
import { isRetryableAwsError, PumpwatchError, TransientError } from '../../shared/errors';
import type { Logger } from '../../shared/logging';
import type { StateChangeHandler } from './state-change';

/** A message taken from a queue; it stays invisible until deleted or its visibility times out. */
export interface QueueMessage {
  readonly id: string;
  readonly body: string;
  readonly receipt: string;
}

/** The queue port the routing listener reads (SQS on AWS). */
export interface MessageQueue {
  /** Long-polls for up to `max` messages, waiting at most `waitSeconds`. */
  receive(max: number, waitSeconds: number, signal: AbortSignal): Promise<QueueMessage[]>;
  delete(receipt: string): Promise<void>;
}

/** SQS errors in the project's family: throttling and 5xx are retryable, the rest are not. */
export function mapSqsError(err: unknown, operation: string): PumpwatchError {
  if (err instanceof PumpwatchError) return err;
  const name = err instanceof Error ? err.name : 'Unknown';
  if (isRetryableAwsError(err) || name === 'OverLimit' || name === 'KmsThrottled') return new TransientError(`${operation}: ${name}`, err);
  return new PumpwatchError(`${operation}: ${err instanceof Error ? err.message : String(err)}`, { code: 'SQS', cause: err });
}

export class SqsMessageQueue implements MessageQueue {
  constructor(
    private readonly sqs: Pick<SQSClient, 'send'>,
    private readonly queueUrl: string,
  ) {}

  async receive(max: number, waitSeconds: number, signal: AbortSignal): Promise<QueueMessage[]> {
    try {
      const r = await this.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: this.queueUrl, MaxNumberOfMessages: max, WaitTimeSeconds: waitSeconds }),
        { abortSignal: signal },
      );
      return (r.Messages ?? []).filter((m) => m.Body !== undefined && m.ReceiptHandle !== undefined).map((m) => ({ id: m.MessageId ?? '', body: m.Body!, receipt: m.ReceiptHandle! }));
    } catch (err) {
      throw mapSqsError(err, 'sqs.receive');
    }
  }

  async delete(receipt: string): Promise<void> {
    try {
      await this.sqs.send(new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: receipt }));
    } catch (err) {
      throw mapSqsError(err, 'sqs.delete');
    }
  }
}

/**
 * Reads SageMaker model package state changes from the routing queue and drops the cached routes
 * they affect, so an approval on AWS reaches the pumps at once instead of at the next refresh.
 * A message is deleted only after it was handled; one that keeps failing goes to the queue's DLQ
 * (the CDK app sets the redrive policy). start() and stop() are idempotent.
 */
export class RoutingQueueListener {
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  handled = 0;

  constructor(
    private readonly queue: MessageQueue,
    private readonly handler: Pick<StateChangeHandler, 'handleMessage'>,
    private readonly log: Logger,
    private readonly options: { waitSeconds: number } = { waitSeconds: 20 },
  ) {}

  /** One receive-and-handle round; returns the number of messages handled. */
  async pollOnce(): Promise<number> {
    const messages = await this.queue.receive(10, this.options.waitSeconds, this.abort.signal);
    let handled = 0;
    for (const m of messages) {
      try {
        await this.handler.handleMessage(m.body);
        await this.queue.delete(m.receipt);
        handled += 1;
      } catch (err) {
        // Left on the queue: it comes back after its visibility timeout, then to the DLQ.
        this.log.warn({ messageId: m.id, err: (err as Error).message }, 'routing message not handled');
      }
    }
    this.handled += handled;
    return handled;
  }

  start(): void {
    this.running ??= (async () => {
      let failures = 0;
      while (!this.abort.signal.aborted) {
        try {
          await this.pollOnce();
          failures = 0;
        } catch (err) {
          if (this.abort.signal.aborted) break;
          failures += 1;
          this.log.warn({ err: (err as Error).message, failures }, 'routing queue receive failed');
          await sleep(backoffDelay(failures, 500, 30_000), this.abort.signal).catch(() => undefined);
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.abort.abort(new Error('stopping'));
    await this.running;
  }
}
