import type { Lease } from './lease';
import type { LeaseStore } from './lease-store';

/**
 * A LeaseStore in memory, with the same conditional semantics as the DynamoDB one. For unit
 * tests of the coordinator and for single-process tools; `failNext` simulates a write whose
 * response was lost (the write happened, the caller sees a failed condition).
 */
export class InMemoryLeaseStore implements LeaseStore {
  private readonly items = new Map<string, Lease>();
  /** Number of upcoming successful writes that report failure anyway (lost responses). */
  loseNextResponses = 0;

  private commit(key: string, next: Lease): boolean {
    this.items.set(key, next);
    if (this.loseNextResponses > 0) {
      this.loseNextResponses -= 1;
      return false;
    }
    return true;
  }

  private matches(lease: Lease): Lease | undefined {
    const cur = this.items.get(lease.leaseKey);
    if (!cur || cur.leaseCounter !== lease.leaseCounter || cur.leaseOwner !== lease.leaseOwner) return undefined;
    return cur;
  }

  async list(applicationName: string): Promise<Lease[]> {
    return [...this.items.values()].filter((l) => l.applicationName === applicationName).map((l) => ({ ...l }));
  }

  async get(leaseKey: string): Promise<Lease | undefined> {
    const l = this.items.get(leaseKey);
    return l ? { ...l } : undefined;
  }

  async create(lease: Lease): Promise<boolean> {
    if (this.items.has(lease.leaseKey)) return false;
    this.items.set(lease.leaseKey, { ...lease });
    return true;
  }

  async renew(lease: Lease): Promise<boolean> {
    const cur = this.matches(lease);
    return cur ? this.commit(lease.leaseKey, { ...cur, leaseCounter: cur.leaseCounter + 1 }) : false;
  }

  async take(lease: Lease, newOwner: string): Promise<boolean> {
    const cur = this.matches(lease);
    if (!cur) return false;
    const { pendingOwner: _p, ...rest } = cur;
    return this.commit(lease.leaseKey, { ...rest, leaseOwner: newOwner, leaseCounter: cur.leaseCounter + 1, ownerSwitchesSinceCheckpoint: cur.ownerSwitchesSinceCheckpoint + 1 });
  }

  async requestHandover(lease: Lease, newOwner: string): Promise<boolean> {
    const cur = this.matches(lease);
    if (!cur || cur.pendingOwner) return false;
    return this.commit(lease.leaseKey, { ...cur, pendingOwner: newOwner, leaseCounter: cur.leaseCounter + 1 });
  }

  async handOver(lease: Lease): Promise<boolean> {
    const cur = this.matches(lease);
    if (!cur || !cur.pendingOwner || cur.pendingOwner !== lease.pendingOwner) return false;
    const { pendingOwner, ...rest } = cur;
    return this.commit(lease.leaseKey, { ...rest, leaseOwner: pendingOwner, leaseCounter: cur.leaseCounter + 1, ownerSwitchesSinceCheckpoint: cur.ownerSwitchesSinceCheckpoint + 1 });
  }

  async checkpoint(lease: Lease, checkpoint: string, subSequenceNumber: number): Promise<boolean> {
    const cur = this.matches(lease);
    if (!cur) return false;
    return this.commit(lease.leaseKey, { ...cur, checkpoint, checkpointSubSequenceNumber: subSequenceNumber, ownerSwitchesSinceCheckpoint: 0, leaseCounter: cur.leaseCounter + 1 });
  }

  async release(lease: Lease): Promise<boolean> {
    const cur = this.matches(lease);
    if (!cur) return false;
    const { leaseOwner: _o, pendingOwner: _p, ...rest } = cur;
    return this.commit(lease.leaseKey, { ...rest, leaseCounter: cur.leaseCounter + 1 });
  }

  async setChildren(leaseKey: string, childShardIds: string[]): Promise<void> {
    const cur = this.items.get(leaseKey);
    if (cur) this.items.set(leaseKey, { ...cur, childShardIds });
  }

  async delete(leaseKey: string): Promise<void> {
    this.items.delete(leaseKey);
  }

  /** Test helper: write a lease as another worker would. */
  put(lease: Lease): void {
    this.items.set(lease.leaseKey, { ...lease });
  }
}
