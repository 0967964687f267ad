import {
  ConflictException,
  CreateModelPackageCommand,
  CreateModelPackageGroupCommand,
  DescribeModelPackageCommand,
  DescribeModelPackageGroupCommand,
  ListModelPackagesCommand,
  ResourceLimitExceeded,
  ResourceNotFound,
  type SageMakerClient,
  SageMakerServiceException,
  UpdateModelPackageCommand,
} from '@aws-sdk/client-sagemaker';
import {
  mapSageMakerError,
  METADATA,
  SageMakerModelRegistry,
  sageMakerGroupName,
  versionFromArn,
} from '../../../services/registry/sagemaker-registry';
import { ConditionFailedError, NotFoundError, PumpwatchError, TransientError, ValidationError } from '../../../shared/errors';

const STAGE = 'prod';
const BUCKET = 'pumpwatch-prod-data-123456789012';
const IMAGE = '123456789012.dkr.ecr.eu-west-1.amazonaws.com/pumpwatch-model:1';
const ARN = 'arn:aws:sagemaker:eu-west-1:123456789012';

/** An error shaped as the SDK throws it (service exceptions that are not modelled classes). */
function serviceError(name: string, message: string, status = 400): SageMakerServiceException {
  return new SageMakerServiceException({ name, message, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status } });
}

type Command = { input: Record<string, unknown>; constructor: { name: string } };

/** A client whose `send` answers from a table (adapter request and error mapping only). */
function stubClient(answer: (cmd: Command) => unknown): { client: Pick<SageMakerClient, 'send'>; calls: Command[] } {
  const calls: Command[] = [];
  const send = async (cmd: Command): Promise<unknown> => {
    calls.push(cmd);
    const r = answer(cmd);
    if (r instanceof Error) throw r;
    return r;
  };
  return { client: { send } as unknown as Pick<SageMakerClient, 'send'>, calls };
}

function registry(answer: (cmd: Command) => unknown) {
  const stub = stubClient(answer);
  return { ...stub, registry: new SageMakerModelRegistry(stub.client, { stage: STAGE, bucket: BUCKET, image: IMAGE }) };
}

const group = sageMakerGroupName(STAGE, 'pump-P-0042');
const groupArn = `${ARN}:model-package-group/${group}`;
const packageArn = (v: number) => `${ARN}:model-package/${group}/${v}`;

describe('sageMakerGroupName', () => {
  it.each([
    ['type-centrifugal', 'pumpwatch-prod-centrifugal'],
    ['pump-P-0042', /^pumpwatch-prod-pump-p-0042-[0-9a-f]{8}$/],
    ['pump-site.7:P_1', /^pumpwatch-prod-pump-site-7-p-1-[0-9a-f]{8}$/],
  ])('%s → %s', (modelGroup, expected) => {
    const name = sageMakerGroupName(STAGE, modelGroup);
    if (typeof expected === 'string') expect(name).toBe(expected);
    else expect(name).toMatch(expected);
    expect(name).toMatch(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/);
  });

  it('keeps long and look-alike pump ids apart, within 63 characters', () => {
    const long = sageMakerGroupName(STAGE, `pump-${'x'.repeat(128)}`);
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/);
    expect(sageMakerGroupName(STAGE, 'pump-P.1')).not.toBe(sageMakerGroupName(STAGE, 'pump-P-1'));
    expect(sageMakerGroupName(STAGE, 'pump-p-1')).not.toBe(sageMakerGroupName(STAGE, 'pump-P-1'));
  });
});

describe('versionFromArn', () => {
  it('reads the version of a versioned package ARN', () => {
    expect(versionFromArn(packageArn(12))).toBe(12);
    expect(() => versionFromArn(`${ARN}:model-package/unversioned`)).toThrow(ValidationError);
  });
});

