import { GetCommand, PutCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { conditional, dynamo } from '../aws/dynamo-errors';
import { type PumpStateItem, PumpStateItemSchema, type StateStore } from './state-store';

/**
 * Replay jobs and everything they need to resume, in the replay table (partition key `jobId`):
 * - the job:           `<job>`                      spec, frozen routing, status, runner, summary
 * - a read cursor:     `<job>#cursor#<partition>`   per shard (Kinesis) or `archive`: the position
 *                                                   up to which every effect is durable
 * - a condition chain: `<job>#state#<pumpId>`       the job's own pump state (never the live one)
 * Every item has a `kind`, so listings tell them apart. Single-item conditional writes only.
 */

export const REPLAY_SOURCES = ['kinesis', 'archive'] as const;
export type ReplaySource = (typeof REPLAY_SOURCES)[number];
export const REPLAY_EVENT_MODES = ['none', 'tagged'] as const;
export type ReplayEventMode = (typeof REPLAY_EVENT_MODES)[number];
export const REPLAY_STATUSES = ['running', 'completed', 'failed', 'interrupted', 'cancelled'] as const;
export type ReplayStatus = (typeof REPLAY_STATUSES)[number];

/** Job ids are parts of item keys and window sort keys (`r#<job>#<start>`), so no `#`. */
export const ReplayJobIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, 'a job id is 1-64 of [A-Za-z0-9._:-], starting with a letter or digit');

/** What a job replays. Equal specs are the same job: a re-run must not change it. */
export const ReplaySpecSchema = z
  .strictObject({
    /** Event-time range [fromMs, toMs), aligned to the window hop. */
    fromMs: z.number().int(),
    toMs: z.number().int(),
    /** Only these pumps (sorted); all pumps when absent. */
    pumps: z.array(z.string().min(1)).min(1).optional(),
    source: z.enum(REPLAY_SOURCES),
    /** `approved`, a version number (of each pump's serving model group) or `<modelGroup>:<version>`. */
    model: z.string().min(1),
    events: z.enum(REPLAY_EVENT_MODES),
  })
  .refine((s) => s.fromMs < s.toMs, { message: 'from must be before to', path: ['toMs'] });
export type ReplaySpec = z.output<typeof ReplaySpecSchema>;

/** A model version a job scores with (the consumer's Route). */
export const ReplayRouteSchema = z.strictObject({
  target: z.string(),
  modelId: z.string(),
  version: z.string(),
  modelGroup: z.string(),
});

const count = z.number().int().nonnegative();

/** Live progress of a running job (written with its heartbeat). */
export const ReplayProgressSchema = z.strictObject({
  /** `objects` for the archive, `seconds` of stream arrival time for Kinesis. */
  unit: z.enum(['objects', 'seconds']),
  done: z.number().nonnegative(),
  total: z.number().nonnegative(),
  records: count,
  windows: count,
  scored: count,
  quarantined: count,
});
export type ReplayProgress = z.infer<typeof ReplayProgressSchema>;

/** What a finished job produced, counted from the tables (exact across kills and re-runs). */
export const ReplaySummarySchema = z.strictObject({
  records: count,
  windows: count,
  pumps: count,
  scored: count,
  unscored: count,
  unrouted: count,
  quarantined: count,
  /** Time spent running, over all runs. */
  durationMs: count,
  recordsPerSecond: z.number().nonnegative(),
  /** Event-time span replayed per second of running. */
  realTimeFactor: z.number().nonnegative(),
});
export type ReplaySummary = z.infer<typeof ReplaySummarySchema>;

/** The process running a job; it renews `heartbeatAt` and is fenced by `runId`. */
export const ReplayRunnerSchema = z.strictObject({
  runId: z.string(),
  host: z.string(),
  pid: z.number().int(),
  startedAt: z.number().int(),
  heartbeatAt: z.number().int(),
});
export type ReplayRunner = z.infer<typeof ReplayRunnerSchema>;

