import type { StackProps } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { ResourceNames } from '../../shared/names';
import type { StageConfig } from '../config';

/** What every pumpwatch stack receives. */
export interface PumpwatchStackProps extends StackProps {
  readonly config: StageConfig;
  /** resourceNames(stage, account): the names the runtime reads from its environment. */
  readonly names: ResourceNames;
}

/** The validated retention in days is one of CloudWatch's values, which is what RetentionDays holds. */
export function logRetention(config: StageConfig): logs.RetentionDays {
  return config.logRetentionDays as logs.RetentionDays;
}

/** `pumpwatch-<stage>`: the prefix of names that resourceNames does not cover. */
export function namePrefix(config: StageConfig): string {
  return `pumpwatch-${config.stage}`;
}
