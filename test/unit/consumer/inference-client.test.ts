import { ManualClock } from '../../../shared/clock';
import { InferenceClient, InferenceError } from '../../../services/consumer/pipeline/inference-client';
import { vector } from '../../support/factories';

const named = (name: string, message = name) => Object.assign(new Error(message), { name });
const request = { pumpId: 'P-1', windows: [vector(0)] };
const okBody = (n = 1) =>
  new TextEncoder().encode(
    JSON.stringify({
      modelId: 'm',
      modelVersion: '1',
      family: 'zscore',
      results: Array.from({ length: n }, () => ({ windowStart: 0, score: 0.1, threshold: 1, warningThreshold: 0.8, components: {}, contributions: {}, anomalous: false })),
    }),
  );

function client(send: jest.Mock, clock = new ManualClock(0), breakerThreshold = 5) {
  return new InferenceClient({ send } as never, { endpointName: 'ep', maxAttempts: 3, timeoutMs: 1_000, concurrency: 2, breakerThreshold, breakerResetMs: 10_000 }, clock);
}

describe('InferenceClient', () => {
  it('sends the pump\'s windows to its TargetModel as JSON and parses the answer', async () => {
    const send = jest.fn().mockResolvedValue({ Body: okBody() });
    const r = await client(send).score('pumps/P-1/v1/model.tar.gz', request);
    expect(r.results).toHaveLength(1);
    expect(send.mock.calls[0][0].input).toMatchObject({ EndpointName: 'ep', TargetModel: 'pumps/P-1/v1/model.tar.gz', ContentType: 'application/json' });
  });

  it.each([
    { name: 'ModelError', failure: 'model_error', retryable: false, calls: 1 },
    { name: 'ValidationError', failure: 'validation', retryable: false, calls: 1 },
    { name: 'ModelNotReadyException', failure: 'not_ready', retryable: true, calls: 3 },
    { name: 'ThrottlingException', failure: 'throttled', retryable: true, calls: 3 },
  ])('maps $name to $failure and retries only what may pass', async ({ name, failure, retryable, calls }) => {
    const send = jest.fn().mockRejectedValue(named(name));
    const err = (await client(send).score('t', request).catch((e: unknown) => e)) as InferenceError;
    expect(err).toBeInstanceOf(InferenceError);
    expect([err.failure, err.retryable]).toEqual([failure, retryable]);
    expect(send).toHaveBeenCalledTimes(calls);
  });

  it('rejects an answer with the wrong number of scores', async () => {
    const send = jest.fn().mockResolvedValue({ Body: okBody(2) });
    await expect(client(send).score('t', request)).rejects.toMatchObject({ failure: 'bad_response' });
  });

  it('opens the circuit after consecutive endpoint failures, and closes it after the reset time', async () => {
    const clock = new ManualClock(0);
    const send = jest.fn().mockRejectedValue(named('ServiceUnavailable', 'down'));
    const c = client(send, clock, 2);
    await expect(c.score('t', request)).rejects.toBeInstanceOf(InferenceError);
    const calls = send.mock.calls.length;
    await expect(c.score('t', request)).rejects.toMatchObject({ failure: 'circuit_open' });
    expect(send.mock.calls.length).toBe(calls); // not even tried
    clock.advance(10_000);
    send.mockResolvedValue({ Body: okBody() });
    await expect(c.score('t', request)).resolves.toMatchObject({ modelVersion: '1' });
  });

  it("does not let model errors (one model's problem) open the endpoint circuit", async () => {
    const send = jest.fn().mockRejectedValue(named('ModelError'));
    const c = client(send, new ManualClock(0), 2);
    for (let i = 0; i < 5; i++) await c.score('t', request).catch(() => undefined);
    send.mockResolvedValue({ Body: okBody() });
    await expect(c.score('t', request)).resolves.toBeDefined();
  });
});