export const ReplayJobSchema = z.strictObject({
  jobId: ReplayJobIdSchema,
  kind: z.literal('job'),
  status: z.enum(REPLAY_STATUSES),
  spec: ReplaySpecSchema,
  /** Routing frozen at creation: the newest Approved version of every model group then. */
  approved: z.record(z.string(), ReplayRouteSchema),
  /** With `--model <group>:<version>`: the one model every pump is scored with. */
  pinned: ReplayRouteSchema.optional(),
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
  runs: count,
  /** Running time of the runs that ended (the current run's is added when it ends). */
  activeMs: count,
  runner: ReplayRunnerSchema.optional(),
  progress: ReplayProgressSchema.optional(),
  summary: ReplaySummarySchema.optional(),
  finishedAt: z.number().int().optional(),
  error: z.string().optional(),
});
export type ReplayJob = z.infer<typeof ReplayJobSchema>;

export const CURSOR_STATUSES = ['reading', 'ended', 'done', 'skipped'] as const;

/**
 * How far a job has read one input partition (a shard, or `archive`). Everything up to and
 * including `position` has durable effects. `ended`: the shard ended and its open windows were
 * handed to its children; `done`: the input reached the end of the range; `skipped`: nothing to
 * read (no pump of the job hashes into the shard).
 */
export const ReplayCursorSchema = z.strictObject({
  jobId: z.string(),
  kind: z.literal('cursor'),
  job: ReplayJobIdSchema,
  partition: z.string(),
  position: z.strictObject({ sequenceNumber: z.string(), subSequenceNumber: z.number().int().nonnegative() }).optional(),
  /** Records read up to the position (so a resumed job still counts each record once). */
  records: count,
  status: z.enum(CURSOR_STATUSES),
  updatedAt: z.number().int(),
});
export type ReplayCursor = z.infer<typeof ReplayCursorSchema>;

const StateItemSchema = z.strictObject({
  jobId: z.string(),
  kind: z.literal('state'),
  job: ReplayJobIdSchema,
  pumpId: z.string(),
  version: count,
  state: PumpStateItemSchema,
});

export function cursorKey(jobId: string, partition: string): string {
  return `${jobId}#cursor#${partition}`;
}

function stateKey(jobId: string, pumpId: string): string {
  return `${jobId}#state#${pumpId}`;
}

/** Persistence of replay jobs, cursors and condition chains. */
export interface ReplayStore {
  /** Creates the job unless one with its id exists; true when created. */
  createJob(job: ReplayJob): Promise<boolean>;
  getJob(jobId: string): Promise<ReplayJob | undefined>;
  listJobs(): Promise<ReplayJob[]>;
  /** Makes `runner` the job's runner (status running, runs + 1) if the runner is still `previousRunId`. */
  claim(jobId: string, runner: ReplayRunner, previousRunId: string | undefined): Promise<boolean>;
  /** Renews the runner's heartbeat and progress; the job as stored, or undefined if another run took over. */
  heartbeat(jobId: string, runId: string, progress: ReplayProgress | undefined, nowMs: number): Promise<ReplayJob | undefined>;
  /** Ends the run: final status, summary or error; false if another run took over. */
  finish(jobId: string, runId: string, end: { status: ReplayStatus; activeMs: number; summary?: ReplaySummary; error?: string }, nowMs: number): Promise<boolean>;
  /** Asks a job to stop (running) or marks a stopped one cancelled; undefined when there is no such job. */
  cancel(jobId: string, nowMs: number): Promise<ReplayJob | undefined>;
  getCursor(jobId: string, partition: string): Promise<ReplayCursor | undefined>;
  putCursor(cursor: ReplayCursor): Promise<void>;
  /** The job's own condition chain, as a StateStore the window sink can use. */
  stateStore(jobId: string): StateStore;
  /** Pumps the job has a condition chain for. */
  listStates(jobId: string): Promise<PumpStateItem[]>;
}

