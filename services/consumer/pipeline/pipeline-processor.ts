import type { Clock } from '../../../shared/clock';
import { backoffDelay, sleep } from '../../../shared/clock';
import type { WindowConfig } from '../../../shared/config';
import { isRetryableAwsError } from '../../../shared/errors';
import { type Faults, NO_FAULTS } from '../../../shared/faults';
import type { Logger } from '../../../shared/logging';
import { decodeTelemetry, type RejectReason, type Sample } from '../../../shared/schemas/telemetry';
import { type QuarantineItem, quarantineId, type QuarantineStore } from '../../../shared/stores/quarantine-store';
import { SPARSE_INDEX_PARTITIONS } from '../../../shared/tables';
import type { StateStore } from '../../../shared/stores/state-store';
import type { WindowStore } from '../../../shared/stores/window-store';
import { type ClosedWindow, Windower } from '../core/windowing';
import { hashKeyOf } from '../kinesis/aggregation';
import type { ExtendedSequenceNumber } from '../leases/lease';
import type { ConsumerRecord, InitializationInput, ProcessRecordsInput, ShardRecordProcessor, ShutdownInput } from '../processor';
import type { HandoffStore } from './handoff-store';
import type { PumpDirectory } from './pump-directory';
import type { RecordAudit } from './record-audit';
import type { WindowSink } from './window-sink';

export interface PipelineProcessorOptions {
  readonly window: WindowConfig;
  /** Attempts for a record whose processing throws, before it is quarantined. */
  readonly maxRecordAttempts: number;
  /** The reader counts as at the tip of the shard below this lag. */
  readonly atTipLagMs: number;
  readonly silenceSweepMs: number;
  /** Set when the processor serves a replay job instead of the live pipeline. */
  readonly replay?: ProcessorReplayMode;
}

/**
 * A replay job's mode (the same decode ▸ window ▸ sink path, over a bounded piece of history):
 * - time runs on the records' arrival times, not the wall clock: decode checks future timestamps
 *   against them, and a silent pump's windows close once the arrival time has moved past the idle
 *   timeout (as a live reader at the tip would have seen it; the composer may lengthen the timeout
 *   when arrival times are coarse, as for archive objects);
 * - only samples with event time in [fromMs, toMs) and, with `pumps`, records of those pumps are
 *   used (the others count as `filtered`); only windows wholly inside the range are emitted;
 *   undecodable records are quarantined when they arrived within the range;
 * - quarantine ids and items carry the job id; only the job's own UNSCORED windows are adopted;
 *   there is no NO_DATA sweep (silence is a live, processing-time notion).
 * {@link PipelineProcessor.endOfInput} closes the windows still open when the input ends.
 */
export interface ProcessorReplayMode {
  readonly jobId: string;
  readonly fromMs: number;
  readonly toMs: number;
  readonly pumps?: ReadonlySet<string>;
}

export interface PipelineProcessorDeps {
  readonly sink: WindowSink;
  readonly directory: PumpDirectory;
  readonly quarantine: QuarantineStore;
  readonly windows: WindowStore;
  readonly state: StateStore;
  readonly handoff: HandoffStore;
  readonly clock: Clock;
  readonly log: Logger;
  readonly faults?: Faults;
  readonly audit?: RecordAudit;
}

/** Counters of one shard's processing. */
export interface ProcessorStats {
  records: number;
  samples: number;
  duplicates: number;
  /** Records a replay skipped: another pump than asked for, or no sample in its time range. */
  filtered: number;
  quarantined: Partial<Record<RejectReason, number>>;
}

/**
 * The pumpwatch record processor: decode ▸ validate ▸ window ▸ sink, with the checkpoint kept at
 * or before the first record of the oldest open window. Nothing read is lost: every record ends
 * up in a window, in quarantine (with its reason), or counted as an exact duplicate.
 *
 * On SHARD_END the open windows are handed to the child shards' consumers (persisted first), so a
 * window split across parent and child is computed once and whole.
 */
