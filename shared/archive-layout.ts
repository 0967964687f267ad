import { S3_PREFIXES } from './names';

/**
 * The raw archive's object layout, defined once: Firehose writes it on AWS (the prefix expression
 * below), the local archiver (services/archiver) writes the same keys, and the replay job lists
 * them by hour. The CDK app imports it through infra/archive-layout.ts.
 *
 * `raw/year=YYYY/month=MM/day=DD/hour=HH/<name>-<n>-<yyyy-MM-dd-HH-mm-ss>-<id>.gz`
 * - the hour is the UTC arrival hour of the record at Firehose (approximately the Kinesis arrival
 *   time), not the pump's event time: a replay of [from, to) lists the hours from `from` minus a
 *   margin to `to` plus a margin ({@link archiveHourPrefixes}) and filters records by event time;
 * - each object is GZIP-compressed, one Kinesis record's data per line (Firehose appends `\n`; KPL
 *   aggregates are de-aggregated by Firehose before delivery);
 * - the timestamp in the name is when the object's data arrived (Firehose: its delivery time), so
 *   within an hour, keys sort in arrival order.
 * Delivery failures go under {@link ARCHIVE_ERROR_PREFIX_EXPRESSION}, outside `raw/`.
 *
 * No CDK and no SDK imports, so runtime code and the CDK app can both import it.
 */

/** Firehose `Prefix` (its `!{timestamp:...}` expressions use the UTC arrival time). */
export const ARCHIVE_PREFIX_EXPRESSION =
  `${S3_PREFIXES.archive}year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/`;

/** Firehose `ErrorOutputPrefix`: outside `raw/` so replays never read failed deliveries. */
export const ARCHIVE_ERROR_PREFIX_EXPRESSION =
  'archive-errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/';

const HOUR_MS = 3_600_000;

const pad = (v: number, n = 2): string => String(v).padStart(n, '0');

/** The key prefix of one UTC hour of the archive (what the Firehose expression yields for that hour). */
export function archiveHourPrefix(epochMs: number): string {
  const d = new Date(epochMs);
  return (
    `${S3_PREFIXES.archive}year=${d.getUTCFullYear()}/month=${pad(d.getUTCMonth() + 1)}` +
    `/day=${pad(d.getUTCDate())}/hour=${pad(d.getUTCHours())}/`
  );
}

/** Start (epoch ms) of the UTC hour containing `epochMs`. */
export function hourStart(epochMs: number): number {
  return Math.floor(epochMs / HOUR_MS) * HOUR_MS;
}

/**
 * The hour prefixes a replay of event times [fromMs, toMs) must list: records arrive up to the
 * allowed clock skew before their event time and (buffered devices, Firehose buffering) some time
 * after it, so the arrival hours from `fromMs - marginMs` to `toMs + marginMs` are read.
 */
export function archiveHourPrefixes(fromMs: number, toMs: number, marginMs: number): string[] {
  const out: string[] = [];
  for (let h = hourStart(fromMs - marginMs); h <= toMs + marginMs; h += HOUR_MS) out.push(archiveHourPrefix(h));
  return out;
}

/** `yyyy-MM-dd-HH-mm-ss` (UTC), as in Firehose object names. */
function nameTimestamp(epochMs: number): string {
  const d = new Date(epochMs);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}-${pad(d.getUTCHours())}-${pad(d.getUTCMinutes())}-${pad(d.getUTCSeconds())}`;
}

/** Width sequence numbers are padded to in object names, so names sort in sequence order. */
const SEQUENCE_WIDTH = 56;

/** Name of the local archiver's objects (a Firehose delivery stream's name plays this part on AWS). */
export const ARCHIVER_OBJECT_NAME = 'pumpwatch-archiver';

/** A record's position in its shard. */
export interface ArchivePosition {
  readonly sequenceNumber: string;
  readonly subSequenceNumber: number;
}

/**
 * The key of an archive object written by the local archiver: the Firehose layout, named after the
 * arrival time of its first record, its shard, and the positions of its first and last records. The
 * key names exactly the records the object holds (a shard's records are in a fixed order), so a
 * re-write under the same key has the same content: a batch re-read after a crash overwrites the
 * same object, and a late write by a worker that lost the lease cannot replace an object with one
 * that holds fewer records.
 */
export function archiveObjectKey(first: ArchivePosition & { arrivalMs: number; shardId: string }, last: ArchivePosition): string {
  const position = (p: ArchivePosition) => `${p.sequenceNumber.padStart(SEQUENCE_WIDTH, '0')}-${pad(p.subSequenceNumber, 6)}`;
  return `${archiveHourPrefix(first.arrivalMs)}${ARCHIVER_OBJECT_NAME}-1-${nameTimestamp(first.arrivalMs)}-${first.shardId}-${position(first)}-${position(last)}.gz`;
}

const NAME_TIME = /-(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-[^/]*$/;
const HOUR_PARTS = /year=(\d{4})\/month=(\d{2})\/day=(\d{2})\/hour=(\d{2})\//;

/**
 * When an archive object's data arrived, from its key: the timestamp in its name (Firehose and the
 * local archiver both put one there), else the start of its hour partition; undefined otherwise.
 */
export function archiveObjectTime(key: string): number | undefined {
  const name = NAME_TIME.exec(key);
  if (name) {
    const [, y, mo, d, h, mi, s] = name.map(Number) as [number, number, number, number, number, number, number];
    return Date.UTC(y, mo - 1, d, h, mi, s);
  }
  const hour = HOUR_PARTS.exec(key);
  if (hour) {
    const [, y, mo, d, h] = hour.map(Number) as [number, number, number, number, number];
    return Date.UTC(y, mo - 1, d, h);
  }
  return undefined;
}
