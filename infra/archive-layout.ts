import { S3_PREFIXES } from '../shared/names';

/**
 * The raw archive's object layout, defined once: Firehose writes it on AWS (the prefix expression
 * below), the local archiver writes the same keys, and the replay job lists them by hour.
 *
 * `raw/year=YYYY/month=MM/day=DD/hour=HH/<name>-<n>-<yyyy-MM-dd-HH-mm-ss>-<uuid>.gz`
 * - the hour is the UTC arrival hour of the record at Firehose (approximately the Kinesis arrival
 *   time), not the pump's event time: a replay of [from, to) lists hours from `from - 1h` to `to` and
 *   filters records by event time;
 * - each object is GZIP-compressed, one Kinesis record's data per line (Firehose appends `\n`; KPL
 *   aggregates are de-aggregated by Firehose before delivery).
 * Delivery failures go under {@link ARCHIVE_ERROR_PREFIX_EXPRESSION}, outside `raw/`.
 *
 * No CDK imports, so runtime code can import it.
 */

/** Firehose `Prefix` (its `!{timestamp:...}` expressions use the UTC arrival time). */
export const ARCHIVE_PREFIX_EXPRESSION =
  `${S3_PREFIXES.archive}year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/`;

/** Firehose `ErrorOutputPrefix`: outside `raw/` so replays never read failed deliveries. */
export const ARCHIVE_ERROR_PREFIX_EXPRESSION =
  'archive-errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/';

const pad = (v: number): string => String(v).padStart(2, '0');

/** The key prefix of one UTC hour of the archive (what the Firehose expression yields for that hour). */
export function archiveHourPrefix(epochMs: number): string {
  const d = new Date(epochMs);
  return (
    `${S3_PREFIXES.archive}year=${d.getUTCFullYear()}/month=${pad(d.getUTCMonth() + 1)}` +
    `/day=${pad(d.getUTCDate())}/hour=${pad(d.getUTCHours())}/`
  );
}