export class DynamoDbReplayStore implements ReplayStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async createJob(job: ReplayJob): Promise<boolean> {
    const item = ReplayJobSchema.parse(job);
    return conditional('replay.create', () =>
      this.doc.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(jobId)' })),
    );
  }

  async getJob(jobId: string): Promise<ReplayJob | undefined> {
    const r = await dynamo('replay.get', () => this.doc.send(new GetCommand({ TableName: this.tableName, Key: { jobId }, ConsistentRead: true })));
    return r.Item ? ReplayJobSchema.parse(r.Item) : undefined;
  }

  private async scan<T>(filter: string, values: Record<string, unknown>, parse: (item: Record<string, unknown>) => T): Promise<T[]> {
    const out: T[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const r = await dynamo('replay.scan', () =>
        this.doc.send(
          new ScanCommand({
            TableName: this.tableName,
            ConsistentRead: true,
            FilterExpression: filter,
            ExpressionAttributeNames: { '#kind': 'kind' },
            ExpressionAttributeValues: values,
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      for (const i of r.Items ?? []) out.push(parse(i));
      startKey = r.LastEvaluatedKey;
    } while (startKey);
    return out;
  }

  async listJobs(): Promise<ReplayJob[]> {
    const jobs = await this.scan('#kind = :k', { ':k': 'job' }, (i) => ReplayJobSchema.parse(i));
    return jobs.sort((a, b) => b.createdAt - a.createdAt || a.jobId.localeCompare(b.jobId));
  }

  async claim(jobId: string, runner: ReplayRunner, previousRunId: string | undefined): Promise<boolean> {
    return conditional('replay.claim', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { jobId },
          UpdateExpression: 'SET #status = :running, runner = :runner, runs = runs + :one, updatedAt = :now REMOVE #error, finishedAt, progress',
          ConditionExpression:
            previousRunId === undefined
              ? 'attribute_exists(jobId) AND attribute_not_exists(runner)'
              : 'attribute_exists(jobId) AND runner.runId = :previous',
          ExpressionAttributeNames: { '#status': 'status', '#error': 'error' },
          ExpressionAttributeValues: {
            ':running': 'running',
            ':runner': ReplayRunnerSchema.parse(runner),
            ':one': 1,
            ':now': runner.startedAt,
            ...(previousRunId === undefined ? {} : { ':previous': previousRunId }),
          },
        }),
      ),
    );
  }

  async heartbeat(jobId: string, runId: string, progress: ReplayProgress | undefined, nowMs: number): Promise<ReplayJob | undefined> {
    try {
      const r = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { jobId },
          UpdateExpression: `SET runner.heartbeatAt = :now, updatedAt = :now${progress ? ', progress = :progress' : ''}`,
          ConditionExpression: 'runner.runId = :run',
          ExpressionAttributeValues: { ':now': nowMs, ':run': runId, ...(progress ? { ':progress': ReplayProgressSchema.parse(progress) } : {}) },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return ReplayJobSchema.parse(r.Attributes);
    } catch (err) {
      if ((err as Error).name === 'ConditionalCheckFailedException') return undefined;
      return dynamo('replay.heartbeat', () => Promise.reject(err));
    }
  }

  async finish(
    jobId: string,
    runId: string,
    end: { status: ReplayStatus; activeMs: number; summary?: ReplaySummary; error?: string },
    nowMs: number,
  ): Promise<boolean> {
    const set = ['#status = :status', 'updatedAt = :now', 'activeMs = :active', 'runner.heartbeatAt = :now'];
    const values: Record<string, unknown> = { ':status': end.status, ':now': nowMs, ':active': end.activeMs, ':run': runId };
    const remove: string[] = [];
    if (end.summary) {
      set.push('summary = :summary');
      values[':summary'] = ReplaySummarySchema.parse(end.summary);
    }
    if (end.error) {
      set.push('#error = :error');
      values[':error'] = end.error.slice(0, 2_000);
    } else remove.push('#error');
    if (end.status === 'completed' || end.status === 'failed' || end.status === 'cancelled') {
      set.push('finishedAt = :now');
    }
    return conditional('replay.finish', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { jobId },
          UpdateExpression: `SET ${set.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''}`,
          ConditionExpression: 'runner.runId = :run',
          ExpressionAttributeNames: { '#status': 'status', '#error': 'error' },
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }

  async cancel(jobId: string, nowMs: number): Promise<ReplayJob | undefined> {
    const ok = await conditional('replay.cancel', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { jobId },
          UpdateExpression: 'SET #status = :cancelled, updatedAt = :now',
          ConditionExpression: 'attribute_exists(jobId) AND #status <> :completed',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':cancelled': 'cancelled', ':completed': 'completed', ':now': nowMs },
        }),
      ),
    );
    const job = await this.getJob(jobId);
    if (!ok && job && job.status !== 'completed') throw new Error(`replay job ${jobId}: cancel raced with another update; try again`);
    return job;
  }

  async getCursor(jobId: string, partition: string): Promise<ReplayCursor | undefined> {
    const r = await dynamo('replay.cursor.get', () =>
      this.doc.send(new GetCommand({ TableName: this.tableName, Key: { jobId: cursorKey(jobId, partition) }, ConsistentRead: true })),
    );
    return r.Item ? ReplayCursorSchema.parse(r.Item) : undefined;
  }

  async putCursor(cursor: ReplayCursor): Promise<void> {
    const item = ReplayCursorSchema.parse(cursor);
    await dynamo('replay.cursor.put', () => this.doc.send(new PutCommand({ TableName: this.tableName, Item: item })));
  }

  stateStore(jobId: string): StateStore {
    return new ReplayStateStore(this.doc, this.tableName, jobId);
  }

  async listStates(jobId: string): Promise<PumpStateItem[]> {
    return this.stateStore(jobId).list();
  }
}

