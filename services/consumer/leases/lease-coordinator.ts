import type { Clock } from '../../../shared/clock';
import { PumpwatchError } from '../../../shared/errors';
import type { Logger } from '../../../shared/logging';
import type { Lease } from './lease';
import type { LeaseStore } from './lease-store';

/** The worker no longer owns the lease: it must stop processing and must not checkpoint. */
export class LeaseLostError extends PumpwatchError {
  constructor(shardId: string, cause?: unknown) {
    super(`lease for ${shardId} lost`, { code: 'LEASE_LOST', cause });
  }
}

export interface LeaseCoordinatorOptions {
  readonly applicationName: string;
  readonly workerId: string;
  /** A lease whose counter has not moved for this long (local clock) is expired. KCL: 10 s. */
  readonly failoverTimeMs: number;
  readonly maxLeasesForWorker: number;
  readonly maxLeasesToStealAtOneTime: number;
}

/** A lease this worker holds, with what the coordinator knows about it. */
interface Held {
  lease: Lease;
  /** When the last successful renewal was sent (local clock): the lease is valid until this + failover. */
  validFrom: number;
  /** Another worker asked for it; the consumer should drain and hand it over. */
  handoverRequested: boolean;
  /** Serializes writes to one lease (renew, checkpoint, hand-over) so the counter stays consistent. */
  chain: Promise<unknown>;
}

interface Observation {
  counter: number;
  observedAt: number;
}

/**
 * Takes, renews, steals and releases shard leases (KCL's LeaseCoordinator: taker + renewer over
 * a LeaseStore). Expiry is measured on the local clock: a lease is expired when its counter has
 * not changed for failoverTimeMs since this worker first saw that counter value.
 *
 * Stealing is graceful: the taker sets `pendingOwner`; the owner sees it on its next renewal,
 * drains its shard consumer, checkpoints and hands the lease over. So two workers never process
 * one shard at the same time, and a worker that cannot renew stops processing (self-fencing)
 * before anyone else may take its lease.
 */
export class LeaseCoordinator {
  private readonly held = new Map<string, Held>();
  private readonly observations = new Map<string, Observation>();
  private stopped = false;
  private nextExpiry: number | undefined;

  constructor(
    private readonly store: LeaseStore,
    private readonly clock: Clock,
    private readonly options: LeaseCoordinatorOptions,
    private readonly log: Logger,
  ) {}

  get workerId(): string {
    return this.options.workerId;
  }

  /** Stop taking new leases (shutdown). Held leases stay until released. */
  stopTaking(): void {
    this.stopped = true;
  }

  /** Shard ids of the leases held right now. */
  heldShardIds(): string[] {
    return [...this.held.keys()].sort();
  }

  heldLease(shardId: string): Lease | undefined {
    return this.held.get(shardId)?.lease;
  }

  handoverRequested(shardId: string): boolean {
    return this.held.get(shardId)?.handoverRequested ?? false;
  }

  /**
   * True while the lease is held and was renewed recently enough that nobody else can have taken
   * it. The margin keeps a worker from acting right up to the moment others may expire the lease.
   */
  isValid(shardId: string): boolean {
    const h = this.held.get(shardId);
    if (!h) return false;
    const margin = Math.max(500, this.options.failoverTimeMs / 5);
    return this.clock.now() - h.validFrom < this.options.failoverTimeMs - margin;
  }

  private serialize<T>(h: Held, fn: () => Promise<T>): Promise<T> {
    const next = h.chain.then(fn, fn);
    h.chain = next.catch(() => undefined);
    return next;
  }

  /** Renews every held lease once. Leases that turn out lost are dropped. */
  async renewAll(): Promise<void> {
    await Promise.all([...this.held.keys()].map((shardId) => this.renew(shardId)));
  }

  private async renew(shardId: string): Promise<void> {
    const h = this.held.get(shardId);
    if (!h) return;
    await this.serialize(h, async () => {
      if (this.held.get(shardId) !== h) return;
      const sentAt = this.clock.now();
      try {
        if (await this.store.renew(h.lease)) {
          h.lease = { ...h.lease, leaseCounter: h.lease.leaseCounter + 1 };
          h.validFrom = sentAt;
          return;
        }
        // The condition failed: re-read, since a retried success looks the same as a loss.
        const current = await this.store.get(h.lease.leaseKey);
        if (current && current.leaseOwner === this.options.workerId) {
          h.lease = current;
          h.validFrom = sentAt;
          if (current.pendingOwner && !h.handoverRequested) {
            h.handoverRequested = true;
            this.log.info({ shardId, pendingOwner: current.pendingOwner }, 'lease hand-over requested');
          }
          return;
        }
        this.drop(shardId, 'renewal lost');
      } catch (err) {
        // Transient failures leave the lease held; isValid() turns false if renewals keep failing.
        this.log.warn({ shardId, err }, 'lease renewal failed');
      }
    });
  }

