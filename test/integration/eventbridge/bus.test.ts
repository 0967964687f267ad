import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CreateEventBusCommand,
  DeleteEventBusCommand,
  DeleteRuleCommand,
  DescribeEventBusCommand,
  DescribeRuleCommand,
  DisableRuleCommand,
  EnableRuleCommand,
  EventBridgeClient,
  InvalidEventPatternException,
  ListEventBusesCommand,
  ListRulesCommand,
  ListTargetsByRuleCommand,
  PutEventsCommand,
  type PutEventsRequestEntry,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
  TestEventPatternCommand,
} from '@aws-sdk/client-eventbridge';
import {
  EventBridgeEnvelopeSchema,
  listenerArn,
  startEventBridgeServer,
  type EventBridgeEnvelope,
  type EventBridgeServer,
} from '../../../services/local/eventbridge';
import { type ReceivedRequest, startWebhookServer } from '../../support/webhooks';

/** Polls until `check` returns a value other than undefined, or fails after `timeoutMs`. */
async function waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A local HTTP server standing in for webhook subscribers: /ok → 200, /fail → 500, /reject → 400. */
async function startWebhooks(): Promise<{ url: string; calls: ReceivedRequest[]; close(): Promise<void> }> {
  const calls: ReceivedRequest[] = [];
  const server = await startWebhookServer((request) => {
    calls.push(request);
    return { status: request.path.startsWith('/fail') ? 500 : request.path.startsWith('/reject') ? 400 : 200 };
  });
  return { ...server, calls };
}

function readJsonLines(file: string): unknown[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l): unknown => JSON.parse(l));
}

function clientFor(server: EventBridgeServer): EventBridgeClient {
  return new EventBridgeClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
}