export class PipelineProcessor implements ShardRecordProcessor {
  private windower: Windower;
  private shardId = '';
  private range = { start: 0n, end: 0n };
  /** Record positions since the last mark: positions[i] is position basePosition + i. */
  private positions: ExtendedSequenceNumber[] = [];
  private basePosition = 0;
  private nextPosition = 0;
  private lastSweep = 0;
  /** Replay: the newest arrival time read so far (the replay's clock). */
  private arrivalClock = 0;
  readonly stats: ProcessorStats = { records: 0, samples: 0, duplicates: 0, filtered: 0, quarantined: {} };

  constructor(
    private readonly options: PipelineProcessorOptions,
    private readonly deps: PipelineProcessorDeps,
  ) {
    this.windower = this.newWindower();
  }

  /** Pumps whose windows wait UNSCORED in this processor's sink. */
  get pendingPumps(): number {
    return this.deps.sink.pendingPumps;
  }

  private newWindower(): Windower {
    return new Windower({ window: this.options.window, sampleRateHz: (p) => this.deps.directory.sampleRateHz(p) });
  }

  private get faults(): Faults {
    return this.deps.faults ?? NO_FAULTS;
  }

  async initialize(input: InitializationInput): Promise<void> {
    this.shardId = input.shardId;
    this.range = input.hashKeyRange;
    this.windower = this.newWindower();
    const inRange = (pumpId: string): boolean => {
      const h = hashKeyOf(pumpId);
      return h >= this.range.start && h <= this.range.end;
    };
    const now = this.deps.clock.now();
    let imported = 0;
    for (const parent of input.parentShardIds) {
      for (const snapshot of await this.deps.handoff.load(parent)) {
        if (!inRange(snapshot.pumpId)) continue;
        this.windower.importPump(snapshot, now);
        imported += 1;
      }
    }
    const pending = [];
    const jobId = this.options.replay?.jobId;
    for (let i = 0; i < SPARSE_INDEX_PARTITIONS; i++) {
      for (const item of await this.deps.windows.listUnscored(`u${i}`)) {
        if (item.replayJobId === jobId && inRange(item.pumpId)) pending.push(item);
      }
    }
    this.deps.sink.adoptPending(pending);
    // Pumps of this shard that may fall silent without sending anything after a restart.
    if (!this.options.replay) this.deps.sink.watch((await this.deps.state.list()).map((st) => st.pumpId).filter(inRange));
    this.deps.log.info({ shardId: this.shardId, checkpoint: input.checkpoint.sequenceNumber, handedOverPumps: imported, unscoredWindows: pending.length }, 'shard processor initialized');
  }

  async processRecords(input: ProcessRecordsInput): Promise<void> {
    if (input.records.length > 0) this.faults.reach('after-read');
    const replay = this.options.replay;
    const now = this.deps.clock.now();
    for (const record of input.records) {
      // Live: the wall clock bounds future timestamps, the record's arrival time drives the idle
      // timeout (so a re-read closes the same windows). Replay: both run on arrival times.
      const arrival = replay ? this.arrivalOf(record) : (record.approximateArrivalTimestamp?.getTime() ?? now);
      await this.processRecord(record, replay ? arrival : now, arrival);
    }
    const closed = replay
      ? this.windower.poll(this.arrivalClock, true)
      : // At the tip, the idle clock may move to when the read was sent (less a margin for records
        // still becoming visible): later records, not yet read, cannot close a window early.
        this.windower.poll((input.readAtMs ?? now) - input.millisBehindLatest - this.options.atTipLagMs, input.millisBehindLatest < this.options.atTipLagMs);
    if (closed.length > 0) this.faults.reach('after-window');
    await this.handleClosed(closed);
    await this.deps.sink.retryPending();
    // Silence is judged only at the tip: a reader catching up would see every pump as silent.
    if (!replay && input.millisBehindLatest < this.options.atTipLagMs && now - this.lastSweep >= this.options.silenceSweepMs) {
      this.lastSweep = now;
      await this.deps.sink.sweepSilence(this.deps.sink.knownPumps());
    }
    this.markSafe(input.checkpointer);
    this.deps.audit?.flush(this.deps.clock.now());
  }

  /** Replay: the record's arrival time, which moves the replay's clock (the wall clock when unknown). */
  private arrivalOf(record: ConsumerRecord): number {
    const t = record.approximateArrivalTimestamp?.getTime();
    if (t !== undefined && Number.isFinite(t) && t > this.arrivalClock) this.arrivalClock = t;
    return this.arrivalClock > 0 ? this.arrivalClock : this.deps.clock.now();
  }