  private drop(shardId: string, why: string): void {
    if (this.held.delete(shardId)) this.log.warn({ shardId, why }, 'lease lost');
  }

  /**
   * One taker pass: observe all leases, take expired ones up to this worker's fair share
   * (ceil(leases / workers)), and if none are free, ask the most loaded worker for one.
   */
  async takeLeases(): Promise<string[]> {
    if (this.stopped) return [];
    const all = await this.store.list(this.options.applicationName);
    // Read after the scan: an observation must not be dated before the moment it was made.
    const now = this.clock.now();
    const active = all.filter((l) => l.checkpoint !== 'SHARD_END');
    const expired: Lease[] = [];
    const owners = new Map<string, Lease[]>();
    for (const lease of active) {
      const seen = this.observations.get(lease.leaseKey);
      if (!seen || seen.counter !== lease.leaseCounter) {
        this.observations.set(lease.leaseKey, { counter: lease.leaseCounter, observedAt: now });
      }
      const observedAt = this.observations.get(lease.leaseKey)!.observedAt;
      const isExpired = lease.leaseOwner === undefined || (!!seen && now - observedAt > this.options.failoverTimeMs);
      if (lease.leaseOwner === this.options.workerId) {
        // Ours in the table but not held here: a hand-over to us has completed (or we dropped it
        // after failed renewals). It counts as held only from a successful renewal, never from
        // the scan, so a worker that could not write cannot grant itself validity.
        if (!this.held.has(lease.shardId)) await this.adoptByRenewal(lease);
        continue;
      }
      if (isExpired) expired.push(lease);
      else if (lease.leaseOwner) owners.set(lease.leaseOwner, [...(owners.get(lease.leaseOwner) ?? []), lease]);
    }
    // Leases of shards that are gone from the table are forgotten.
    const keys = new Set(all.map((l) => l.leaseKey));
    for (const k of this.observations.keys()) if (!keys.has(k)) this.observations.delete(k);

    // When the next lease we watch would expire: the scheduler runs the taker then, rather than
    // up to a whole taker interval later, so a takeover needs failover + one interval at most.
    this.nextExpiry = undefined;
    for (const leases of owners.values()) {
      for (const l of leases) {
        const at = this.observations.get(l.leaseKey)!.observedAt + this.options.failoverTimeMs + 1;
        if (this.nextExpiry === undefined || at < this.nextExpiry) this.nextExpiry = at;
      }
    }
    const workers = owners.size + 1;
    const target = Math.min(this.options.maxLeasesForWorker, Math.ceil(active.length / workers));
    const mine = this.held.size;
    let needed = target - mine;
    const taken: string[] = [];
    if (needed <= 0) return taken;

    // Spread takeovers: shuffle so simultaneous takers rarely race for the same lease.
    for (const lease of shuffle(expired)) {
      if (needed <= 0) break;
      const sentAt = this.clock.now();
      if (await this.store.take(lease, this.options.workerId)) {
        const newLease: Lease = {
          ...lease,
          leaseOwner: this.options.workerId,
          leaseCounter: lease.leaseCounter + 1,
          ownerSwitchesSinceCheckpoint: lease.ownerSwitchesSinceCheckpoint + 1,
          pendingOwner: undefined,
        };
        this.adopt(newLease, sentAt);
        taken.push(lease.shardId);
        needed -= 1;
        this.log.info({ shardId: lease.shardId, previousOwner: lease.leaseOwner ?? null }, 'lease taken');
      }
    }
    if (taken.length > 0 || expired.length > 0) return taken;

    // Nothing free: steal from the most loaded worker (KCL's rule).
    let victim: Lease[] = [];
    for (const leases of owners.values()) if (leases.length > victim.length) victim = leases;
    if (victim.length < target) return taken;
    let toSteal = Math.min(needed, victim.length - target);
    if (needed > 1 && toSteal === 0) toSteal = 1;
    toSteal = Math.min(toSteal, this.options.maxLeasesToStealAtOneTime);
    for (const lease of shuffle(victim.filter((l) => l.pendingOwner === undefined)).slice(0, toSteal)) {
      if (await this.store.requestHandover(lease, this.options.workerId)) {
        this.log.info({ shardId: lease.shardId, owner: lease.leaseOwner }, 'lease hand-over requested from owner');
      }
    }
    return taken;
  }

