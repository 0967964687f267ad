import { createHash } from 'node:crypto';

/**
 * KPL record aggregation: the wire format the Kinesis Producer Library writes and the KCL reads.
 * An aggregated record is the magic bytes F3 89 9A C2, a protobuf `AggregatedRecord`, and the MD5
 * of that protobuf. Only the fields KCL uses are read: partition_key_table (1),
 * explicit_hash_key_table (2), records (3) { partition_key_index (1), explicit_hash_key_index (2),
 * data (3) }.
 */
export const KPL_MAGIC = Buffer.from([0xf3, 0x89, 0x9a, 0xc2]);

export interface UserRecord {
  readonly partitionKey: string;
  readonly explicitHashKey?: string;
  readonly data: Uint8Array;
}

class Reader {
  pos = 0;
  constructor(private readonly buf: Uint8Array) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new RangeError('truncated varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 63n) throw new RangeError('varint too long');
    }
  }
  bytes(): Uint8Array {
    const len = Number(this.varint());
    if (this.pos + len > this.buf.length) throw new RangeError('truncated field');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 2) this.bytes();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 5) this.pos += 4;
    else throw new RangeError(`unsupported wire type ${wireType}`);
  }
}

function decodeInner(buf: Uint8Array): { pk?: bigint; ehk?: bigint; data: Uint8Array } {
  const r = new Reader(buf);
  let pk: bigint | undefined;
  let ehk: bigint | undefined;
  let data: Uint8Array = new Uint8Array();
  while (!r.done) {
    const tag = Number(r.varint());
    const field = tag >> 3;
    const wt = tag & 7;
    if (field === 1 && wt === 0) pk = r.varint();
    else if (field === 2 && wt === 0) ehk = r.varint();
    else if (field === 3 && wt === 2) data = r.bytes();
    else r.skip(wt);
  }
  return { pk, ehk, data };
}

/** True when the data is a KPL aggregated record (magic bytes and a matching MD5). */
export function isAggregated(data: Uint8Array): boolean {
  if (data.length < KPL_MAGIC.length + 16) return false;
  for (let i = 0; i < KPL_MAGIC.length; i++) if (data[i] !== KPL_MAGIC[i]) return false;
  const body = data.subarray(KPL_MAGIC.length, data.length - 16);
  const digest = createHash('md5').update(body).digest();
  return Buffer.compare(digest, Buffer.from(data.subarray(data.length - 16))) === 0;
}

/** Splits an aggregated record into its user records; throws RangeError on a corrupt body. */
export function deaggregate(data: Uint8Array): UserRecord[] {
  const body = data.subarray(KPL_MAGIC.length, data.length - 16);
  const r = new Reader(body);
  const pks: string[] = [];
  const ehks: string[] = [];
  const raw: ReturnType<typeof decodeInner>[] = [];
  while (!r.done) {
    const tag = Number(r.varint());
    const field = tag >> 3;
    const wt = tag & 7;
    if (wt !== 2) {
      r.skip(wt);
      continue;
    }
    const bytes = r.bytes();
    if (field === 1) pks.push(Buffer.from(bytes).toString('utf8'));
    else if (field === 2) ehks.push(Buffer.from(bytes).toString('utf8'));
    else if (field === 3) raw.push(decodeInner(bytes));
  }
  return raw.map((rec, i) => {
    const pk = rec.pk === undefined ? undefined : pks[Number(rec.pk)];
    if (pk === undefined) throw new RangeError(`user record ${i} has no partition key`);
    const ehk = rec.ehk === undefined ? undefined : ehks[Number(rec.ehk)];
    return ehk === undefined ? { partitionKey: pk, data: rec.data } : { partitionKey: pk, explicitHashKey: ehk, data: rec.data };
  });
}

function varint(v: number | bigint): Buffer {
  let n = BigInt(v);
  const out: number[] = [];
  while (n >= 0x80n) {
    out.push(Number((n & 0x7fn) | 0x80n));
    n >>= 7n;
  }
  out.push(Number(n));
  return Buffer.from(out);
}

function field(num: number, payload: Uint8Array): Buffer {
  return Buffer.concat([varint((num << 3) | 2), varint(payload.length), payload]);
}

/** Aggregates user records into one KPL record (the ingest side's optional aggregation). */
export function aggregate(records: readonly UserRecord[]): Buffer {
  const pkIndex = new Map<string, number>();
  const ehkIndex = new Map<string, number>();
  const parts: Buffer[] = [];
  const inner: Buffer[] = [];
  for (const rec of records) {
    if (!pkIndex.has(rec.partitionKey)) pkIndex.set(rec.partitionKey, pkIndex.size);
    const fields: Buffer[] = [Buffer.concat([varint(1 << 3), varint(pkIndex.get(rec.partitionKey)!)])];
    if (rec.explicitHashKey !== undefined) {
      if (!ehkIndex.has(rec.explicitHashKey)) ehkIndex.set(rec.explicitHashKey, ehkIndex.size);
      fields.push(Buffer.concat([varint(2 << 3), varint(ehkIndex.get(rec.explicitHashKey)!)]));
    }
    fields.push(field(3, rec.data));
    inner.push(field(3, Buffer.concat(fields)));
  }
  for (const pk of pkIndex.keys()) parts.push(field(1, Buffer.from(pk, 'utf8')));
  for (const ehk of ehkIndex.keys()) parts.push(field(2, Buffer.from(ehk, 'utf8')));
  const body = Buffer.concat([...parts, ...inner]);
  return Buffer.concat([KPL_MAGIC, body, createHash('md5').update(body).digest()]);
}

/** The 128-bit hash key Kinesis routes a partition key by: MD5 as an unsigned integer. */
export function hashKeyOf(partitionKey: string): bigint {
  return BigInt(`0x${createHash('md5').update(partitionKey, 'utf8').digest('hex')}`);
}
