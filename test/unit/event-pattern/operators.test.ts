import { ValidationError } from '../../../shared/errors';
import {
  compileEventPattern,
  InvalidEventPatternError,
  matchesEventPattern,
  prepareEvent,
} from '../../../shared/event-pattern';

/** An EventBridge envelope around `detail` (and any extra top-level fields). */
function event(detail: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '0',
    id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
    'detail-type': 'EC2 Instance State-change Notification',
    source: 'aws.ec2',
    account: '111122223333',
    time: '2017-12-22T18:43:48Z',
    region: 'us-west-1',
    resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
    detail,
    ...extra,
  };
}

type MatchCase = readonly [name: string, pattern: object, event: object, matches: boolean];
type RejectCase = readonly [name: string, pattern: unknown, path: string, reason: RegExp];

function runMatches(cases: readonly MatchCase[]): void {
  it.each(cases)('%s', (_name, pattern, ev, expected) => {
    expect(compileEventPattern(pattern).matches(ev)).toBe(expected);
  });
}

function runRejects(cases: readonly RejectCase[]): void {
  it.each(cases)('rejects %s', (_name, pattern, path, reason) => {
    let caught: unknown;
    try {
      compileEventPattern(typeof pattern === 'string' ? pattern : JSON.stringify(pattern));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(InvalidEventPatternError);
    if (caught instanceof InvalidEventPatternError) {
      expect(caught.patternPath).toBe(path);
      expect(caught.reason).toMatch(reason);
      expect(caught.message).toContain(path);
    }
  });
}

describe('exact values', () => {
  runMatches([
    ['one value', { source: ['aws.ec2'] }, event({}), true],
    ['one of several values (OR within a field)', { source: ['aws.s3', 'aws.ec2'] }, event({}), true],
    ['no listed value', { source: ['aws.s3', 'aws.fargate'] }, event({}), false],
    ['all fields must match (AND across fields)', { source: ['aws.ec2'], 'detail-type': ['other'] }, event({}), false],
    ['nested object', { detail: { state: ['terminated'] } }, event({ state: 'terminated' }), true],
    ['nested structure must match', { detail: { state: ['terminated'] } }, event({ other: { state: 'terminated' } }), false],
    ['field missing', { detail: { state: ['terminated'] } }, event({}), false],
    ['field names are case sensitive', { Source: ['aws.ec2'] }, event({}), false],
    ['values are case sensitive', { source: ['AWS.EC2'] }, event({}), false],
    ['event array: any element matches', { resources: ['x', 'arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'] }, event({}), true],
    ['event array: no element matches', { detail: { tags: ['c'] } }, event({ tags: ['a', 'b'] }), false],
    ['number', { detail: { n: [300] } }, event({ n: 300 }), true],
    ['number written differently (3.0e2)', { detail: { n: [3.0e2] } }, event({ n: 300 }), true],
    ['number does not match its string', { detail: { n: [300] } }, event({ n: '300' }), false],
    ['string does not match the number', { detail: { n: ['300'] } }, event({ n: 300 }), false],
    ['large account-like number', { detail: { account: [123456789012] } }, event({ account: 123456789012 }), true],
    ['true', { detail: { ok: [true] } }, event({ ok: true }), true],
    ['false', { detail: { ok: [false] } }, event({ ok: false }), true],
    ['true does not match "true"', { detail: { ok: [true] } }, event({ ok: 'true' }), false],
    ['null matches null', { detail: { v: [null] } }, event({ v: null }), true],
    ['null does not match a missing field', { detail: { v: [null] } }, event({}), false],
    ['null does not match "null"', { detail: { v: [null] } }, event({ v: 'null' }), false],
    ['empty string matches empty string', { detail: { v: [''] } }, event({ v: '' }), true],
    ['empty string does not match null', { detail: { v: [''] } }, event({ v: null }), false],
    ['empty event array matches nothing', { resources: [null] }, event({}, { resources: [] }), false],
    ['IP literal matches the same address written another way', { detail: { ip: ['2001:db8::1'] } }, event({ ip: '2001:0db8:0:0:0:0:0:1' }), true],
    ['dotted pattern key matches nested event fields', { 'detail.state': ['on'] }, event({ state: 'on' }), true],
    ['nested pattern matches a dotted event key', { detail: { a: { b: ['on'] } } }, event({ 'a.b': 'on' }), true],
    ['JSON string detail is not parsed', { detail: { k: ['v'] } }, { detail: '{"k":"v"}' }, false],
    [
      'fields inside an array of objects must come from the same element',
      { detail: { items: { name: ['a'], size: [2] } } },
      event({ items: [{ name: 'a', size: 1 }, { name: 'b', size: 2 }] }),
      false,
    ],
    [
      'fields from one element of an array of objects',
      { detail: { items: { name: ['b'], size: [2] } } },
      event({ items: [{ name: 'a', size: 1 }, { name: 'b', size: 2 }] }),
      true,
    ],
  ]);
  runRejects([
    ['a bare value instead of an array', { source: 'aws.ec2' }, 'source', /must be an object or an array/],
    ['a bare number', { detail: { n: 5 } }, 'detail.n', /must be an object or an array/],
    ['null as a field value', { source: null }, 'source', /must be an object or an array/],
    ['an empty array', { source: [] }, 'source', /Empty arrays are not allowed/],
    ['an empty object', { detail: {} }, 'detail', /Empty objects are not allowed/],
    ['an empty pattern', {}, '(root)', /Empty objects are not allowed/],
    ['a nested array value', { source: [['a']] }, 'source[0]', /Match value must be String, number, true, false, or null/],
    ['a pattern that is an array', [{ source: ['a'] }], '(root)', /Filter is not an object/],
    ['a pattern that is not JSON', '{"source": [', '(root)', /not valid JSON/],
    ['an unknown operator', { source: [{ contains: 'ec2' }] }, 'source[0]', /Unrecognized match type contains/],
    ['operator names are case sensitive', { source: [{ PREFIX: 'aws' }] }, 'source[0]', /Unrecognized match type PREFIX/],
    ['two operators in one object', { source: [{ prefix: 'a', suffix: 'b' }] }, 'source[0]', /Only one key allowed/],
    ['an empty operator object', { source: [{}] }, 'source[0]', /Match expression name not found/],
  ]);
});

describe('prefix / suffix / equals-ignore-case', () => {
  runMatches([
    ['prefix', { time: [{ prefix: '2017-12-22' }] }, event({}), true],
    ['prefix no match', { time: [{ prefix: '2017-10-02' }] }, event({}), false],
    ['empty prefix matches any string', { source: [{ prefix: '' }] }, event({}), true],
    ['prefix only on strings', { detail: { n: [{ prefix: '12' }] } }, event({ n: 123 }), false],
    ['prefix is case sensitive', { region: [{ prefix: 'US-' }] }, event({}), false],
    ['prefix equals-ignore-case', { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } }, event({ service: 'eventbridge' }), true],
    ['suffix', { detail: { FileName: [{ suffix: '.png' }] } }, event({ FileName: 'image.png' }), true],
    ['suffix is case sensitive', { detail: { FileName: [{ suffix: '.PNG' }] } }, event({ FileName: 'image.png' }), false],
    ['suffix equals-ignore-case', { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } }, event({ FileName: 'IMAGE.PNG' }), true],
    ['suffix equals-ignore-case no match', { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } }, event({ FileName: 'a.jpg' }), false],
    ['equals-ignore-case', { 'detail-type': [{ 'equals-ignore-case': 'ec2 instance state-change notification' }] }, event({}), true],
    ['equals-ignore-case is not a prefix', { 'detail-type': [{ 'equals-ignore-case': 'ec2 instance' }] }, event({}), false],
    ['mixed list: exact or prefix', { detail: { admins: ['root', { prefix: 'ad' }] } }, event({ admins: 'admin' }), true],
  ]);
  runRejects([
    ['a numeric prefix', { time: [{ prefix: 123 }] }, 'time[0].prefix', /prefix match pattern must be a string/],
    ['a list of prefixes', { time: [{ prefix: ['a'] }] }, 'time[0].prefix', /prefix match pattern must be a string/],
    ['a numeric suffix', { f: [{ suffix: 1 }] }, 'f[0].suffix', /suffix match pattern must be a string/],
    ['prefix with another nested operator', { f: [{ prefix: { wildcard: 'a*' } }] }, 'f[0].prefix.wildcard', /Unsupported prefix pattern/],
    ['equals-ignore-case with an object', { f: [{ 'equals-ignore-case': { prefix: 'a' } }] }, 'f[0].equals-ignore-case', /must be a string/],
    ['equals-ignore-case with a list', { f: [{ 'equals-ignore-case': ['a'] }] }, 'f[0].equals-ignore-case', /must be a string/],
  ]);
});

