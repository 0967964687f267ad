/** Seeded random data for family tests (mulberry32 + Box–Muller): same seed, same rows. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function seededNormal(seed: number): () => number {
  const uniform = seededRandom(seed);
  return () => {
    const u = Math.max(uniform(), 1e-12);
    const v = uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}

/**
 * Rows of four correlated features driven by two latent factors:
 * a = f1, b = 2·f1 (+ noise), c = f2, d = f1 + f2 (+ noise), plus an offset per feature.
 */
export function correlatedRows(n: number, seed: number, noise = 0.05): number[][] {
  const g = seededNormal(seed);
  return Array.from({ length: n }, () => {
    const f1 = g();
    const f2 = g();
    return [10 + f1 + noise * g(), 20 + 2 * f1 + noise * g(), 5 + f2 + noise * g(), 1 + f1 + f2 + noise * g()];
  });
}

export const CORRELATED_FEATURES = ['a.mean', 'b.mean', 'c.mean', 'd.mean'] as const;