  /** Holds a lease, valid from `validFrom`: the send time of the write that made it ours. */
  private adopt(lease: Lease, validFrom: number): void {
    this.held.set(lease.shardId, { lease, validFrom, handoverRequested: false, chain: Promise.resolve() });
  }

  private async adoptByRenewal(lease: Lease): Promise<void> {
    const sentAt = this.clock.now();
    try {
      if (await this.store.renew(lease)) {
        this.adopt({ ...lease, leaseCounter: lease.leaseCounter + 1 }, sentAt);
        // A hand-over to another worker was asked for and not finished: finish it first.
        if (lease.pendingOwner) this.held.get(lease.shardId)!.handoverRequested = true;
        this.log.info({ shardId: lease.shardId }, 'lease adopted');
      }
    } catch (err) {
      this.log.warn({ shardId: lease.shardId, err }, 'lease adoption failed');
    }
  }

  /** The local time at which the next watched lease would expire, if any. */
  nextExpiryAt(): number | undefined {
    return this.nextExpiry;
  }

  /** Moves the checkpoint of a held lease. Throws LeaseLostError when the lease is gone. */
  async checkpoint(shardId: string, checkpoint: string, subSequenceNumber: number): Promise<void> {
    const h = this.held.get(shardId);
    if (!h) throw new LeaseLostError(shardId);
    await this.serialize(h, async () => {
      for (let attempt = 0; attempt < 3; attempt++) {
        if (this.held.get(shardId) !== h) throw new LeaseLostError(shardId);
        if (await this.store.checkpoint(h.lease, checkpoint, subSequenceNumber)) {
          h.lease = { ...h.lease, leaseCounter: h.lease.leaseCounter + 1, checkpoint, checkpointSubSequenceNumber: subSequenceNumber, ownerSwitchesSinceCheckpoint: 0 };
          return;
        }
        const current = await this.store.get(h.lease.leaseKey);
        if (!current || current.leaseOwner !== this.options.workerId) {
          this.drop(shardId, 'checkpoint fenced');
          throw new LeaseLostError(shardId);
        }
        if (current.checkpoint === checkpoint && current.checkpointSubSequenceNumber === subSequenceNumber) {
          h.lease = current; // our earlier attempt succeeded
          return;
        }
        h.lease = current;
        if (current.pendingOwner) h.handoverRequested = true;
      }
      throw new LeaseLostError(shardId);
    });
  }

  /** Hands a drained lease to the worker that asked for it. */
  async handOver(shardId: string): Promise<void> {
    const h = this.held.get(shardId);
    if (!h) return;
    await this.serialize(h, async () => {
      const ok = await this.store.handOver(h.lease);
      if (!ok) {
        const current = await this.store.get(h.lease.leaseKey);
        if (current?.leaseOwner === this.options.workerId && current.pendingOwner) await this.store.handOver(current);
      }
      this.held.delete(shardId);
      this.log.info({ shardId, to: h.lease.pendingOwner ?? null }, 'lease handed over');
    });
  }

  /** Releases a lease (graceful shutdown), so another worker can take it at once. */
  async release(shardId: string): Promise<void> {
    const h = this.held.get(shardId);
    if (!h) return;
    await this.serialize(h, async () => {
      try {
        if (h.lease.pendingOwner || h.handoverRequested) {
          const current = await this.store.get(h.lease.leaseKey);
          if (current?.leaseOwner === this.options.workerId && current.pendingOwner) {
            await this.store.handOver(current);
            return;
          }
        }
        if (!(await this.store.release(h.lease))) {
          const current = await this.store.get(h.lease.leaseKey);
          if (current?.leaseOwner === this.options.workerId) await this.store.release(current);
        }
      } finally {
        this.held.delete(shardId);
      }
    });
    this.log.info({ shardId }, 'lease released');
  }

  /** Forgets a lease after its shard ended (the lease stays in the table at SHARD_END). */
  forget(shardId: string): void {
    this.held.delete(shardId);
  }
}

function shuffle<T>(items: T[]): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}
