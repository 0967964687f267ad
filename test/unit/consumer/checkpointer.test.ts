import pino from 'pino';
import { ManualClock } from '../../../shared/clock';
import { Checkpointer } from '../../../services/consumer/checkpointer';
import { newLease } from '../../../services/consumer/leases/lease';
import { LeaseCoordinator } from '../../../services/consumer/leases/lease-coordinator';
import { InMemoryLeaseStore } from '../../../services/consumer/leases/in-memory-lease-store';

async function setup() {
  const store = new InMemoryLeaseStore();
  const clock = new ManualClock(0);
  const l = newLease('app', 's0', { checkpoint: 'TRIM_HORIZON', startingHashKey: '0', endingHashKey: '1' });
  store.put(l);
  const coordinator = new LeaseCoordinator(store, clock, { applicationName: 'app', workerId: 'me', failoverTimeMs: 10_000, maxLeasesForWorker: 10, maxLeasesToStealAtOneTime: 1 }, pino({ level: 'silent' }));
  await coordinator.takeLeases();
  const cp = new Checkpointer('s0', coordinator, clock, { everyMarks: 3, everyMs: 1_000 }, undefined);
  const stored = async () => (await store.get(l.leaseKey))!;
  return { store, clock, cp, stored };
}

const pos = (n: number, sub = 0) => ({ sequenceNumber: String(n), subSequenceNumber: sub });

describe('Checkpointer', () => {
  it('marks locally and writes on the policy (marks or time)', async () => {
    const { clock, cp, stored } = await setup();
    cp.mark(pos(10));
    await cp.flushIfDue();
    expect((await stored()).checkpoint).toBe('TRIM_HORIZON');
    clock.advance(1_000);
    await cp.flushIfDue();
    expect((await stored()).checkpoint).toBe('10');
    cp.mark(pos(11));
    cp.mark(pos(12));
    cp.mark(pos(13));
    await cp.flushIfDue();
    expect((await stored()).checkpoint).toBe('13');
  });

  it('never moves backward', async () => {
    const { cp, stored } = await setup();
    cp.mark(pos(20, 3));
    await cp.flush();
    cp.mark(pos(20, 2));
    cp.mark(pos(19));
    await cp.flush();
    expect(await stored()).toMatchObject({ checkpoint: '20', checkpointSubSequenceNumber: 3 });
  });

  it('compares sequence numbers as big integers, not strings', async () => {
    const { cp, stored } = await setup();
    cp.mark(pos(9));
    await cp.flush();
    cp.mark({ sequenceNumber: '10', subSequenceNumber: 0 });
    await cp.flush();
    expect((await stored()).checkpoint).toBe('10');
  });
});