describe('wildcard', () => {
  runMatches([
    ['star in the middle', { detail: { f: [{ wildcard: 'dir/*.png' }] } }, event({ f: 'dir/a/b.png' }), true],
    ['star matches nothing', { detail: { f: [{ wildcard: 'dir/*.png' }] } }, event({ f: 'dir/.png' }), true],
    ['several stars', { detail: { arn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] } }, event({ arn: 'arn:aws:events:us-east-1:123456789012:event-bus/bus' }), true],
    ['anchored at both ends', { detail: { f: [{ wildcard: 'dir/*.png' }] } }, event({ f: 'x/dir/a.png' }), false],
    ['escaped star is literal', { detail: { f: [{ wildcard: 'a\\*b' }] } }, event({ f: 'a*b' }), true],
    ['escaped star does not match other text', { detail: { f: [{ wildcard: 'a\\*b' }] } }, event({ f: 'axxb' }), false],
    ['escaped backslash', { detail: { f: [{ wildcard: 'a\\\\*' }] } }, event({ f: 'a\\tail' }), true],
    ['empty wildcard matches only the empty string', { detail: { f: [{ wildcard: '' }] } }, event({ f: 'x' }), false],
    ['lone star matches any string', { detail: { f: [{ wildcard: '*' }] } }, event({ f: '' }), true],
    ['strings only', { detail: { f: [{ wildcard: '*' }] } }, event({ f: 5 }), false],
    ['repeated literal runs after a star', { detail: { f: [{ wildcard: '/Users/*/dir/dir/dir/dir/dir/doc.txt' }] } }, event({ f: '/Users/u/dir/dir/dir/dir/dir/doc.txt' }), true],
  ]);
  runRejects([
    ['consecutive wildcards', { f: [{ wildcard: 'a**b' }] }, 'f[0].wildcard', /Consecutive wildcard characters at pos 1/],
    ['an invalid escape', { f: [{ wildcard: 'a\\b' }] }, 'f[0].wildcard', /Invalid escape character at pos 1/],
    ['a trailing backslash', { f: [{ wildcard: 'a\\' }] }, 'f[0].wildcard', /Invalid escape character/],
    ['a list', { f: [{ wildcard: ['a*'] }] }, 'f[0].wildcard', /must be a string/],
    ['too complex', { f: [{ wildcard: '*:*:*:*:*:event-bus/*' }] }, 'f[0].wildcard', /Rule is too complex/],
  ]);
});

