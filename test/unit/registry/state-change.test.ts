import { sageMakerGroupName } from '../../../services/registry/sagemaker-registry';
import { parseModelPackageStateChange, routesToInvalidate, StateChangeHandler } from '../../../services/registry/state-change';
import { ValidationError } from '../../../shared/errors';

const PUMPS = [
  { pumpId: 'P-1', pumpType: 'centrifugal' },
  { pumpId: 'P-2', pumpType: 'centrifugal' },
  { pumpId: 'P-3', pumpType: 'booster' },
];
const groupName = (g: string) => sageMakerGroupName('prod', g);

/** A `SageMaker Model Package State Change` event as EventBridge delivers it. */
function event(detail: Record<string, unknown>, overrides: Record<string, unknown> = {}) {
  return {
    version: '0',
    id: 'a1b2',
    'detail-type': 'SageMaker Model Package State Change',
    source: 'aws.sagemaker',
    account: '123456789012',
    time: '2026-03-01T12:00:00Z',
    region: 'eu-west-1',
    resources: ['arn:aws:sagemaker:eu-west-1:123456789012:model-package/x/2'],
    detail: { ModelPackageVersion: 2, ModelApprovalStatus: 'Approved', ModelPackageStatus: 'Completed', CreationTime: 1700000000000, ...detail },
    ...overrides,
  };
}

describe('routesToInvalidate', () => {
  it.each([
    ['a pump group by name → that pump', { ModelPackageGroupName: groupName('pump-P-2') }, { kind: 'pumps', pumpIds: ['P-2'] }],
    ['a type group by name → every pump of the type', { ModelPackageGroupName: 'pumpwatch-prod-centrifugal' }, { kind: 'pumps', pumpIds: ['P-1', 'P-2'] }],
    [
      'the pumpwatch:modelGroup metadata wins over the name',
      { ModelPackageGroupName: 'anything', CustomerMetadataProperties: { 'pumpwatch:modelGroup': 'type-booster' } },
      { kind: 'pumps', pumpIds: ['P-3'] },
    ],
    [
      'a pump group of a pump not (yet) registered, by metadata',
      { ModelPackageGroupName: 'x', CustomerMetadataProperties: { 'pumpwatch:modelGroup': 'pump-P-9' } },
      { kind: 'pumps', pumpIds: ['P-9'] },
    ],
    ['a group serving no registered pump → all', { ModelPackageGroupName: 'pumpwatch-prod-unknown' }, { kind: 'all' }],
  ])('%s', (_name, detail, expected) => {
    const decision = routesToInvalidate(parseModelPackageStateChange(event(detail)), PUMPS, groupName);
    expect(decision).toMatchObject(expected);
  });

  it('matches names as SageMaker does, case-insensitively', () => {
    const decision = routesToInvalidate(parseModelPackageStateChange(event({ ModelPackageGroupName: 'PumpWatch-Prod-Booster' })), PUMPS, groupName);
    expect(decision).toEqual({ kind: 'pumps', pumpIds: ['P-3'] });
  });
});

describe('parseModelPackageStateChange', () => {
  it.each([
    ['another detail-type', event({ ModelPackageGroupName: 'g' }, { 'detail-type': 'SageMaker Model State Change' }), /detail-type/],
    ['no group name', event({}), /detail\.ModelPackageGroupName/],
    ['an unknown approval status', event({ ModelPackageGroupName: 'g', ModelApprovalStatus: 'Maybe' }), /detail\.ModelApprovalStatus/],
  ])('rejects %s, naming the field', (_name, input, message) => {
    expect(() => parseModelPackageStateChange(input)).toThrow(ValidationError);
    expect(() => parseModelPackageStateChange(input)).toThrow(message);
  });

  it('keeps fields it does not read', () => {
    const parsed = parseModelPackageStateChange(event({ ModelPackageGroupName: 'g' }));
    expect(parsed.detail).toHaveProperty('ModelPackageStatus', 'Completed');
  });
});

describe('StateChangeHandler', () => {
  it('drops the routes of the pumps a change affects', async () => {
    // prepare
    const invalidated: (string | undefined)[] = [];
    const handler = new StateChangeHandler({ pumps: async () => PUMPS, groupName, invalidate: (id) => invalidated.push(id) });
    // act
    await handler.handleMessage(JSON.stringify(event({ ModelPackageGroupName: 'pumpwatch-prod-centrifugal' })));
    await handler.handle(event({ ModelPackageGroupName: 'pumpwatch-prod-elsewhere' }));
    // assess
    expect(invalidated).toEqual(['P-1', 'P-2', undefined]);
  });

  it('answers a message that is not JSON with a ValidationError', async () => {
    const handler = new StateChangeHandler({ pumps: async () => PUMPS, groupName, invalidate: () => undefined });
    await expect(handler.handleMessage('{"source":')).rejects.toBeInstanceOf(ValidationError);
  });
});
