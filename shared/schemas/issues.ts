import type { z } from 'zod';

/** Formats a zod issue path the way a user reads it: `samples[3].metrics.pressure`. */
export function formatPath(path: readonly PropertyKey[], root = ''): string {
  let out = root;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

/** One line per issue, each naming the field that failed. */
export function describeIssues(error: z.ZodError, root = ''): string {
  return error.issues.map((i) => `${formatPath(i.path, root)}: ${i.message}`).join('; ');
}