describe('anything-but', () => {
  runMatches([
    ['a different string', { detail: { state: [{ 'anything-but': 'initializing' }] } }, event({ state: 'running' }), true],
    ['the excluded string', { detail: { state: [{ 'anything-but': 'initializing' }] } }, event({ state: 'initializing' }), false],
    ['absent field does not match', { detail: { state: [{ 'anything-but': 'initializing' }] } }, event({}), false],
    ['null matches', { detail: { state: [{ 'anything-but': 'initializing' }] } }, event({ state: null }), true],
    ['a number matches a string exclusion', { detail: { state: [{ 'anything-but': '5' }] } }, event({ state: 5 }), true],
    ['list of strings', { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } }, event({ state: 'overloaded' }), false],
    ['number', { detail: { x: [{ 'anything-but': 123 }] } }, event({ x: 123.0 }), false],
    ['list of numbers', { detail: { x: [{ 'anything-but': [100, 200, 300] }] } }, event({ x: 150 }), true],
    ['event array: one other element is enough', { detail: { s: [{ 'anything-but': 'a' }] } }, event({ s: ['a', 'b'] }), true],
    ['prefix', { source: [{ 'anything-but': { prefix: 'aws.' } }] }, event({}), false],
    ['prefix on a number', { detail: { v: [{ 'anything-but': { prefix: '1' } }] } }, event({ v: 123 }), true],
    ['list of prefixes', { detail: { s: [{ 'anything-but': { prefix: ['init', 'post'] } }] } }, event({ s: 'running' }), true],
    ['suffix', { detail: { f: [{ 'anything-but': { suffix: '.png' } }] } }, event({ f: 'a.png' }), false],
    ['equals-ignore-case', { detail: { s: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] } }, event({ s: 'INITIALIZING' }), false],
    ['equals-ignore-case list', { detail: { s: [{ 'anything-but': { 'equals-ignore-case': ['a', 'b'] } }] } }, event({ s: 'C' }), true],
    ['wildcard', { detail: { p: [{ 'anything-but': { wildcard: '*/lib/*' } }] } }, event({ p: '/usr/lib/x' }), false],
    ['wildcard no exclusion', { detail: { p: [{ 'anything-but': { wildcard: '*/lib/*' } }] } }, event({ p: '/usr/bin/x' }), true],
    ['absent field with prefix form', { detail: { s: [{ 'anything-but': { prefix: 'x' } }] } }, event({}), false],
  ]);
  runRejects([
    ['a mixed list', { s: [{ 'anything-but': ['a', 1] }] }, 's[0].anything-but', /mixed type is not supported/],
    ['an empty list', { s: [{ 'anything-but': [] }] }, 's[0].anything-but', /at least one value/],
    ['null', { s: [{ 'anything-but': null }] }, 's[0].anything-but', /must be an array or single string\/number value/],
    ['a boolean in a list', { s: [{ 'anything-but': [true] }] }, 's[0].anything-but[0]', /only strings or numbers/],
    ['an unsupported nested operator', { s: [{ 'anything-but': { numeric: ['>', 1] } }] }, 's[0].anything-but.numeric', /Unsupported anything-but pattern: numeric/],
    ['an empty prefix', { s: [{ 'anything-but': { prefix: '' } }] }, 's[0].anything-but.prefix', /Empty prefix not allowed/],
    ['an empty suffix', { s: [{ 'anything-but': { suffix: '' } }] }, 's[0].anything-but.suffix', /Empty suffix not allowed/],
    ['a numeric prefix', { s: [{ 'anything-but': { prefix: 1 } }] }, 's[0].anything-but.prefix', /must be a string/],
    ['prefix with equals-ignore-case', { s: [{ 'anything-but': { prefix: { 'equals-ignore-case': 'a' } } }] }, 's[0].anything-but.prefix', /not nested operators/],
    ['equals-ignore-case with a number', { s: [{ 'anything-but': { 'equals-ignore-case': 1 } }] }, 's[0].anything-but.equals-ignore-case', /only strings/],
    ['a number out of range', { s: [{ 'anything-but': 6e9 }] }, 's[0].anything-but', /between -5000000000 and 5000000000/],
    ['a bad wildcard', { s: [{ 'anything-but': { wildcard: ['ok*', 'a**'] } }] }, 's[0].anything-but.wildcard[1]', /Consecutive wildcard/],
  ]);
});

