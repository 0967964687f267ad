import * as fs from 'node:fs';
import * as path from 'node:path';
import JSON5 from 'json5';
import { compileEventPattern, InvalidEventPatternError } from '../../../shared/event-pattern';
import { describeWithSharedData, sharedDataPath } from '../../support/shared-data';

/**
 * EventBridge conformance: cases checked against the real service (see ../shared/data/README.md).
 * `NAME.json5` must match, `NAME_NEG.json5` is valid but must not match, `NAME_EXC.json5` must be
 * rejected. The data is read in place, never copied into the repository.
 */
const CASES_DIR = sharedDataPath('eventbridge-patterns');

type Expected = 'match' | 'no-match' | 'invalid';

interface ConformanceCase {
  readonly file: string;
  readonly expected: Expected;
  readonly event: object;
  readonly pattern: object;
}

function expectedOutcome(file: string): Expected {
  if (file.endsWith('_EXC.json5')) return 'invalid';
  if (file.endsWith('_NEG.json5')) return 'no-match';
  return 'match';
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function loadCases(): ConformanceCase[] {
  if (!fs.existsSync(CASES_DIR)) return [];
  return fs
    .readdirSync(CASES_DIR)
    .filter((f) => f.endsWith('.json5'))
    .sort()
    .map((file) => {
      const parsed: unknown = JSON5.parse(fs.readFileSync(path.join(CASES_DIR, file), 'utf8'));
      if (!isObject(parsed) || !('Event' in parsed) || !('EventPattern' in parsed)) {
        throw new Error(`${file}: expected an object with Event and EventPattern`);
      }
      const { Event: event, EventPattern: pattern } = parsed;
      if (!isObject(event) || !isObject(pattern)) throw new Error(`${file}: Event and EventPattern must be objects`);
      return { file, expected: expectedOutcome(file), event, pattern };
    });
}

describeWithSharedData('eventbridge-patterns', 'EventBridge pattern conformance', () => {
  const cases = loadCases();

  it('has the conformance cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(100);
  });

  it.each(cases.map((c) => [c.file, c] as const))('%s', (_file, c) => {
    if (c.expected === 'invalid') {
      expect(() => compileEventPattern(c.pattern)).toThrow(InvalidEventPatternError);
      return;
    }
    const compiled = compileEventPattern(c.pattern);
    expect(compiled.matches(c.event)).toBe(c.expected === 'match');
    // The same pattern given as JSON text behaves the same.
    expect(compileEventPattern(JSON.stringify(c.pattern)).matches(c.event)).toBe(c.expected === 'match');
  });
});
