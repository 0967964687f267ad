import { approveVersion, rejectVersion, rollbackGroup, servingVersion } from '../../../services/registry/actions';
import { NotFoundError, ValidationError } from '../../../shared/errors';
import { InMemoryModelRegistry, type ModelStatus, pumpModelGroup, typeModelGroup } from '../../../shared/stores/model-registry';

const PUMP = { pumpId: 'P-1', pumpType: 'centrifugal' };
const OWN = pumpModelGroup(PUMP.pumpId);

/** A registry with versions of the pump's own group in the given statuses (v1 first). */
async function registryWith(...statuses: ModelStatus[]): Promise<InMemoryModelRegistry> {
  const r = new InMemoryModelRegistry();
  for (const s of statuses) {
    const v = await r.reserve({ modelGroup: OWN, modelId: 'm', family: 'pca' }, 0);
    if (s !== 'Registering') await r.setStatus(OWN, v.version, s, 0);
  }
  return r;
}

describe('servingVersion', () => {
  it('is the newest Approved of the pump, else of its type, else none', async () => {
    const r = await registryWith('Approved', 'Approved', 'PendingManualApproval');
    expect((await servingVersion(r, PUMP))?.version).toBe(2);
    const typeOnly = new InMemoryModelRegistry();
    const t = await typeOnly.reserve({ modelGroup: typeModelGroup('centrifugal'), modelId: 'd', family: 'pca' }, 0);
    await typeOnly.setStatus(t.modelGroup, t.version, 'Approved', 0);
    expect((await servingVersion(typeOnly, PUMP))?.modelGroup).toBe('type-centrifugal');
    expect(await servingVersion(new InMemoryModelRegistry(), PUMP)).toBeUndefined();
  });
});

describe('approveVersion', () => {
  it('approves a pending version, which then serves (newest Approved wins)', async () => {
    const r = await registryWith('Approved', 'PendingManualApproval');
    await approveVersion(r, OWN, 2, 5);
    expect((await r.approved(OWN))?.version).toBe(2);
  });

  it.each<[string, ModelStatus[], number, unknown]>([
    ['a version still Registering', ['Registering'], 1, ValidationError],
    ['a version that does not exist', ['Approved'], 7, NotFoundError],
  ])('refuses %s', async (_name, statuses, version, error) => {
    const r = await registryWith(...statuses);
    await expect(approveVersion(r, OWN, version, 0)).rejects.toBeInstanceOf(error as typeof Error);
  });
});

describe('rejectVersion and rollbackGroup', () => {
  it('rejecting the serving version rolls back to the previous approved one', async () => {
    const r = await registryWith('Approved', 'Rejected', 'Approved');
    const result = await rejectVersion(r, OWN, 3, 9);
    expect(result).toMatchObject({ wasServing: true, rejected: { version: 3, status: 'Rejected' }, serving: { version: 1 } });
  });

  it('rejecting a version that does not serve changes nothing that serves', async () => {
    const r = await registryWith('Approved', 'PendingManualApproval');
    expect(await rejectVersion(r, OWN, 2, 9)).toMatchObject({ wasServing: false, serving: { version: 1 } });
  });

  it('rollback rejects the serving version; with none left the pump falls back to its type or LEARNING', async () => {
    const r = await registryWith('Approved', 'Approved');
    expect(await rollbackGroup(r, OWN, 1)).toMatchObject({ rejected: { version: 2 }, serving: { version: 1 } });
    expect(await rollbackGroup(r, OWN, 2)).toMatchObject({ rejected: { version: 1 }, serving: undefined });
    await expect(rollbackGroup(r, OWN, 3)).rejects.toBeInstanceOf(NotFoundError);
  });
});