describe('SageMakerModelRegistry request mapping', () => {
  it('reserve creates the group once and a PendingManualApproval package marked Registering', async () => {
    // prepare
    const { registry: r, calls } = registry((cmd) => {
      if (cmd instanceof DescribeModelPackageGroupCommand) return serviceError('ValidationException', `ModelPackageGroup ${group} does not exist.`);
      if (cmd instanceof CreateModelPackageGroupCommand) return { ModelPackageGroupArn: groupArn };
      if (cmd instanceof CreateModelPackageCommand) return { ModelPackageArn: packageArn(3) };
      throw new Error(`unexpected ${cmd.constructor.name}`);
    });
    // act
    const v = await r.reserve(
      { modelGroup: 'pump-P-0042', modelId: 'pump-P-0042-mset', family: 'mset', description: 'baseline', metrics: { trainingWindows: 42 }, trainingPeriod: { from: 1000, to: 2000 } },
      5000,
    );
    await r.reserve({ modelGroup: 'pump-P-0042', modelId: 'pump-P-0042-mset', family: 'mset' }, 6000);
    // assess
    expect(v).toMatchObject({ modelGroup: 'pump-P-0042', version: 3, status: 'Registering', target: 'pumps/P-0042/v3/model.tar.gz' });
    expect(calls.filter((c) => c instanceof CreateModelPackageGroupCommand)).toHaveLength(1);
    expect(calls.find((c) => c instanceof CreateModelPackageGroupCommand)!.input.ModelPackageGroupName).toBe(group);
    const create = calls.find((c) => c instanceof CreateModelPackageCommand)!.input;
    expect(create).toEqual({
      ModelPackageGroupName: group,
      ModelPackageDescription: 'baseline',
      ModelApprovalStatus: 'PendingManualApproval',
      CustomerMetadataProperties: {
        [METADATA.modelGroup]: 'pump-P-0042',
        [METADATA.modelId]: 'pump-P-0042-mset',
        [METADATA.family]: 'mset',
        [METADATA.status]: 'Registering',
        [METADATA.trainingFrom]: '1000',
        [METADATA.trainingTo]: '2000',
        [`${METADATA.metricPrefix}trainingWindows`]: '42',
      },
    });
    expect(create).not.toHaveProperty('InferenceSpecification');
  });

  it('setStatus completes a Registering package with its InferenceSpecification, then sets the approval', async () => {
    // prepare: the package as SageMaker describes it before and after
    let completed = false;
    let status = 'PendingManualApproval';
    const describe = () => ({
      ModelPackageGroupName: group,
      ModelPackageVersion: 3,
      ModelPackageArn: packageArn(3),
      ModelApprovalStatus: status,
      CreationTime: new Date(5000),
      ...(completed
        ? { InferenceSpecification: { Containers: [{ Image: IMAGE, ModelDataUrl: `s3://${BUCKET}/models/pumps/P-0042/v3/model.tar.gz` }] } }
        : {}),
      CustomerMetadataProperties: { [METADATA.modelGroup]: 'pump-P-0042', [METADATA.modelId]: 'm', [METADATA.family]: 'mset', ...(completed ? {} : { [METADATA.status]: 'Registering' }) },
    });
    const { registry: r, calls } = registry((cmd) => {
      if (cmd instanceof DescribeModelPackageGroupCommand) return { ModelPackageGroupArn: groupArn };
      if (cmd instanceof DescribeModelPackageCommand) return describe();
      if (cmd instanceof UpdateModelPackageCommand) {
        if (cmd.input.InferenceSpecification) completed = true;
        if (cmd.input.ModelApprovalStatus) status = cmd.input.ModelApprovalStatus as string;
        return { ModelPackageArn: packageArn(3) };
      }
      throw new Error(`unexpected ${cmd.constructor.name}`);
    });
    // act
    const v = await r.setStatus('pump-P-0042', 3, 'Approved', 7000);
    // assess
    const updates = calls.filter((c) => c instanceof UpdateModelPackageCommand).map((c) => c.input);
    expect(updates).toEqual([
      {
        ModelPackageArn: packageArn(3),
        CustomerMetadataPropertiesToRemove: [METADATA.status],
        InferenceSpecification: {
          Containers: [{ Image: IMAGE, ModelDataUrl: `s3://${BUCKET}/models/pumps/P-0042/v3/model.tar.gz` }],
          SupportedContentTypes: ['application/json'],
          SupportedResponseMIMETypes: ['application/json'],
        },
      },
      { ModelPackageArn: packageArn(3), ModelApprovalStatus: 'Approved' },
    ]);
    expect(v).toMatchObject({ version: 3, status: 'Approved', target: 'pumps/P-0042/v3/model.tar.gz', family: 'mset', createdAt: 5000 });
    await expect(r.setStatus('pump-P-0042', 3, 'Registering', 0)).rejects.toThrow(ValidationError);
  });

  it('approved() asks for the newest Approved package and skips one the endpoint cannot serve', async () => {
    // prepare
    const packages: Record<string, { url: string }> = {
      [packageArn(9)]: { url: 's3://someone-elses-bucket/model.tar.gz' },
      [packageArn(7)]: { url: `s3://${BUCKET}/models/pumps/P-0042/v7/model.tar.gz` },
    };
    const { registry: r, calls } = registry((cmd) => {
      if (cmd instanceof DescribeModelPackageGroupCommand) return { ModelPackageGroupArn: groupArn };
      if (cmd instanceof ListModelPackagesCommand) return { ModelPackageSummaryList: Object.keys(packages).map((arn) => ({ ModelPackageArn: arn })) };
      if (cmd instanceof DescribeModelPackageCommand) {
        const arn = cmd.input.ModelPackageName as string;
        return {
          ModelPackageGroupName: group,
          ModelPackageArn: arn,
          ModelPackageVersion: versionFromArn(arn),
          ModelApprovalStatus: 'Approved',
          CreationTime: new Date(1),
          InferenceSpecification: { Containers: [{ Image: IMAGE, ModelDataUrl: packages[arn]!.url }] },
          CustomerMetadataProperties: { [METADATA.modelGroup]: 'pump-P-0042', [`${METADATA.metricPrefix}trainingWindows`]: '40' },
        };
      }
      throw new Error(`unexpected ${cmd.constructor.name}`);
    });
    // act
    const v = await r.approved('pump-P-0042');
    // assess
    expect(calls.find((c) => c instanceof ListModelPackagesCommand)!.input).toEqual({
      ModelPackageGroupName: group,
      ModelPackageType: 'Versioned',
      SortBy: 'CreationTime',
      SortOrder: 'Descending',
      ModelApprovalStatus: 'Approved',
      MaxResults: 5,
    });
    expect(v).toMatchObject({ version: 7, target: 'pumps/P-0042/v7/model.tar.gz', metrics: { trainingWindows: 40 } });
  });

  it('a group that does not exist has no versions and no approved one', async () => {
    const { registry: r } = registry(() => new ResourceNotFound({ message: 'no such group', $metadata: {} }));
    expect(await r.list('pump-P-0042')).toEqual([]);
    expect(await r.approved('pump-P-0042')).toBeUndefined();
    expect(await r.get('pump-P-0042', 1)).toBeUndefined();
  });
});

