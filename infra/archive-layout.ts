/**
 * The raw archive's object layout. Defined once in shared/archive-layout.ts (the local archiver and
 * the replay job use it too); re-exported here for the CDK app (Firehose prefix expressions).
 */
export {
  ARCHIVE_ERROR_PREFIX_EXPRESSION,
  ARCHIVE_PREFIX_EXPRESSION,
  archiveHourPrefix,
  archiveHourPrefixes,
  archiveObjectKey,
  archiveObjectTime,
} from '../shared/archive-layout';
