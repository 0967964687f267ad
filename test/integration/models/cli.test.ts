import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { Command } from 'commander';
import { registerModels } from '../../../services/cli/commands/models';
import { registerPumps } from '../../../services/cli/commands/pumps';
import { CliContext } from '../../../services/cli/context';
import { type LocalStack, startLocalStack } from '../../../services/local/stack';
import { ValidationError } from '../../../shared/errors';
import { DynamoDbWindowStore, windowSortKey } from '../../../shared/stores/window-store';
import { healthyWindows, MODEL_TEST_ENV } from './live';

/**
 * `pumpwatch pumps …` and `pumpwatch models …` against the real emulators: register a pump,
 * train from its stored history, approve, roll back, reject, and read drift — through the
 * commands' `--json` output, as scripts use them.
 */
describe('pumps and models commands', () => {
  let stack: LocalStack;
  let context: CliContext;

  beforeAll(async () => {
    stack = await startLocalStack({ shardCount: 1, env: MODEL_TEST_ENV });
    context = new CliContext(stack.config);
  }, 30_000);

  afterAll(async () => {
    context?.close();
    await stack?.stop();
  });

  /** Runs one command line and returns its stdout parsed as JSON (or the text). */
  async function run(...args: string[]): Promise<unknown> {
    const program = new Command('pumpwatch').exitOverride();
    registerPumps(program, () => context);
    registerModels(program, () => context);
    const out: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    try {
      await program.parseAsync(['node', 'pumpwatch', ...args]);
    } finally {
      spy.mockRestore();
    }
    const text = out.join('');
    return args.includes('--json') ? JSON.parse(text) : text;
  }

  it('registers a pump and refuses a bad policy, naming the flag', async () => {
    const created = await run('pumps', 'register', '--pump', 'C-1', '--tenant', 'acme', '--site', 'north', '--type', 'cli-test', '--rate', '5', '--policy', '{"k":2,"n":3}', '--json');
    expect(created).toMatchObject({ pumpId: 'C-1', pumpType: 'cli-test', sampleRateHz: 5, policy: { k: 2, n: 3 }, created: true });
    await expect(run('pumps', 'register', '--pump', 'C-2', '--tenant', 'a', '--site', 's', '--type', 'x', '--policy', '{"k":5,"n":3}')).rejects.toThrow(/--policy: k/);
    await expect(run('pumps', 'register', '--pump', 'bad id!', '--tenant', 'a', '--site', 's', '--type', 'x')).rejects.toBeInstanceOf(ValidationError);
    expect(await run('pumps', 'show', 'C-1', '--json')).toMatchObject({ pumpId: 'C-1', serving: null, versions: [] });
  });

  it('trains from the stored history, approves, rolls back, rejects and reports drift', async () => {
    // prepare: the pump's stored learning windows
    const windows = new DynamoDbWindowStore(stack.clients.doc, stack.config.names.tables.windows);
    for (const f of healthyWindows('cli-test', 2_000, 1, 5).filter((w) => w.pumpId === 'ref-0001')) {
      await windows.putIfAbsent({
        pumpId: 'C-1',
        sk: windowSortKey(f.windowStart),
        windowStart: f.windowStart,
        windowEnd: f.windowEnd,
        status: 'UNROUTED',
        features: { ...f, pumpId: 'C-1' },
        level: 'NORMAL',
        state: 'LEARNING',
        attempts: 0,
        createdAt: Date.now(),
      });
    }
    // act + assess, step by step
    expect(await run('models', 'train', '--pump', 'C-1', '--preset', 'pca-t2q-w10-mean', '--json')).toMatchObject({
      modelGroup: 'pump-C-1',
      version: 1,
      status: 'PendingManualApproval',
      family: 'pca',
      windows: 30,
    });
    expect(await run('models', 'list', '--pump', 'C-1', '--json')).toMatchObject([{ version: 1, status: 'PendingManualApproval', serving: false }]);
    expect(await run('models', 'approve', '--pump', 'C-1', '--version', '1', '--json')).toMatchObject({ version: 1, status: 'Approved', serving: true });
    expect(await run('models', 'train', '--pump', 'C-1', '--approve', '--json')).toMatchObject({ version: 2, status: 'Approved', family: 'mset' });
    const shown = (await run('models', 'show', '--pump', 'C-1', '--json')) as { version: number; serving: boolean; artifact: { features: string[] } };
    expect(shown).toMatchObject({ version: 2, serving: true });
    expect(shown.artifact.features).toContain('vibration_rms.std');
    expect(await run('models', 'rollback', '--pump', 'C-1', '--json')).toMatchObject({ rejected: { version: 2 }, wasServing: true, serving: { version: 1 } });
    expect(await run('pumps', 'show', 'C-1', '--json')).toMatchObject({ serving: { version: 1 } });
    expect(await run('models', 'reject', '--pump', 'C-1', '--version', '1', '--json')).toMatchObject({ wasServing: true });
    expect(((await run('pumps', 'list', '--json')) as { pumpId: string; model: unknown }[]).find((p) => p.pumpId === 'C-1')?.model).toBeNull();
    await run('models', 'approve', '--pump', 'C-1', '--version', '1');
    const drift = (await run('models', 'drift', '--pump', 'C-1', '--windows', '20', '--json')) as { windows: number; features: { feature: string; psi: number }[]; model: { version: number } };
    expect(drift.model.version).toBe(1);
    expect(drift.windows).toBe(20);
    expect(drift.features.length).toBeGreaterThan(0);
    expect(drift.features.every((f) => Number.isFinite(f.psi) && f.psi >= 0)).toBe(true);
    expect(String(await run('models', 'drift', '--pump', 'C-1', '--windows', '20'))).toMatch(/max PSI/);
    await expect(run('models', 'approve', '--pump', 'C-1', '--type', 'x', '--version', '1')).rejects.toThrow(/exactly one/);
  }, 60_000);

  it('shadow-scores a pending version beside the live scores, leaving them as they were', async () => {
    // prepare: C-1 is served by v1 (previous test); 12 of its windows as the live path stores them
    const windows = new DynamoDbWindowStore(stack.clients.doc, stack.config.names.tables.windows);
    const live = (await windows.query('C-1')).slice(0, 12);
    expect(live).toHaveLength(12);
    const serving = (await run('pumps', 'show', 'C-1', '--json')) as { serving: { modelId: string; version: number; target: string } };
    const liveScore = (w: (typeof live)[number], i: number) => ({
      windowStart: w.windowStart,
      score: i < 3 ? 9 : 0.5,
      threshold: 4,
      warningThreshold: 2,
      components: {},
      contributions: {},
      anomalous: i < 3,
    });
    for (const [i, w] of live.entries()) {
      const model = { modelId: serving.serving.modelId, version: String(serving.serving.version), target: serving.serving.target };
      await stack.clients.doc.send(
        new UpdateCommand({
          TableName: stack.config.names.tables.windows,
          Key: { pumpId: 'C-1', sk: w.sk },
          UpdateExpression: 'SET #status = :scored, score = :score, model = :model',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':scored': 'SCORED', ':score': liveScore(w, i), ':model': model },
        }),
      );
    }
    const before = await windows.query('C-1');
    await expect(run('models', 'shadow', '--pump', 'C-1', '--json')).rejects.toThrow(/no pending version newer than its approved one/);
    const pending = (await run('models', 'train', '--pump', 'C-1', '--json')) as { version: number; target: string };
    // act
    const first = (await run('models', 'shadow', '--pump', 'C-1', '--json')) as Record<string, unknown>;
    const again = (await run('models', 'shadow', '--pump', 'C-1', '--json')) as Record<string, unknown>;
    const text = String(await run('models', 'shadow', '--pump', 'C-1'));
    // assess: every live-scored window got a shadow score of the pending version, once
    expect(first).toMatchObject({ pumpId: 'C-1', pending: { version: String(pending.version), target: pending.target }, scoredNow: 12, windows: 12, liveFlagged: 3 });
    expect(again).toMatchObject({ scoredNow: 0, windows: 12, liveFlagged: 3, shadowFlagged: first.shadowFlagged, agreement: first.agreement });
    expect(text).toMatch(/12 window\(s\) with both scores: flagged live 3/);
    const after = await windows.query('C-1');
    for (const w of after) {
      const was = before.find((b) => b.sk === w.sk)!;
      expect([w.status, w.model, w.score, w.state, w.level]).toEqual([was.status, was.model, was.score, was.state, was.level]);
      if (w.status === 'SCORED') expect(w.shadow?.model.target).toBe(pending.target);
      else expect(w.shadow).toBeUndefined();
    }
    // the pending version is still pending; v1 still serves
    expect(await run('pumps', 'show', 'C-1', '--json')).toMatchObject({ serving: { version: serving.serving.version } });
  }, 60_000);
});
