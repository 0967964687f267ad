import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { conditional } from '../../shared/aws/dynamo-errors';
import { type Clock, systemClock } from '../../shared/clock';
import { getLogger, type Logger } from '../../shared/logging';
import type { InferenceRequest, InferenceResponse } from '../../shared/schemas/inference';
import { type ModelRegistry, type ModelVersion, pumpModelGroup } from '../../shared/stores/model-registry';
import type { ModelRef, WindowItem, WindowStore } from '../../shared/stores/window-store';

/**
 * Shadow scoring of a pending version, so a data scientist can compare before approving: for
 * each pump whose own group holds a PendingManualApproval version newer than the version serving
 * it, the pump's recent SCORED windows are scored again with the pending version and the result
 * is stored beside the live score (`shadow` on the window item). Nothing else changes: no
 * condition, no state, no event. It runs off the hot path — a periodic job beside the window
 * sink, or on demand — and never on windows the live model has not scored yet, so it cannot
 * delay or alter live scoring.
 */

/** Stores a shadow score on a SCORED window (conditional: the window exists and is SCORED). */
export type ShadowWriter = (pumpId: string, sk: string, shadow: NonNullable<WindowItem['shadow']>) => Promise<boolean>;

/** The shadow writer on the window table. */
export function dynamoDbShadowWriter(doc: DynamoDBDocumentClient, tableName: string): ShadowWriter {
  return (pumpId, sk, shadow) =>
    conditional('window.shadow', () =>
      doc.send(
        new UpdateCommand({
          TableName: tableName,
          Key: { pumpId, sk },
          UpdateExpression: 'SET shadow = :shadow',
          ConditionExpression: 'attribute_exists(pumpId) AND #status = :scored',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':shadow': shadow, ':scored': 'SCORED' },
        }),
      ),
    );
}

export interface ShadowDeps {
  readonly registry: ModelRegistry;
  readonly windows: WindowStore;
  /** Scores windows of one pump with a TargetModel (the consumer's InferenceClient). */
  readonly inference: { score(targetModel: string, request: InferenceRequest): Promise<InferenceResponse> };
  readonly writeShadow: ShadowWriter;
  readonly clock?: Clock;
  readonly log?: Logger;
}

export interface ShadowOptions {
  /** Windows per InvokeEndpoint call (default 50). */
  readonly maxWindowsPerCall?: number;
  /** Also windows from this long before the pending version was registered (default 1 h). */
  readonly lookbackMs?: number;
}

/** What one shadow pass did for a pump. */
export interface ShadowPass {
  readonly pumpId: string;
  readonly pending: ModelRef | null;
  readonly scored: number;
  readonly error?: string;
}

/** A pending version's shadow scores against the live ones. */
export interface ShadowSummary {
  readonly windows: number;
  /** Windows whose level was WARNING/ALARM, live and in the shadow. */
  readonly liveFlagged: number;
  readonly shadowFlagged: number;
  /** Share of windows where both agree on flagged or not. */
  readonly agreement: number;
}

function flagged(s: { score: number; warningThreshold: number }): boolean {
  return s.score >= s.warningThreshold;
}

/** Compares shadow and live scores of windows (those with a shadow of `target`, or any). */
export function shadowSummary(items: readonly WindowItem[], target?: string): ShadowSummary {
  const both = items.filter((i) => i.score && i.shadow && (target === undefined || i.shadow.model.target === target));
  const live = both.filter((i) => flagged(i.score!)).length;
  const shadow = both.filter((i) => flagged(i.shadow!.score)).length;
  const agree = both.filter((i) => flagged(i.score!) === flagged(i.shadow!.score)).length;
  return { windows: both.length, liveFlagged: live, shadowFlagged: shadow, agreement: both.length > 0 ? agree / both.length : 1 };
}

export class ShadowScorer {
  private readonly clock: Clock;
  private readonly log: Logger;

  constructor(
    private readonly deps: ShadowDeps,
    private readonly options: ShadowOptions = {},
  ) {
    this.clock = deps.clock ?? systemClock;
    this.log = deps.log ?? getLogger('shadow');
  }

  /** The pump's pending version worth shadowing: newer than its newest Approved one. */
  async pendingVersion(pumpId: string): Promise<ModelVersion | undefined> {
    const versions = await this.deps.registry.list(pumpModelGroup(pumpId));
    const approved = versions.find((v) => v.status === 'Approved');
    return versions.find((v) => v.status === 'PendingManualApproval' && (!approved || v.version > approved.version));
  }

  /** One pass over some pumps; errors are reported per pump, not thrown. */
  async runOnce(pumpIds: Iterable<string>): Promise<ShadowPass[]> {
    const out: ShadowPass[] = [];
    for (const pumpId of pumpIds) out.push(await this.runPump(pumpId));
    return out;
  }

  private async runPump(pumpId: string): Promise<ShadowPass> {
    let pending: ModelVersion | undefined;
    try {
      pending = await this.pendingVersion(pumpId);
      if (!pending) return { pumpId, pending: null, scored: 0 };
      const ref: ModelRef = { modelId: pending.modelId, version: String(pending.version), target: pending.target };
      const since = pending.createdAt - (this.options.lookbackMs ?? 3_600_000);
      const todo = (await this.deps.windows.query(pumpId)).filter(
        (w) => w.status === 'SCORED' && w.createdAt >= since && w.model?.target !== pending!.target && w.shadow?.model.target !== pending!.target,
      );
      const per = this.options.maxWindowsPerCall ?? 50;
      let scored = 0;
      for (let i = 0; i < todo.length; i += per) {
        const batch = todo.slice(i, i + per);
        const r = await this.deps.inference.score(pending.target, { pumpId, windows: batch.map((w) => w.features) });
        for (const [k, w] of batch.entries()) if (await this.deps.writeShadow(pumpId, w.sk, { model: ref, score: r.results[k]! })) scored += 1;
      }
      if (scored > 0) this.log.info({ pumpId, model: pending.target, windows: scored, at: this.clock.now() }, 'pending version shadow-scored');
      return { pumpId, pending: ref, scored };
    } catch (err) {
      const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      this.log.warn({ pumpId, model: pending?.target, err: error }, 'shadow scoring failed');
      return { pumpId, pending: pending ? { modelId: pending.modelId, version: String(pending.version), target: pending.target } : null, scored: 0, error };
    }
  }
}