/** A replay job's condition chain per pump, with the same optimistic locking as the live state table. */
class ReplayStateStore implements StateStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly jobId: string,
  ) {}

  async get(pumpId: string): Promise<PumpStateItem | undefined> {
    const r = await dynamo('replay.state.get', () =>
      this.doc.send(new GetCommand({ TableName: this.tableName, Key: { jobId: stateKey(this.jobId, pumpId) }, ConsistentRead: true })),
    );
    return r.Item ? StateItemSchema.parse(r.Item).state : undefined;
  }

  async put(next: PumpStateItem, expectedVersion: number): Promise<boolean> {
    const item = StateItemSchema.parse({ jobId: stateKey(this.jobId, next.pumpId), kind: 'state', job: this.jobId, pumpId: next.pumpId, version: next.version, state: next });
    return conditional('replay.state.put', () =>
      this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ...(expectedVersion === 0
            ? { ConditionExpression: 'attribute_not_exists(jobId)' }
            : { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': expectedVersion } }),
        }),
      ),
    );
  }

  async list(): Promise<PumpStateItem[]> {
    const out: PumpStateItem[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const r = await dynamo('replay.state.scan', () =>
        this.doc.send(
          new ScanCommand({
            TableName: this.tableName,
            ConsistentRead: true,
            FilterExpression: '#kind = :k AND #job = :job',
            ExpressionAttributeNames: { '#kind': 'kind', '#job': 'job' },
            ExpressionAttributeValues: { ':k': 'state', ':job': this.jobId },
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      for (const i of r.Items ?? []) out.push(StateItemSchema.parse(i).state);
      startKey = r.LastEvaluatedKey;
    } while (startKey);
    return out.sort((a, b) => a.pumpId.localeCompare(b.pumpId));
  }
}