/** A pump event entry for PutEvents. */
function pumpEvent(detailType: string, detail: Record<string, unknown>, bus?: string): PutEventsRequestEntry {
  return { Source: 'pumpwatch', DetailType: detailType, Detail: JSON.stringify(detail), EventBusName: bus, Resources: ['pump/P-1'] };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

describe('local EventBridge bus (real SDK client)', () => {
  let dataDir: string;
  let server: EventBridgeServer;
  let client: EventBridgeClient;
  let webhooks: Awaited<ReturnType<typeof startWebhooks>>;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pumpwatch-eventbridge-'));
    webhooks = await startWebhooks();
    server = await startEventBridgeServer({
      dataDir: path.join(dataDir, 'bus'),
      webhookRetry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
    });
    client = clientFor(server);
  });

  afterAll(async () => {
    client.destroy();
    await server.close();
    await webhooks.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  describe('event buses', () => {
    it('creates, describes, lists and deletes a bus', async () => {
      const created = await client.send(new CreateEventBusCommand({ Name: 'bus-crud', Description: 'test bus' }));
      expect(created.EventBusArn).toBe('arn:aws:events:us-east-1:000000000000:event-bus/bus-crud');

      const described = await client.send(new DescribeEventBusCommand({ Name: 'bus-crud' }));
      expect(described).toMatchObject({ Name: 'bus-crud', Description: 'test bus' });
      expect(described.CreationTime).toBeInstanceOf(Date);

      const byArn = await client.send(new DescribeEventBusCommand({ Name: created.EventBusArn }));
      expect(byArn.Name).toBe('bus-crud');

      const listed = await client.send(new ListEventBusesCommand({ NamePrefix: 'bus-' }));
      expect(listed.EventBuses?.map((b) => b.Name)).toEqual(['bus-crud']);
      const all = await client.send(new ListEventBusesCommand({}));
      expect(all.EventBuses?.map((b) => b.Name)).toContain('default');

      await client.send(new DeleteEventBusCommand({ Name: 'bus-crud' }));
      expect(await rejection(client.send(new DescribeEventBusCommand({ Name: 'bus-crud' })))).toBeInstanceOf(ResourceNotFoundException);
    });

    it('rejects a duplicate bus with ResourceAlreadyExistsException', async () => {
      await client.send(new CreateEventBusCommand({ Name: 'bus-dup' }));
      expect(await rejection(client.send(new CreateEventBusCommand({ Name: 'bus-dup' })))).toBeInstanceOf(ResourceAlreadyExistsException);
      expect(await rejection(client.send(new CreateEventBusCommand({ Name: 'default' })))).toBeInstanceOf(ResourceAlreadyExistsException);
    });

    it('refuses to delete the default bus', async () => {
      const err = await rejection(client.send(new DeleteEventBusCommand({ Name: 'default' })));
      expect(err).toMatchObject({ name: 'ValidationException' });
    });
  });

  describe('rules', () => {
    it('puts, describes, lists with paging, disables, enables and deletes rules', async () => {
      const pattern = JSON.stringify({ source: ['pumpwatch'] });
      const put = await client.send(new PutRuleCommand({ Name: 'crud-a', EventPattern: pattern, Description: 'first' }));
      expect(put.RuleArn).toBe('arn:aws:events:us-east-1:000000000000:rule/crud-a');
      await client.send(new PutRuleCommand({ Name: 'crud-b', EventPattern: pattern }));
      await client.send(new PutRuleCommand({ Name: 'crud-c', EventPattern: pattern }));

      const described = await client.send(new DescribeRuleCommand({ Name: 'crud-a' }));
      expect(described).toMatchObject({ Name: 'crud-a', EventPattern: pattern, State: 'ENABLED', Description: 'first', EventBusName: 'default' });

      const first = await client.send(new ListRulesCommand({ NamePrefix: 'crud-', Limit: 2 }));
      expect(first.Rules?.map((r) => r.Name)).toEqual(['crud-a', 'crud-b']);
      expect(first.NextToken).toBeDefined();
      const second = await client.send(new ListRulesCommand({ NamePrefix: 'crud-', Limit: 2, NextToken: first.NextToken }));
      expect(second.Rules?.map((r) => r.Name)).toEqual(['crud-c']);
      expect(second.NextToken).toBeUndefined();

      await client.send(new DisableRuleCommand({ Name: 'crud-b' }));
      expect((await client.send(new DescribeRuleCommand({ Name: 'crud-b' }))).State).toBe('DISABLED');
      await client.send(new EnableRuleCommand({ Name: 'crud-b' }));
      expect((await client.send(new DescribeRuleCommand({ Name: 'crud-b' }))).State).toBe('ENABLED');

      // An update keeps the targets and replaces the pattern.
      await client.send(new PutTargetsCommand({ Rule: 'crud-a', Targets: [{ Id: 'l', Arn: listenerArn('crud') }] }));
      await client.send(new PutRuleCommand({ Name: 'crud-a', EventPattern: JSON.stringify({ source: ['other'] }) }));
      expect((await client.send(new ListTargetsByRuleCommand({ Rule: 'crud-a' }))).Targets?.map((t) => t.Id)).toEqual(['l']);

      // Like AWS, a rule with targets cannot be deleted.
      const blocked = await rejection(client.send(new DeleteRuleCommand({ Name: 'crud-a' })));
      expect(blocked).toMatchObject({ name: 'ValidationException', message: "Rule can't be deleted since it has targets." });
      await client.send(new RemoveTargetsCommand({ Rule: 'crud-a', Ids: ['l'] }));
      for (const name of ['crud-a', 'crud-b', 'crud-c']) await client.send(new DeleteRuleCommand({ Name: name }));
      expect(await rejection(client.send(new DescribeRuleCommand({ Name: 'crud-a' })))).toBeInstanceOf(ResourceNotFoundException);
      expect((await client.send(new ListRulesCommand({ NamePrefix: 'crud-' }))).Rules).toEqual([]);
    });

    it('answers ResourceNotFoundException for a rule on a missing bus or a missing rule', async () => {
      expect(await rejection(client.send(new PutRuleCommand({ Name: 'x', EventPattern: '{"source":["a"]}', EventBusName: 'nope' })))).toBeInstanceOf(
        ResourceNotFoundException,
      );
      expect(await rejection(client.send(new EnableRuleCommand({ Name: 'missing' })))).toBeInstanceOf(ResourceNotFoundException);
      expect(await rejection(client.send(new PutTargetsCommand({ Rule: 'missing', Targets: [{ Id: 'a', Arn: listenerArn('a') }] })))).toBeInstanceOf(
        ResourceNotFoundException,
      );
    });

    it('rejects an invalid pattern with InvalidEventPatternException naming the place', async () => {
      const err = await rejection(client.send(new PutRuleCommand({ Name: 'bad', EventPattern: JSON.stringify({ detail: { state: 'ALARM' } }) })));
      expect(err).toBeInstanceOf(InvalidEventPatternException);
      expect(err).toMatchObject({ message: expect.stringContaining('detail.state') });
      expect(await rejection(client.send(new DescribeRuleCommand({ Name: 'bad' })))).toBeInstanceOf(ResourceNotFoundException);
    });

    it('rejects a rule without pattern or schedule, and invalid names, with ValidationException', async () => {
      expect(await rejection(client.send(new PutRuleCommand({ Name: 'empty' })))).toMatchObject({ name: 'ValidationException' });
      expect(await rejection(client.send(new PutRuleCommand({ Name: 'bad name!', EventPattern: '{"source":["a"]}' })))).toMatchObject({
        name: 'ValidationException',
      });
    });

    it('reports unsupported targets per entry', async () => {
      await client.send(new PutRuleCommand({ Name: 'targets-check', EventPattern: '{"source":["a"]}' }));
      const out = await client.send(
        new PutTargetsCommand({
          Rule: 'targets-check',
          Targets: [
            { Id: 'ok', Arn: listenerArn('ok') },
            { Id: 'sqs', Arn: 'arn:aws:sqs:us-east-1:000000000000:queue' },
            { Id: 'bad-input', Arn: listenerArn('x'), Input: '{not json' },
          ],
        }),
      );
      expect(out.FailedEntryCount).toBe(2);
      expect(out.FailedEntries?.map((e) => e.TargetId)).toEqual(['sqs', 'bad-input']);
      const listed = await client.send(new ListTargetsByRuleCommand({ Rule: 'targets-check' }));
      expect(listed.Targets?.map((t) => t.Id)).toEqual(['ok']);
      await client.send(new RemoveTargetsCommand({ Rule: 'targets-check', Ids: ['ok'] }));
      await client.send(new DeleteRuleCommand({ Name: 'targets-check' }));
    });
  });

  describe('TestEventPattern', () => {
    const event = JSON.stringify({
      id: '1',
      source: 'pumpwatch',
      'detail-type': 'Pump Condition Changed',
      account: '000000000000',
      region: 'us-east-1',
      time: '2024-01-01T00:00:00Z',
      resources: [],
      detail: { state: 'ALARM', score: 7.5 },
    });

    it('answers whether the pattern matches', async () => {
      const yes = await client.send(new TestEventPatternCommand({ Event: event, EventPattern: JSON.stringify({ detail: { score: [{ numeric: ['>', 5] }] } }) }));
      expect(yes.Result).toBe(true);
      const no = await client.send(new TestEventPatternCommand({ Event: event, EventPattern: JSON.stringify({ detail: { state: ['NORMAL'] } }) }));
      expect(no.Result).toBe(false);
    });

    it('rejects an invalid pattern with InvalidEventPatternException', async () => {
      const err = await rejection(client.send(new TestEventPatternCommand({ Event: event, EventPattern: JSON.stringify({ source: [{ wildcard: 'a**' }] }) })));
      expect(err).toBeInstanceOf(InvalidEventPatternException);
      expect(err).toMatchObject({ message: expect.stringContaining('Consecutive wildcard characters') });
    });

    it('rejects an event without the mandatory fields with ValidationException', async () => {
      const err = await rejection(client.send(new TestEventPatternCommand({ Event: '{"source":"a"}', EventPattern: '{"source":["a"]}' })));
      expect(err).toMatchObject({ name: 'ValidationException' });
    });
  });

  describe('PutEvents routing', () => {
    it('delivers each event to exactly the targets of the matching enabled rules on its bus', async () => {
      const alarms: EventBridgeEnvelope[] = [];
      const disabled: EventBridgeEnvelope[] = [];
      const otherBus: EventBridgeEnvelope[] = [];
      server.addListener('alarms', (e) => {
        alarms.push(e);
      });
      server.addListener('disabled', (e) => {
        disabled.push(e);
      });
      server.addListener('other-bus', (e) => {
        otherBus.push(e);
      });
      const alarmFile = path.join(dataDir, 'out', 'alarms.jsonl');

      await client.send(new CreateEventBusCommand({ Name: 'routing-bus' }));
      // exists works on leaves only: `replay: [{exists:false}]` would also match an object-valued replay.
      await client.send(
        new PutRuleCommand({ Name: 'route-alarms', EventPattern: JSON.stringify({ source: ['pumpwatch'], detail: { state: ['ALARM'], replay: { jobId: [{ exists: false }] } } }) }),
      );
      await client.send(
        new PutTargetsCommand({
          Rule: 'route-alarms',
          Targets: [
            { Id: 'listener', Arn: listenerArn('alarms') },
            { Id: 'file', Arn: pathToFileURL(alarmFile).href },
          ],
        }),
      );
      await client.send(new PutRuleCommand({ Name: 'route-anomalies', EventPattern: JSON.stringify({ 'detail-type': ['Pump Anomaly Detected'] }) }));
      await client.send(
        new PutTargetsCommand({
          Rule: 'route-anomalies',
          Targets: [{ Id: 'hook', Arn: `${webhooks.url}/ok/anomalies`, HttpParameters: { HeaderParameters: { 'x-team': 'ops' } } }],
        }),
      );
      await client.send(new PutRuleCommand({ Name: 'route-disabled', EventPattern: JSON.stringify({ source: ['pumpwatch'] }), State: 'DISABLED' }));
      await client.send(new PutTargetsCommand({ Rule: 'route-disabled', Targets: [{ Id: 'l', Arn: listenerArn('disabled') }] }));
      await client.send(new PutRuleCommand({ Name: 'route-other', EventBusName: 'routing-bus', EventPattern: JSON.stringify({ source: ['pumpwatch'] }) }));
      await client.send(new PutTargetsCommand({ Rule: 'route-other', EventBusName: 'routing-bus', Targets: [{ Id: 'l', Arn: listenerArn('other-bus') }] }));

      const out = await client.send(
        new PutEventsCommand({
          Entries: [
            pumpEvent('Pump Condition Changed', { eventId: 'e1', state: 'ALARM' }),
            pumpEvent('Pump Condition Changed', { eventId: 'e2', state: 'NORMAL' }),
            pumpEvent('Pump Anomaly Detected', { eventId: 'e3', state: 'ALARM' }),
            pumpEvent('Pump Condition Changed', { eventId: 'e4', state: 'ALARM', replay: { jobId: 'j', startedAt: 'x' } }),
            pumpEvent('Pump Condition Changed', { eventId: 'e5', state: 'ALARM' }, 'routing-bus'),
          ],
        }),
      );
      expect(out.FailedEntryCount).toBe(0);
      expect(out.Entries?.every((e) => typeof e.EventId === 'string')).toBe(true);
      await server.drain(5000);

      const ids = (events: readonly EventBridgeEnvelope[]): unknown[] => events.map((e) => e.detail.eventId);
      expect(ids(alarms)).toEqual(['e1', 'e3']);
      expect(readJsonLines(alarmFile).map((e) => EventBridgeEnvelopeSchema.parse(e).detail.eventId)).toEqual(['e1', 'e3']);
      const hooks = webhooks.calls.filter((c) => c.path === '/ok/anomalies');
      expect(hooks.map((c) => EventBridgeEnvelopeSchema.parse(c.body).detail.eventId)).toEqual(['e3']);
      expect(hooks[0]?.headers['x-team']).toBe('ops');
      expect(disabled).toEqual([]);
      expect(ids(otherBus)).toEqual(['e5']);

      // The envelope looks like a real EventBridge event.
      const first = alarms[0];
      expect(first).toMatchObject({
        version: '0',
        id: out.Entries?.[0]?.EventId,
        'detail-type': 'Pump Condition Changed',
        source: 'pumpwatch',
        account: '000000000000',
        region: 'us-east-1',
        resources: ['pump/P-1'],
        detail: { eventId: 'e1', state: 'ALARM' },
      });
      expect(first?.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    });

    it('delivers Input and InputPath payloads', async () => {
      const received: unknown[] = [];
      server.addListener('payloads', (_e, info) => {
        received.push(info.payload);
      });
      await client.send(new PutRuleCommand({ Name: 'payloads', EventPattern: JSON.stringify({ 'detail-type': ['Payload Test'] }) }));
      await client.send(
        new PutTargetsCommand({
          Rule: 'payloads',
          Targets: [
            { Id: 'a-constant', Arn: listenerArn('payloads'), Input: '{"fixed":true}' },
            { Id: 'b-path', Arn: listenerArn('payloads'), InputPath: '$.detail.pump' },
          ],
        }),
      );
      await client.send(new PutEventsCommand({ Entries: [pumpEvent('Payload Test', { pump: { id: 'P-9' } })] }));
      await server.drain(5000);
      expect(received).toHaveLength(2);
      expect(received).toEqual(expect.arrayContaining([{ fixed: true }, { id: 'P-9' }]));
    });

    it('keeps event order per target while retrying', async () => {
      const seen: unknown[] = [];
      let failedOnce = false;
      server.addListener('ordered', (e) => {
        if (e.detail.n === 1 && !failedOnce) {
          failedOnce = true;
          throw new Error('transient');
        }
        seen.push(e.detail.n);
      });
      await client.send(new PutRuleCommand({ Name: 'ordered', EventPattern: JSON.stringify({ 'detail-type': ['Ordered'] }) }));
      await client.send(new PutTargetsCommand({ Rule: 'ordered', Targets: [{ Id: 'l', Arn: listenerArn('ordered') }] }));
      await client.send(new PutEventsCommand({ Entries: [1, 2, 3, 4, 5].map((n) => pumpEvent('Ordered', { n })) }));
      await server.drain(5000);
      expect(failedOnce).toBe(true);
      expect(seen).toEqual([1, 2, 3, 4, 5]);
    });
  });

  describe('failing webhooks', () => {
    it('retries a failing webhook, then dead-letters it', async () => {
      const dlq = path.join(dataDir, 'dlq', 'failing.jsonl');
      await client.send(new PutRuleCommand({ Name: 'failing-hook', EventPattern: JSON.stringify({ 'detail-type': ['Failing Hook'] }) }));
      await client.send(
        new PutTargetsCommand({
          Rule: 'failing-hook',
          Targets: [
            {
              Id: 'hook',
              Arn: `${webhooks.url}/fail/x`,
              RetryPolicy: { MaximumRetryAttempts: 2 },
              DeadLetterConfig: { Arn: pathToFileURL(dlq).href },
            },
          ],
        }),
      );
      const out = await client.send(new PutEventsCommand({ Entries: [pumpEvent('Failing Hook', { eventId: 'f1' })] }));
      await server.drain(5000);

      expect(webhooks.calls.filter((c) => c.path === '/fail/x')).toHaveLength(3);
      const letters = readJsonLines(dlq);
      expect(letters).toHaveLength(1);
      expect(letters[0]).toMatchObject({
        ruleName: 'failing-hook',
        targetId: 'hook',
        errorCode: 'HTTP_500',
        exhaustedRetryCondition: 'MaximumRetryAttempts',
        retryAttempts: 2,
        event: { id: out.Entries?.[0]?.EventId, detail: { eventId: 'f1' } },
      });
    });

    it('does not retry a webhook that rejects the event with a 4xx; uses the server dead-letter file', async () => {
      await client.send(new PutRuleCommand({ Name: 'rejecting-hook', EventPattern: JSON.stringify({ 'detail-type': ['Rejecting Hook'] }) }));
      await client.send(new PutTargetsCommand({ Rule: 'rejecting-hook', Targets: [{ Id: 'hook', Arn: `${webhooks.url}/reject/y` }] }));
      await client.send(new PutEventsCommand({ Entries: [pumpEvent('Rejecting Hook', { eventId: 'r1' })] }));
      await server.drain(5000);

      expect(webhooks.calls.filter((c) => c.path === '/reject/y')).toHaveLength(1);
      const letters = readJsonLines(path.join(dataDir, 'bus', 'eventbridge-dead-letters.jsonl'));
      expect(letters).toContainEqual(expect.objectContaining({ ruleName: 'rejecting-hook', errorCode: 'HTTP_400', exhaustedRetryCondition: 'NonRetryable' }));
      expect(server.deadLetters().map((d) => d.ruleName)).toEqual(expect.arrayContaining(['failing-hook', 'rejecting-hook']));
    });
  });

  describe('PutEvents limits and entry errors', () => {
    it('rejects more than 10 entries', async () => {
      const entries = Array.from({ length: 11 }, (_, i) => pumpEvent('Limit', { i }));
      const err = await rejection(client.send(new PutEventsCommand({ Entries: entries })));
      expect(err).toMatchObject({ name: 'ValidationException', message: expect.stringContaining('less than or equal to 10') });
    });

    it('rejects entries totalling more than 256 KB', async () => {
      const big = 'x'.repeat(100 * 1024);
      const entries = [1, 2, 3].map((i) => pumpEvent('Limit', { i, big }));
      const err = await rejection(client.send(new PutEventsCommand({ Entries: entries })));
      expect(err).toMatchObject({ name: 'ValidationException', message: expect.stringContaining('over the limit') });
    });

    it('accepts entries up to the limit', async () => {
      const entries = [1, 2].map((i) => pumpEvent('Limit', { i, big: 'x'.repeat(100 * 1024) }));
      const out = await client.send(new PutEventsCommand({ Entries: entries }));
      expect(out.FailedEntryCount).toBe(0);
    });

    it('answers per-entry errors beside accepted entries', async () => {
      const out = await client.send(
        new PutEventsCommand({
          Entries: [
            pumpEvent('Ok', { a: 1 }),
            { Source: 'pumpwatch', DetailType: 'Bad', Detail: 'not json' },
            { Source: 'pumpwatch', DetailType: 'Missing detail' },
            pumpEvent('No bus', { a: 1 }, 'no-such-bus'),
          ],
        }),
      );
      expect(out.FailedEntryCount).toBe(3);
      expect(out.Entries?.map((e) => e.ErrorCode ?? 'ok')).toEqual(['ok', 'MalformedDetail', 'InvalidArgument', 'ResourceNotFoundException']);
    });
  });

  describe('persistence', () => {
    it('keeps buses, rules and targets across a restart with the same data dir', async () => {
      const dir = path.join(dataDir, 'restart');
      const outFile = path.join(dataDir, 'out', 'restart.jsonl');
      const first = await startEventBridgeServer({ dataDir: dir });
      const firstClient = clientFor(first);
      try {
        await firstClient.send(new CreateEventBusCommand({ Name: 'kept-bus' }));
        await firstClient.send(new PutRuleCommand({ Name: 'kept-rule', EventBusName: 'kept-bus', EventPattern: JSON.stringify({ source: ['pumpwatch'] }) }));
        await firstClient.send(
          new PutTargetsCommand({ Rule: 'kept-rule', EventBusName: 'kept-bus', Targets: [{ Id: 'file', Arn: pathToFileURL(outFile).href }] }),
        );
      } finally {
        firstClient.destroy();
        await first.close();
      }

      const second = await startEventBridgeServer({ dataDir: dir });
      const secondClient = clientFor(second);
      try {
        const rule = await secondClient.send(new DescribeRuleCommand({ Name: 'kept-rule', EventBusName: 'kept-bus' }));
        expect(rule).toMatchObject({ Name: 'kept-rule', EventBusName: 'kept-bus', State: 'ENABLED' });
        const targets = await secondClient.send(new ListTargetsByRuleCommand({ Rule: 'kept-rule', EventBusName: 'kept-bus' }));
        expect(targets.Targets).toEqual([{ Id: 'file', Arn: pathToFileURL(outFile).href }]);
        await secondClient.send(new PutEventsCommand({ Entries: [pumpEvent('After Restart', { n: 1 }, 'kept-bus')] }));
        await second.drain(5000);
        expect(readJsonLines(outFile).map((e) => EventBridgeEnvelopeSchema.parse(e).detail)).toEqual([{ n: 1 }]);
      } finally {
        secondClient.destroy();
        await second.close();
      }
    });

    it('keeps nothing without a data dir', async () => {
      const first = await startEventBridgeServer();
      const c1 = clientFor(first);
      await c1.send(new PutRuleCommand({ Name: 'ephemeral', EventPattern: '{"source":["a"]}' }));
      c1.destroy();
      await first.close();
      const second = await startEventBridgeServer();
      const c2 = clientFor(second);
      try {
        expect(await rejection(c2.send(new DescribeRuleCommand({ Name: 'ephemeral' })))).toBeInstanceOf(ResourceNotFoundException);
      } finally {
        c2.destroy();
        await second.close();
      }
    });
  });

  describe('lifecycle', () => {
    it('close() is idempotent and dead-letters deliveries it cannot finish', async () => {
      const bus = await startEventBridgeServer({ closeTimeoutMs: 50, webhookRetry: { attempts: 100, baseDelayMs: 1000, maxDelayMs: 1000 } });
      const c = clientFor(bus);
      await c.send(new PutRuleCommand({ Name: 'stuck', EventPattern: '{"source":["pumpwatch"]}' }));
      await c.send(new PutTargetsCommand({ Rule: 'stuck', Targets: [{ Id: 'hook', Arn: `${webhooks.url}/fail/stuck` }] }));
      await c.send(new PutEventsCommand({ Entries: [pumpEvent('Stuck', { n: 1 })] }));
      c.destroy();
      await waitFor('the first webhook attempt', () => (webhooks.calls.some((call) => call.path === '/fail/stuck') ? true : undefined));
      await Promise.all([bus.close(), bus.close()]);
      await bus.close();
      expect(bus.deadLetters()).toEqual([expect.objectContaining({ ruleName: 'stuck', exhaustedRetryCondition: 'Shutdown' })]);
    });
  });
});
