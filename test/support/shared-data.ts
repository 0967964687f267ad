import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * The read-only test data beside the checkout (`../shared/data`), or where
 * `PUMPWATCH_SHARED_DATA` points. It is always present in CI; a clone elsewhere may lack it, and
 * then the tests that need it are skipped with the reason in their name (never silently).
 */
export const SHARED_DATA = process.env.PUMPWATCH_SHARED_DATA ?? resolve(__dirname, '../../../shared/data');

export function sharedDataPath(...parts: string[]): string {
  return resolve(SHARED_DATA, ...parts);
}

/** `describe` when `sharedDataPath(sub)` exists, otherwise a skipped block saying why. */
export function describeWithSharedData(sub: string, title: string, fn: () => void): void {
  const path = sharedDataPath(sub);
  if (existsSync(path)) describe(title, fn);
  else describe.skip(`${title} — skipped: test data ${path} is absent (set PUMPWATCH_SHARED_DATA)`, fn);
}
