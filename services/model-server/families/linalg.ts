import { EigenvalueDecomposition, Matrix } from 'ml-matrix';

/**
 * Small linear-algebra helpers shared by the families: standardisation with a guard for constant
 * features, and a deterministic symmetric eigendecomposition (descending eigenvalues, sign-fixed
 * eigenvectors, so the same data always gives the same parameters).
 */

export interface Standardization {
  readonly means: number[];
  readonly scales: number[];
  /** Features whose training spread was below the floor (their scale is the floor; e.g. constant ones). */
  readonly flooredFeatures: number;
}

/**
 * Column means and sample standard deviations of `rows`. A feature whose standard deviation is
 * below `max(|mean|·minRelativeStd, minAbsoluteStd)` gets that floor as its scale: a constant
 * feature then contributes nothing in training, while a real change of it still shows.
 */
export function standardization(rows: readonly (readonly number[])[], minRelativeStd: number, minAbsoluteStd = 1e-9): Standardization {
  const n = rows.length;
  const d = rows[0]?.length ?? 0;
  const means = new Array<number>(d).fill(0);
  const m2 = new Array<number>(d).fill(0);
  rows.forEach((row, i) => {
    for (let j = 0; j < d; j++) {
      const delta = row[j]! - means[j]!;
      means[j]! += delta / (i + 1);
      m2[j]! += delta * (row[j]! - means[j]!);
    }
  });
  let flooredFeatures = 0;
  const scales = means.map((m, j) => {
    const sd = n > 1 ? Math.sqrt(m2[j]! / (n - 1)) : 0;
    const floor = Math.max(Math.abs(m) * minRelativeStd, minAbsoluteStd);
    if (sd < floor) {
      flooredFeatures += 1;
      return floor;
    }
    return sd;
  });
  return { means, scales, flooredFeatures };
}

/** (row − means) / scales. */
export function standardize(row: readonly number[], means: readonly number[], scales: readonly number[]): number[] {
  return row.map((v, j) => (v - means[j]!) / scales[j]!);
}

/** Sample covariance (divisor n − 1) of already-centred rows. */
export function covariance(centred: readonly (readonly number[])[]): Matrix {
  const n = centred.length;
  const d = centred[0]?.length ?? 0;
  const cov = Matrix.zeros(d, d);
  for (const row of centred) {
    for (let a = 0; a < d; a++) {
      const ra = row[a]!;
      if (ra === 0) continue;
      for (let b = a; b < d; b++) cov.set(a, b, cov.get(a, b) + ra * row[b]!);
    }
  }
  const div = Math.max(n - 1, 1);
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = cov.get(a, b) / div;
      cov.set(a, b, v);
      cov.set(b, a, v);
    }
  }
  return cov;
}

export interface SymmetricEigen {
  /** Eigenvalues, descending, negatives (round-off) clipped to 0. */
  readonly values: number[];
  /** Eigenvectors as rows, in the order of `values`; each with its largest-magnitude entry positive. */
  readonly vectors: number[][];
}

/** Eigendecomposition of a symmetric matrix with a deterministic order and sign. */
export function symmetricEigen(m: Matrix): SymmetricEigen {
  const evd = new EigenvalueDecomposition(m, { assumeSymmetric: true });
  const raw = evd.realEigenvalues;
  const vecs = evd.eigenvectorMatrix;
  const d = raw.length;
  const order = raw.map((_, i) => i).sort((i, j) => raw[j]! - raw[i]! || i - j);
  const values: number[] = [];
  const vectors: number[][] = [];
  for (const i of order) {
    values.push(Math.max(raw[i]!, 0));
    const v = vecs.getColumn(i);
    let big = 0;
    for (let j = 0; j < d; j++) if (Math.abs(v[j]!) > Math.abs(v[big]!) + 1e-12) big = j;
    const sign = v[big]! < 0 ? -1 : 1;
    vectors.push(v.map((x) => x * sign));
  }
  return { values, vectors };
}
