/** Input limits enforced at the boundary (DESIGN.md §3). */
export const LIMITS = {
  /** Kinesis' own record limit. */
  maxRecordBytes: 1024 * 1024,
  maxPumpIdLength: 128,
  maxChannelNameLength: 64,
  maxChannelsPerSample: 64,
  maxSamplesPerBatch: 1000,
  /** PutRecords limits. */
  putRecordsMaxEntries: 500,
  putRecordsMaxBytes: 5 * 1024 * 1024,
  /** PutEvents limits. */
  putEventsMaxEntries: 10,
  putEventsMaxBytes: 256 * 1024,
} as const;
