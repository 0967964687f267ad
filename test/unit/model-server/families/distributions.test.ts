import {
  chiSquareCdf,
  chiSquareQuantile,
  empiricalQuantile,
  fCdf,
  fQuantile,
  logGamma,
  normalCdf,
  normalQuantile,
  regularizedBeta,
} from '../../../../services/model-server/families/distributions';

describe('normalQuantile', () => {
  it.each([
    [0.5, 0],
    [0.975, 1.959963984540054],
    [0.99, 2.326347874040841],
    [0.999, 3.090232306167813],
    [0.3, -0.5244005127080407],
    [1e-10, -6.361340902404056],
  ])('Φ⁻¹(%p) = %p', (p, expected) => {
    expect(normalQuantile(p)).toBeCloseTo(expected, 12);
  });

  it('inverts normalCdf', () => {
    for (const p of [1e-8, 0.01, 0.2, 0.5, 0.77, 0.999999]) expect(normalCdf(normalQuantile(p))).toBeCloseTo(p, 14);
  });

  it('returns ±∞ at 0 and 1 and rejects p outside [0, 1]', () => {
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(normalQuantile(1)).toBe(Number.POSITIVE_INFINITY);
    expect(() => normalQuantile(1.5)).toThrow(RangeError);
  });
});

describe('fQuantile', () => {
  it.each([
    // Closed forms: F(p; 2, d2) = (d2/2)((1−p)^(−2/d2) − 1); F(p; 1, 1) = tan²(πp/2).
    ['2, 10 (closed form)', 0.95, 2, 10, 5 * (Math.pow(0.05, -0.2) - 1), 12],
    ['2, 8 (closed form)', 0.99, 2, 8, 4 * (Math.pow(0.01, -0.25) - 1), 12],
    ['1, 1 (closed form)', 0.95, 1, 1, Math.tan((Math.PI * 0.95) / 2) ** 2, 8],
    // Printed F tables (4–5 significant digits).
    ['1, 10 (= t²₀.₉₇₅,₁₀)', 0.95, 1, 10, 2.228138852 ** 2, 6],
    ['5, 20 table', 0.99, 5, 20, 4.1027, 3],
    ['3, 50 table', 0.99, 3, 50, 4.1993, 3],
    ['10, 100 table', 0.95, 10, 100, 1.9267, 3],
    ['4, 30 table', 0.95, 4, 30, 2.6896, 3],
  ])('%s', (_name, p, d1, d2, expected, digits) => {
    expect(fQuantile(p, d1, d2)).toBeCloseTo(expected, digits);
  });

  it('inverts fCdf', () => {
    for (const [p, d1, d2] of [
      [0.9, 3, 7],
      [0.999, 12, 400],
      [0.5, 1, 2],
    ] as const) {
      expect(fCdf(fQuantile(p, d1, d2), d1, d2)).toBeCloseTo(p, 12);
    }
  });
});

describe('chiSquareQuantile', () => {
  it.each([
    [0.95, 1, 3.841458820694124],
    [0.95, 10, 18.30703805327515],
    [0.99, 5, 15.08627246938899],
    [0.999, 2, -2 * Math.log(0.001)],
  ])('χ²(%p; %p) = %p', (p, k, expected) => {
    expect(chiSquareQuantile(p, k)).toBeCloseTo(expected, 10);
    expect(chiSquareCdf(expected, k)).toBeCloseTo(p, 12);
  });
});

describe('special functions', () => {
  it.each([
    [1, 0],
    [5, Math.log(24)],
    [0.5, 0.5 * Math.log(Math.PI)],
    [100.5, 361.4355404677776],
  ])('lnΓ(%p)', (x, expected) => {
    expect(logGamma(x)).toBeCloseTo(expected, 10);
  });

  it('regularizedBeta matches closed forms', () => {
    // I_x(1, b) = 1 − (1−x)^b; I_x(a, 1) = x^a; I_0.5(2, 3) = 11/16.
    expect(regularizedBeta(0.3, 1, 4)).toBeCloseTo(1 - 0.7 ** 4, 14);
    expect(regularizedBeta(0.3, 2.5, 1)).toBeCloseTo(0.3 ** 2.5, 14);
    expect(regularizedBeta(0.5, 2, 3)).toBeCloseTo(11 / 16, 14);
  });
});

describe('empiricalQuantile', () => {
  it.each([
    [[1, 2, 3, 4, 5], 0.5, 3],
    [[5, 1, 4, 2, 3], 0.25, 2],
    [[1, 2], 0.9, 1.9],
    [[7], 0.99, 7],
  ])('%p at %p', (values, p, expected) => {
    expect(empiricalQuantile(values, p)).toBeCloseTo(expected, 12);
  });
});
