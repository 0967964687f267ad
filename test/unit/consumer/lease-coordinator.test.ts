import pino from 'pino';
import { ManualClock } from '../../../shared/clock';
import { type Lease, leaseKeyOf, newLease } from '../../../services/consumer/leases/lease';
import { LeaseCoordinator, LeaseLostError } from '../../../services/consumer/leases/lease-coordinator';
import { InMemoryLeaseStore } from '../../../services/consumer/leases/in-memory-lease-store';

const APP = 'app';
const log = pino({ level: 'silent' });

function lease(shardId: string, overrides: Partial<Lease> = {}): Lease {
  return { ...newLease(APP, shardId, { checkpoint: 'TRIM_HORIZON', startingHashKey: '0', endingHashKey: '1' }), ...overrides };
}

function coordinator(store: InMemoryLeaseStore, clock: ManualClock, workerId: string): LeaseCoordinator {
  return new LeaseCoordinator(store, clock, { applicationName: APP, workerId, failoverTimeMs: 10_000, maxLeasesForWorker: 100, maxLeasesToStealAtOneTime: 1 }, log);
}

describe('LeaseCoordinator', () => {
  it('takes unowned leases up to its fair share', async () => {
    const store = new InMemoryLeaseStore();
    const clock = new ManualClock(0);
    for (let i = 0; i < 4; i++) store.put(lease(`s${i}`));
    store.put(lease('s9', { leaseOwner: 'other', leaseCounter: 5 }));
    const c = coordinator(store, clock, 'me');
    await c.takeLeases();
    // 5 leases, 2 workers (me + other): target ceil(5/2) = 3
    expect(c.heldShardIds()).toHaveLength(3);
  });

  it('takes a lease only after its counter has stood still for the failover time (local clock)', async () => {
    const store = new InMemoryLeaseStore();
    const clock = new ManualClock(0);
    store.put(lease('s0', { leaseOwner: 'dead', leaseCounter: 7 }));
    const c = coordinator(store, clock, 'me');
    await c.takeLeases(); // first observation
    clock.advance(10_000);
    await c.takeLeases();
    expect(c.heldShardIds()).toEqual([]); // not yet: must be more than failover
    clock.advance(1);
    await c.takeLeases();
    expect(c.heldShardIds()).toEqual(['s0']);
    expect((await store.get(leaseKeyOf(APP, 's0')))!.ownerSwitchesSinceCheckpoint).toBe(1);
  });

  it('says when the next watched lease would expire, so the taker need not wait a whole interval', async () => {
    const store = new InMemoryLeaseStore();
    const clock = new ManualClock(1_000);
    store.put(lease('s0', { leaseOwner: 'other', leaseCounter: 3 }));
    const c = coordinator(store, clock, 'me');
    await c.takeLeases();
    expect(c.nextExpiryAt()).toBe(1_000 + 10_000 + 1);
    clock.set(1_000 + 10_000 + 1);
    await c.takeLeases();
    expect(c.heldShardIds()).toEqual(['s0']);
  });

  it('does not take a lease whose owner keeps renewing', async () => {
    const store = new InMemoryLeaseStore();
    const clock = new ManualClock(0);
    store.put(lease('s0', { leaseOwner: 'alive', leaseCounter: 1 }));
    const c = coordinator(store, clock, 'me');
    for (let i = 0; i < 5; i++) {
      await c.takeLeases();
      clock.advance(6_000);
      const cur = (await store.get(leaseKeyOf(APP, 's0')))!;
      store.put({ ...cur, leaseCounter: cur.leaseCounter + 1 });
    }
    expect(c.heldShardIds()).toEqual([]);
  });

  it('steals one lease at a time, gracefully, from the most loaded worker (KCL rule)', async () => {
    const store = new InMemoryLeaseStore();
    const clock = new ManualClock(0);
    for (let i = 0; i < 6; i++) store.put(lease(`s${i}`, { leaseOwner: i < 2 ? 'w1' : i < 4 ? 'w2' : 'w3', leaseCounter: 1 }));
    const c = coordinator(store, clock, 'w4');
    await c.takeLeases();
    const pending = (await store.list(APP)).filter((l) => l.pendingOwner === 'w4');
    // target ceil(6/4) = 2; nobody is over target, but w4 needs 2: steal exactly one
    expect(pending).toHaveLength(1);
    expect(c.heldShardIds()).toEqual([]); // not ours until the owner hands it over
  });

  it('hands a lease over when asked, and the taker adopts it', async () => {
    const store = new InMemoryLeaseStore();
    const clock = new ManualClock(0);
    store.put(lease('s0'));
    const owner = coordinator(store, clock, 'owner');
    await owner.takeLeases();
    const taker = coordinator(store, clock, 'taker');
    await store.requestHandover((await store.get(leaseKeyOf(APP, 's0')))!, 'taker');
    await owner.renewAll(); // the renewal sees the request
    expect(owner.handoverRequested('s0')).toBe(true);
    await owner.handOver('s0');
    expect(owner.heldShardIds()).toEqual([]);
    await taker.takeLeases();
    expect(taker.heldShardIds()).toEqual(['s0']);
  });

  it('treats a renewal whose response was lost as a success after re-reading', async () => {
    const store = new InMemoryLeaseStore();
    const clock = new ManualClock(0);
    store.put(lease('s0'));
    const c = coordinator(store, clock, 'me');
    await c.takeLeases();
    store.loseNextResponses = 1;
    await c.renewAll();
    expect(c.heldShardIds()).toEqual(['s0']);
    // and the next renewal uses the right counter
    await c.renewAll();
    expect((await store.get(leaseKeyOf(APP, 's0')))!.leaseCounter).toBe(3);
  });

  it('drops a lease another worker took, and fences its checkpoints', async () => {
    const store = new InMemoryLeaseStore();
    const clock = new ManualClock(0);
    store.put(lease('s0'));
    const c = coordinator(store, clock, 'me');
    await c.takeLeases();
    const cur = (await store.get(leaseKeyOf(APP, 's0')))!;
    store.put({ ...cur, leaseOwner: 'thief', leaseCounter: cur.leaseCounter + 1 });
    await expect(c.checkpoint('s0', '123', 0)).rejects.toBeInstanceOf(LeaseLostError);
    expect((await store.get(leaseKeyOf(APP, 's0')))!.checkpoint).toBe('TRIM_HORIZON');
    expect(c.heldShardIds()).toEqual([]);
  });

  it('stops treating a lease as valid when renewals keep failing (self-fencing)', async () => {
    const store = new InMemoryLeaseStore();
    const clock = new ManualClock(0);
    store.put(lease('s0'));
    const c = coordinator(store, clock, 'me');
    await c.takeLeases();
    expect(c.isValid('s0')).toBe(true);
    clock.advance(8_000 - 1);
    expect(c.isValid('s0')).toBe(true);
    clock.advance(1); // failover 10 s minus a 2 s margin: others may expire it from 10 s
    expect(c.isValid('s0')).toBe(false);
  });

  it('holds a lease found under its own name only after renewing it', async () => {
    const store = new InMemoryLeaseStore();
    const clock = new ManualClock(0);
    store.put(lease('s0', { leaseOwner: 'me', leaseCounter: 4 }));
    const c = coordinator(store, clock, 'me');
    // the renewal is refused (someone moved the counter meanwhile): not ours to process
    const renew = jest.spyOn(store, 'renew').mockResolvedValueOnce(false);
    await c.takeLeases();
    expect(c.heldShardIds()).toEqual([]);
    renew.mockRestore();
    await c.takeLeases();
    expect(c.heldShardIds()).toEqual(['s0']);
    expect((await store.get(leaseKeyOf(APP, 's0')))!.leaseCounter).toBe(5);
  });

  it('ignores leases of ended shards when computing its share', async () => {
    const store = new InMemoryLeaseStore();
    const clock = new ManualClock(0);
    store.put(lease('old', { checkpoint: 'SHARD_END' }));
    store.put(lease('s1'));
    const c = coordinator(store, clock, 'me');
    await c.takeLeases();
    expect(c.heldShardIds()).toEqual(['s1']);
  });
});