describe('SageMaker error mapping', () => {
  it.each([
    ['ResourceNotFound', new ResourceNotFound({ message: 'gone', $metadata: {} }), NotFoundError, false],
    ['missing package (ValidationException)', serviceError('ValidationException', 'Model Package arn:... does not exist.'), NotFoundError, false],
    ['ConflictException', new ConflictException({ message: 'conflict', $metadata: {} }), ConditionFailedError, false],
    ['ResourceLimitExceeded', new ResourceLimitExceeded({ message: 'too many', $metadata: {} }), PumpwatchError, false],
    ['ThrottlingException', serviceError('ThrottlingException', 'slow down'), TransientError, true],
    ['InternalFailure (500)', serviceError('InternalFailure', 'oops', 500), TransientError, true],
    ['other ValidationException', serviceError('ValidationException', 'bad input'), ValidationError, false],
    ['AccessDeniedException', serviceError('AccessDeniedException', 'no'), PumpwatchError, false],
  ])('%s', (_name, err, type, retryable) => {
    const mapped = mapSageMakerError(err, 'models.op');
    expect(mapped).toBeInstanceOf(type);
    expect(mapped.retryable).toBe(retryable);
    expect(mapped.cause).toBe(err);
  });

  it('reaches callers of the adapter as the mapped class', async () => {
    const { registry: r } = registry((cmd) => {
      if (cmd instanceof DescribeModelPackageGroupCommand) return { ModelPackageGroupArn: groupArn };
      return serviceError('ThrottlingException', 'Rate exceeded');
    });
    await expect(r.reserve({ modelGroup: 'pump-P-0042', modelId: 'm', family: 'mset' }, 0)).rejects.toBeInstanceOf(TransientError);
  });

  it('a group created concurrently by someone else is described instead', async () => {
    let described = 0;
    const { registry: r } = registry((cmd) => {
      if (cmd instanceof DescribeModelPackageGroupCommand) return described++ === 0 ? new ResourceNotFound({ message: 'no', $metadata: {} }) : { ModelPackageGroupArn: groupArn };
      if (cmd instanceof CreateModelPackageGroupCommand) return new ConflictException({ message: 'exists', $metadata: {} });
      if (cmd instanceof CreateModelPackageCommand) return { ModelPackageArn: packageArn(1) };
      throw new Error(`unexpected ${cmd.constructor.name}`);
    });
    expect((await r.reserve({ modelGroup: 'pump-P-0042', modelId: 'm', family: 'mset' }, 0)).version).toBe(1);
  });
});
