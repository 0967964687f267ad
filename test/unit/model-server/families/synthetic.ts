import { gaussian, seededRandom } from '../../../../services/ingest/simulator';

/** Seeded normal draws for family tests (the simulator's mulberry32 + Box–Muller): same seed, same rows. */
export function seededNormal(seed: number): () => number {
  const uniform = seededRandom(seed);
  return () => gaussian(uniform);
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