describe('numeric', () => {
  runMatches([
    ['> and <= range', { detail: { c: [{ numeric: ['>', 0, '<=', 5] }] } }, event({ c: 5 }), true],
    ['open lower bound excludes it', { detail: { c: [{ numeric: ['>', 0, '<=', 5] }] } }, event({ c: 0 }), false],
    ['>= includes the bound', { detail: { c: [{ numeric: ['>=', 0, '<', 5] }] } }, event({ c: 0 }), true],
    ['< excludes the bound', { detail: { c: [{ numeric: ['>=', 0, '<', 5] }] } }, event({ c: 5 }), false],
    ['<', { detail: { d: [{ numeric: ['<', 10] }] } }, event({ d: 9.999 }), true],
    ['=', { detail: { x: [{ numeric: ['=', 3.018e2] }] } }, event({ x: 301.8 }), true],
    ['= compares to six decimal places', { detail: { x: [{ numeric: ['=', 1] }] } }, event({ x: 1.0000000001 }), true],
    ['negative numbers', { detail: { t: [{ numeric: ['<', -10] }] } }, event({ t: -20.5 }), true],
    ['strings are not numbers', { detail: { n: [{ numeric: ['>', 100] }] } }, event({ n: '300' }), false],
    ['null is not a number', { detail: { n: [{ numeric: ['>', 100] }] } }, event({ n: null }), false],
    ['event values beyond the limit do not match', { detail: { n: [{ numeric: ['>', 100] }] } }, event({ n: 6e9 }), false],
    ['any element of an event array', { detail: { n: [{ numeric: ['>', 100] }] } }, event({ n: [1, 200] }), true],
    ['or with another operator', { detail: { n: [{ numeric: ['>', 100] }, { 'anything-but': '101' }] } }, event({ n: '42' }), true],
  ]);
  runRejects([
    ['an operator in the wrong case', { n: [{ NUMERIC: ['=', 5] }] }, 'n[0]', /Unrecognized match type NUMERIC/],
    ['a missing upper value', { n: [{ numeric: ['>', 0, '<'] }] }, 'n[0].numeric[3]', /Value of < must be numeric/],
    ['a string value', { n: [{ numeric: ['>', '5'] }] }, 'n[0].numeric[1]', /Value of > must be numeric/],
    ['an unknown operator', { n: [{ numeric: ['!=', 5] }] }, 'n[0].numeric[0]', /Unrecognized numeric range operator: !=/],
    ['not an array', { n: [{ numeric: 5 }] }, 'n[0].numeric', /must be an array/],
    ['an upper bound first, then a lower one', { n: [{ numeric: ['<', 5, '>', 1] }] }, 'n[0].numeric', /Too many elements/],
    ['two lower bounds', { n: [{ numeric: ['>', 1, '>', 2] }] }, 'n[0].numeric[2]', /Bad numeric range operator/],
    ['= with more terms', { n: [{ numeric: ['=', 1, '<', 2] }] }, 'n[0].numeric', /Too many elements/],
    ['an empty range', { n: [{ numeric: ['>', 5, '<', 5] }] }, 'n[0].numeric', /Bottom must be less than top/],
    ['a value beyond the limit', { n: [{ numeric: ['>', 5.1e9] }] }, 'n[0].numeric[1]', /between -5000000000 and 5000000000/],
    ['too many terms', { n: [{ numeric: ['>', 1, '<', 5, 6] }] }, 'n[0].numeric', /Too many terms/],
  ]);
});

