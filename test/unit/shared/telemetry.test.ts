import { BatchTelemetrySchema, decodeTelemetry, SingleTelemetrySchema, validateTelemetry } from '../../../shared/schemas/telemetry';

const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const SKEW = 60_000;
const enc = (v: unknown) => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

describe('decodeTelemetry', () => {
  it.each([
    { name: 'single, epoch ms', record: { pumpId: 'P-1', ts: NOW, metrics: { pressure: 5 } }, ts: [NOW] },
    { name: 'single, ISO with zone', record: { pumpId: 'P-1', ts: '2026-06-01T11:59:00Z', metrics: { pressure: 5 } }, ts: [NOW - 60_000] },
    { name: 'single, ISO with offset', record: { pumpId: 'P-1', ts: '2026-06-01T13:59:00+02:00', metrics: { pressure: 5 } }, ts: [NOW - 60_000] },
    { name: 'single, ISO without zone is UTC', record: { pumpId: 'P-1', ts: '2026-06-01 11:59:00', metrics: { pressure: 5 } }, ts: [NOW - 60_000] },
    {
      name: 'batch',
      record: { pumpId: 'P-1', samples: [{ ts: NOW - 2000, seq: 1, metrics: { pressure: 5 } }, { ts: NOW - 1000, seq: 2, metrics: { pressure: 6 } }] },
      ts: [NOW - 2000, NOW - 1000],
    },
    { name: 'unknown channels kept', record: { pumpId: 'P-1', ts: NOW, metrics: { my_custom_sensor: 1.5 } }, ts: [NOW] },
    { name: 'future within skew', record: { pumpId: 'P-1', ts: NOW + SKEW, metrics: { pressure: 5 } }, ts: [NOW + SKEW] },
  ])('accepts $name', ({ record, ts }) => {
    const r = decodeTelemetry(enc(record), NOW, SKEW);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.telemetry.samples.map((s) => s.ts)).toEqual(ts);
  });

  it.each([
    { name: 'not JSON', data: '{"pumpId": ', reason: 'malformed_json', detail: /JSON/ },
    { name: 'missing metrics', data: { pumpId: 'P-1', ts: NOW }, reason: 'schema_violation', detail: /metrics/ },
    { name: 'empty metrics', data: { pumpId: 'P-1', ts: NOW, metrics: {} }, reason: 'schema_violation', detail: /at least one channel/ },
    { name: 'bad pumpId', data: { pumpId: '../etc', ts: NOW, metrics: { a: 1 } }, reason: 'schema_violation', detail: /pumpId/ },
    { name: 'long pumpId', data: { pumpId: 'P'.repeat(129), ts: NOW, metrics: { a: 1 } }, reason: 'schema_violation', detail: /pumpId/ },
    { name: 'ts in seconds', data: { pumpId: 'P-1', ts: 1_780_000_000, metrics: { a: 1 } }, reason: 'schema_violation', detail: /before 2000/ },
    { name: 'ts garbage', data: { pumpId: 'P-1', ts: 'yesterday', metrics: { a: 1 } }, reason: 'schema_violation', detail: /ISO-8601/ },
    { name: 'string metric', data: { pumpId: 'P-1', ts: NOW, metrics: { a: 'high' } }, reason: 'schema_violation', detail: /metrics\.a/ },
    { name: 'null metric', data: { pumpId: 'P-1', ts: NOW, metrics: { a: null } }, reason: 'non_finite_value', detail: /metrics\.a/ },
    { name: 'NaN string', data: { pumpId: 'P-1', ts: NOW, metrics: { a: 'NaN' } }, reason: 'non_finite_value', detail: /metrics\.a/ },
    { name: 'overflowing number', data: '{"pumpId":"P-1","ts":1780000000000,"metrics":{"a":1e999}}', reason: 'non_finite_value', detail: /Infinity/ },
    {
      name: 'batch sample points at the failing index',
      data: { pumpId: 'P-1', samples: [{ ts: NOW, metrics: { a: 1 } }, { ts: NOW, metrics: { a: 'x' } }] },
      reason: 'schema_violation',
      detail: /samples\[1\]\.metrics\.a/,
    },
    { name: 'extra top-level field', data: { pumpId: 'P-1', ts: NOW, metrics: { a: 1 }, extra: 1 }, reason: 'schema_violation', detail: /extra/ },
    { name: 'too far in the future', data: { pumpId: 'P-1', ts: NOW + SKEW + 1, metrics: { a: 1 } }, reason: 'future_timestamp', detail: /ahead/ },
  ])('rejects $name as $reason', ({ data, reason, detail }) => {
    const r = decodeTelemetry(enc(data), NOW, SKEW);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toBe(reason);
      expect(r.detail).toMatch(detail);
    }
  });

  it('rejects records over 1 MiB before parsing', () => {
    const r = decodeTelemetry(new Uint8Array(1024 * 1024 + 1), NOW, SKEW);
    expect(r).toMatchObject({ ok: false, reason: 'too_large' });
  });

  it('keeps the pumpId of a rejected record when it can', () => {
    const r = validateTelemetry({ pumpId: 'P-9', ts: NOW, metrics: { a: 'x' } }, NOW, SKEW);
    expect(r).toMatchObject({ ok: false, pumpId: 'P-9' });
  });
});

describe('validateTelemetry fast path', () => {
  // The fast path must give exactly what the zod schemas give, for every shape it accepts.
  it.each([
    { pumpId: 'P-1', ts: NOW, metrics: { pressure: 5, 'a.b_c-d': -1.5 } },
    { pumpId: 'P-1', ts: NOW, seq: 0, metrics: { pressure: 5 } },
    { pumpId: 'P-1', ts: '2026-06-01T11:59:00.123Z', metrics: { pressure: 5 } },
    { pumpId: 'P-1', samples: [{ ts: NOW, metrics: { a: 1 } }, { ts: '2026-06-01 11:59:00', seq: 3, metrics: { b: 0 } }] },
  ])('agrees with the schemas on %j', (raw) => {
    const r = validateTelemetry(raw, NOW, SKEW);
    expect(r.ok).toBe(true);
    const viaSchema =
      'samples' in raw
        ? BatchTelemetrySchema.parse(raw)
        : (({ pumpId, ...s }) => ({ pumpId, samples: [s] }))(SingleTelemetrySchema.parse(raw));
    if (r.ok) expect(r.telemetry).toEqual(viaSchema);
  });

  it.each([
    { name: 'extra key in a batch sample', raw: { pumpId: 'P-1', samples: [{ ts: NOW, metrics: { a: 1 }, x: 1 }] } },
    { name: 'pumpId inside a batch sample', raw: { pumpId: 'P-1', samples: [{ pumpId: 'P-1', ts: NOW, metrics: { a: 1 } }] } },
    { name: 'negative seq', raw: { pumpId: 'P-1', ts: NOW, seq: -1, metrics: { a: 1 } } },
    { name: 'fractional ts', raw: { pumpId: 'P-1', ts: NOW + 0.5, metrics: { a: 1 } } },
    { name: 'bad channel name', raw: { pumpId: 'P-1', ts: NOW, metrics: { 'a b': 1 } } },
    { name: 'too many channels', raw: { pumpId: 'P-1', ts: NOW, metrics: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`c${i}`, i])) } },
    { name: 'empty batch', raw: { pumpId: 'P-1', samples: [] } },
  ])('rejects $name like the schemas do', ({ raw }) => {
    expect(validateTelemetry(raw, NOW, SKEW)).toMatchObject({ ok: false, reason: 'schema_violation' });
  });
});