  /** Hands closed windows to the sink (a replay's only when they lie wholly inside its range). */
  private async handleClosed(closed: readonly ClosedWindow[]): Promise<void> {
    const replay = this.options.replay;
    await this.deps.sink.handle(replay ? closed.filter((w) => w.windowStart >= replay.fromMs && w.windowEnd <= replay.toMs) : closed);
  }

  /** Processes one record, retrying a throwing record a few times before quarantining it. */
  private async processRecord(record: ConsumerRecord, now: number, arrival: number): Promise<void> {
    const position = this.nextPosition++;
    this.positions.push({ sequenceNumber: record.sequenceNumber, subSequenceNumber: record.subSequenceNumber });
    this.stats.records += 1;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.handleRecord(record, position, now, arrival);
        return;
      } catch (err) {
        if (attempt >= this.options.maxRecordAttempts) {
          this.deps.log.error({ shardId: this.shardId, sequenceNumber: record.sequenceNumber, err: (err as Error).message }, 'poison record quarantined');
          await this.quarantine(record, 'processing_failed', `${(err as Error).name}: ${(err as Error).message} (after ${attempt} attempts)`, record.data, record.partitionKey);
          this.audit(record, 'quarantined');
          return;
        }
        await sleep(backoffDelay(attempt, 50, 1_000));
      }
    }
  }

  private async handleRecord(record: ConsumerRecord, position: number, now: number, arrival: number): Promise<void> {
    const replay = this.options.replay;
    const decoded = decodeTelemetry(record.data, now, this.options.window.maxFutureSkewMs);
    if (!decoded.ok) {
      if (replay && !this.replayKeepsRejected(record, decoded.pumpId, now)) {
        this.stats.filtered += 1;
        return;
      }
      await this.quarantine(record, decoded.reason, decoded.detail, record.data, decoded.pumpId);
      this.audit(record, 'quarantined');
      return;
    }
    const { pumpId } = decoded.telemetry;
    let { samples } = decoded.telemetry;
    if (replay) {
      if (replay.pumps && !replay.pumps.has(pumpId)) {
        this.stats.filtered += 1;
        return;
      }
      samples = samples.filter((s) => s.ts >= replay.fromMs && s.ts < replay.toMs);
      if (samples.length === 0) {
        this.stats.filtered += 1;
        return;
      }
    }
    this.faults.checkPoison(pumpId);
    this.audit(record, 'windowed', samples[0]?.seq);
    // Windows need the pump's sample rate; fetching it first keeps add() synchronous.
    await this.deps.directory.get(pumpId);
    const late: Sample[] = [];
    for (const s of samples) {
      const outcome = this.windower.add(pumpId, s, position, arrival);
      if (outcome === 'late') late.push(s);
      else if (outcome === 'duplicate') this.stats.duplicates += 1;
      else this.stats.samples += 1;
    }
    if (late.length > 0) {
      const body = new TextEncoder().encode(JSON.stringify({ pumpId, samples: late }));
      await this.quarantine(record, 'late', `${late.length} of ${samples.length} samples arrived after their window closed`, body, pumpId, 1);
    }
  }

  /** Replay: a record that cannot be decoded is the job's when it arrived in its range (and is of its pumps). */
  private replayKeepsRejected(record: ConsumerRecord, pumpId: string | undefined, arrivalMs: number): boolean {
    const replay = this.options.replay!;
    if (replay.pumps && !replay.pumps.has(pumpId ?? record.partitionKey)) return false;
    return arrivalMs >= replay.fromMs && arrivalMs < replay.toMs;
  }

  private audit(record: ConsumerRecord, outcome: 'windowed' | 'quarantined', firstSampleSeq?: number): void {
    this.deps.audit?.add(
      {
        shardId: this.shardId,
        sequenceNumber: record.sequenceNumber,
        subSequenceNumber: record.subSequenceNumber,
        partitionKey: record.partitionKey,
        outcome,
        ...(firstSampleSeq === undefined ? {} : { firstSampleSeq }),
      },
      this.deps.clock.now(),
    );
  }

  private async quarantine(record: ConsumerRecord, reason: RejectReason, detail: string, data: Uint8Array, pumpId?: string, part = 0): Promise<void> {
    const jobId = this.options.replay?.jobId;
    const id = quarantineId(this.shardId, record.sequenceNumber, record.subSequenceNumber, part);
    const item: QuarantineItem = {
      // A replay's items are its own: the live pipeline may have quarantined the same record.
      id: jobId ? `r#${jobId}#${id}` : id,
      reason,
      detail: detail.slice(0, 2_000),
      ...(pumpId ? { pumpId } : {}),
      shardId: this.shardId,
      sequenceNumber: record.sequenceNumber,
      subSequenceNumber: record.subSequenceNumber,
      data: Buffer.from(data).toString('base64'),
      receivedAt: this.deps.clock.now(),
      status: 'quarantined',
      ...(jobId ? { replayJobId: jobId } : {}),
    };
    for (let attempt = 0; ; attempt++) {
      try {
        if (await this.deps.quarantine.add(item)) this.stats.quarantined[reason] = (this.stats.quarantined[reason] ?? 0) + 1;
        return;
      } catch (err) {
        if (!isRetryableAwsError(err) || attempt >= 8) throw err;
        await sleep(backoffDelay(attempt, 100, 5_000));
      }
    }
  }

  /** Marks the newest position whose effects are all durable: just before the oldest open window. */
  private markSafe(checkpointer: ProcessRecordsInput['checkpointer']): void {
    const oldest = this.windower.oldestOpenPosition();
    const safe = oldest === undefined ? this.nextPosition - 1 : oldest - 1;
    if (safe < this.basePosition) return;
    const pos = this.positions[safe - this.basePosition]!;
    this.positions = this.positions.slice(safe - this.basePosition + 1);
    this.basePosition = safe + 1;
    this.faults.reach('before-checkpoint');
    checkpointer.mark(pos);
  }

  async leaseLost(): Promise<void> {
    // Open windows are dropped: the next owner re-reads from our last checkpoint.
    this.windower = this.newWindower();
  }

  async shardEnded(input: ShutdownInput): Promise<void> {
    const closed = this.windower.poll(this.deps.clock.now(), false);
    await this.handleClosed(closed);
    await this.deps.sink.retryPending();
    const snapshots = this.windower.exportPumps();
    await this.deps.handoff.save(this.shardId, snapshots, this.deps.clock.now());
    this.deps.log.info({ shardId: this.shardId, pumps: snapshots.length, windows: snapshots.reduce((n, s) => n + s.windows.length, 0) }, 'open windows handed to child shards');
    this.markSafe(input.checkpointer);
    await input.checkpointer.flush();
    await input.checkpointer.checkpointShardEnd();
  }

  async shutdownRequested(input: ShutdownInput): Promise<void> {
    // Drain what is due, then checkpoint before the oldest open window; the next owner re-reads it.
    const closed = this.windower.poll(this.deps.clock.now(), false);
    await this.handleClosed(closed);
    this.markSafe(input.checkpointer);
    await input.checkpointer.flush();
  }

  /**
   * The input ends (a replay reached the end of its range): closes every open window, retries
   * UNSCORED windows until none is left or `drainTimeoutMs` passes, then checkpoints everything
   * read. Resolves with the number of pumps still holding UNSCORED windows (0 when all scored);
   * those stay stored UNSCORED and are adopted by the next run.
   */
  async endOfInput(input: ShutdownInput & { readonly drainTimeoutMs: number; readonly signal?: AbortSignal }): Promise<number> {
    const closed = this.windower.flush();
    if (closed.length > 0) this.faults.reach('after-window');
    await this.handleClosed(closed);
    const deadline = this.deps.clock.now() + input.drainTimeoutMs;
    await this.deps.sink.retryPending();
    while (this.deps.sink.pendingPumps > 0 && this.deps.clock.now() < deadline && !input.signal?.aborted) {
      await sleep(200, input.signal).catch(() => undefined);
      await this.deps.sink.retryPending();
    }
    this.markSafe(input.checkpointer);
    await input.checkpointer.flush();
    return this.deps.sink.pendingPumps;
  }
}