describe('cidr', () => {
  runMatches([
    ['IPv4 in range', { detail: { ip: [{ cidr: '10.0.0.0/24' }] } }, event({ ip: '10.0.0.255' }), true],
    ['IPv4 out of range', { detail: { ip: [{ cidr: '10.0.0.0/24' }] } }, event({ ip: '10.0.1.0' }), false],
    ['invalid event address', { detail: { ip: [{ cidr: '10.0.0.0/24' }] } }, event({ ip: '10.0.0.256' }), false],
    ['a number is not an address', { detail: { ip: [{ cidr: '10.0.0.0/24' }] } }, event({ ip: 10 }), false],
    ['IPv6 in range', { detail: { ip: [{ cidr: '2001:db8:1234:1a00::/64' }] } }, event({ ip: '2001:db8:1234:1a00:ffff::1' }), true],
    ['IPv6 out of range', { detail: { ip: [{ cidr: '2001:db8:1234:1a00::/64' }] } }, event({ ip: '2001:0db8:123f:1a01::' }), false],
    ['IPv4 address against an IPv6 range', { detail: { ip: [{ cidr: '::/1' }] } }, event({ ip: '10.0.0.1' }), false],
  ]);
  runRejects([
    ['a malformed address', { ip: [{ cidr: 'xx.11.xx/8' }] }, 'ip[0].cidr', /IP address/],
    ['no mask', { ip: [{ cidr: '10.0.0.0' }] }, 'ip[0].cidr', /one '\/' required/],
    ['a non-integer mask', { ip: [{ cidr: '10.0.0.0/x' }] }, 'ip[0].cidr', /must be an integer/],
    ['a full IPv4 mask', { ip: [{ cidr: '10.0.0.1/32' }] }, 'ip[0].cidr', /IPv4 mask bits must be < 32/],
    ['an out-of-range octet', { ip: [{ cidr: '10.0.0.300/8' }] }, 'ip[0].cidr', /Invalid IP address/],
    ['a list', { ip: [{ cidr: ['10.0.0.0/8'] }] }, 'ip[0].cidr', /must be a string/],
  ]);
});

describe('exists', () => {
  runMatches([
    ['exists true on a present leaf', { detail: { state: [{ exists: true }] } }, event({ state: 'pending' }), true],
    ['exists true on a null leaf', { detail: { state: [{ exists: true }] } }, event({ state: null }), true],
    ['exists true on a missing field', { detail: { state: [{ exists: true }] } }, event({}), false],
    ['exists true does not match an object (leaf nodes only)', { detail: { c: [{ exists: true }] } }, event({ c: { c1: 100 } }), false],
    ['exists true on a leaf inside the object', { detail: { c: { c1: [{ exists: true }] } } }, event({ c: { c1: 100 } }), true],
    ['exists false on a missing field', { detail: { c: [{ exists: false }] } }, event({ state: 'x' }), true],
    ['exists false on a present leaf', { detail: { c: [{ exists: false }] } }, event({ c: 1 }), false],
    ['exists false on an object (not a leaf)', { detail: { c: [{ exists: false }] } }, event({ c: { c1: 100 } }), true],
    ['exists false on an empty array', { detail: { c: [{ exists: false }] } }, event({ c: [] }), true],
    ['exists false or a value', { detail: { s: [{ 'anything-but': ['roses'] }, { exists: false }] } }, event({ n: 1 }), true],
  ]);
  runRejects([
    ['a string', { s: [{ exists: 'true' }] }, 's[0].exists', /either true or false/],
    ['a number', { s: [{ exists: 1 }] }, 's[0].exists', /either true or false/],
  ]);
});

