/**
 * IP address literals and CIDR ranges as EventBridge reads them: an address is 4 or 16 bytes held
 * as a bigint; the byte length keeps IPv4 and IPv6 apart (they never compare equal or in range).
 */
export interface IpAddress {
  readonly bytes: 4 | 16;
  readonly value: bigint;
}

/** An inclusive range of addresses of one family. */
export interface IpRange {
  readonly bytes: 4 | 16;
  readonly low: bigint;
  readonly high: bigint;
}

const IPV4_SHAPE = /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/;
const IPV6_SHAPE = /^[0-9a-fA-F:]*:[0-9a-fA-F:]*$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
const V4_MAPPED_PREFIX = 0xffffn << 32n;

/** True when the text has the shape of an IP literal (EventBridge only then treats it as one). */
export function looksLikeIp(text: string): boolean {
  return IPV4_SHAPE.test(text) || IPV6_SHAPE.test(text);
}

function parseIpv4(text: string): IpAddress | undefined {
  if (!IPV4_SHAPE.test(text)) return undefined;
  let value = 0n;
  for (const part of text.split('.')) {
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = (value << 8n) | BigInt(octet);
  }
  return { bytes: 4, value };
}

function parseHexGroups(text: string): bigint[] | undefined {
  if (text === '') return [];
  const out: bigint[] = [];
  for (const group of text.split(':')) {
    if (!HEX_GROUP.test(group)) return undefined;
    out.push(BigInt(`0x${group}`));
  }
  return out;
}

function parseIpv6(text: string): IpAddress | undefined {
  if (!IPV6_SHAPE.test(text)) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  let groups: bigint[];
  if (halves.length === 2) {
    const head = parseHexGroups(halves[0] ?? '');
    const tail = parseHexGroups(halves[1] ?? '');
    if (!head || !tail || head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array<bigint>(8 - head.length - tail.length).fill(0n), ...tail];
  } else {
    const all = parseHexGroups(text);
    if (!all || all.length !== 8) return undefined;
    groups = all;
  }
  let value = 0n;
  for (const g of groups) value = (value << 16n) | g;
  // Like the JVM resolver EventBridge uses, an IPv4-mapped IPv6 literal is the IPv4 address.
  if (value >> 32n === 0xffffn) return { bytes: 4, value: value - V4_MAPPED_PREFIX };
  return { bytes: 16, value };
}

/** Parses an IPv4 or IPv6 literal; undefined when the text is not one. */
export function parseIp(text: string): IpAddress | undefined {
  return parseIpv4(text) ?? parseIpv6(text);
}

/**
 * Parses `address/bits`. As in EventBridge, the range starts at the address as written (host bits
 * are not cleared) and ends with all host bits set; a full-length mask (/32, /128) is rejected.
 * Throws an Error whose message is the reason.
 */
export function parseCidr(text: string): IpRange {
  const parts = text.split('/');
  if (parts.length !== 2) throw new Error("Malformed CIDR, one '/' required");
  const [addressText = '', bitsText = ''] = parts;
  if (!/^[+-]?[0-9]+$/.test(bitsText)) throw new Error('Malformed CIDR, mask bits must be an integer');
  const bits = Number(bitsText);
  if (bits < 0) throw new Error('Malformed CIDR, mask bits must not be negative');
  if (!looksLikeIp(addressText)) throw new Error(`Nonstandard IP address: ${addressText}`);
  const address = parseIp(addressText);
  if (!address) throw new Error(`Invalid IP address: ${addressText}`);
  const width = address.bytes * 8;
  if (bits >= width) throw new Error(address.bytes === 4 ? 'IPv4 mask bits must be < 32' : 'IPv6 mask bits must be < 128');
  const hostMask = (1n << BigInt(width - bits)) - 1n;
  return { bytes: address.bytes, low: address.value, high: address.value | hostMask };
}

/** True when `text` is an IP literal inside `range`. */
export function ipInRange(text: string, range: IpRange): boolean {
  const ip = parseIp(text);
  return ip !== undefined && ip.bytes === range.bytes && ip.value >= range.low && ip.value <= range.high;
}
