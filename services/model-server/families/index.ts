import { msetFamily } from './mset';
import { pcaFamily } from './pca';
import type { ModelFamily } from './types';
import { zscoreFamily } from './zscore';

/** Every model family the scoring core can load, by name. */
const FAMILIES = new Map<string, ModelFamily<unknown>>(
  [zscoreFamily, pcaFamily, msetFamily].map((f) => [f.name, f as ModelFamily<unknown>]),
);

/** Registers a family (used at module load by each family's file). */
export function registerFamily(family: ModelFamily<unknown>): void {
  FAMILIES.set(family.name, family);
}

/** The family called `name`, or undefined. */
export function getFamily(name: string): ModelFamily<unknown> | undefined {
  return FAMILIES.get(name);
}

export function familyNames(): string[] {
  return [...FAMILIES.keys()].sort();
}