describe('$or', () => {
  const orPattern = {
    detail: {
      $or: [{ c: [{ numeric: ['>', 0, '<=', 5] }] }, { d: [{ numeric: ['<', 10] }] }, { x: [{ numeric: ['=', 301.8] }] }],
    },
  };
  runMatches([
    ['one alternative holds', orPattern, event({ c: 0, d: 0, x: 901.8 }), true],
    ['no alternative holds', orPattern, event({ c: 0, d: 10, x: 901.8 }), false],
    [
      'top-level $or with other fields',
      { source: ['aws.ec2'], $or: [{ 'detail-type': ['nope'] }, { detail: { state: ['on'] } }] },
      event({ state: 'on' }),
      true,
    ],
    [
      'top-level fields still apply',
      { source: ['aws.s3'], $or: [{ 'detail-type': ['nope'] }, { detail: { state: ['on'] } }] },
      event({ state: 'on' }),
      false,
    ],
    [
      'nested $or',
      { $or: [{ source: ['x'] }, { $or: [{ region: ['nope'] }, { region: ['us-west-1'] }] }] },
      event({}),
      true,
    ],
    [
      'alternatives keep array-element consistency',
      { detail: { items: { name: ['b'], $or: [{ size: [1] }, { colour: ['red'] }] } } },
      event({ items: [{ name: 'a', size: 1 }, { name: 'b', size: 2, colour: 'red' }] }),
      true,
    ],
  ]);
  runRejects([
    ['a single alternative', { $or: [{ a: ['x'] }] }, '$or', /at least 2 objects/],
    ['not an array', { $or: { a: ['x'] } }, '$or', /must be an array/],
    ['a non-object alternative', { $or: [{ a: ['x'] }, ['y']] }, '$or[1]', /only JSON objects/],
    ['an empty alternative', { $or: [{ a: ['x'] }, {}] }, '$or[1]', /Empty objects are not allowed/],
    ['an operator name as a field inside $or', { $or: [{ a: ['x'] }, { numeric: ['y'] }] }, '$or[1].numeric', /reserved name/],
    ['an invalid value inside an alternative', { detail: { $or: [{ a: ['x'] }, { b: [{ prefix: 1 }] }] } }, 'detail.$or[1].b[0].prefix', /must be a string/],
  ]);
});

describe('API', () => {
  it('rejects with a ValidationError subclass carrying the INVALID_EVENT_PATTERN code', () => {
    let caught: unknown;
    try {
      compileEventPattern({ source: 'x' });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect(caught).toMatchObject({ name: 'InvalidEventPatternError', code: 'INVALID_EVENT_PATTERN', retryable: false });
  });

  it('matches a prepared event against many patterns', () => {
    const prepared = prepareEvent(event({ state: 'running', n: 4 }));
    const patterns = [{ detail: { state: ['running'] } }, { detail: { n: [{ numeric: ['>', 5] }] } }, { source: [{ prefix: 'aws.' }] }];
    expect(patterns.map((p) => compileEventPattern(p).matches(prepared))).toEqual([true, false, true]);
  });

  it('matchesEventPattern accepts JSON text, objects and compiled patterns', () => {
    const ev = event({ state: 'running' });
    expect(matchesEventPattern('{"detail":{"state":["running"]}}', ev)).toBe(true);
    expect(matchesEventPattern({ detail: { state: ['stopped'] } }, ev)).toBe(false);
    expect(matchesEventPattern(compileEventPattern({ source: ['aws.ec2'] }), ev)).toBe(true);
  });

  it('keeps the parsed pattern', () => {
    expect(compileEventPattern('{"source":["a"]}').pattern).toEqual({ source: ['a'] });
  });
});
