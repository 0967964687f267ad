/** Jest runs TypeScript through SWC; type checking is `npm run typecheck` (tsc --noEmit). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  setupFiles: ['<rootDir>/test/setup-env.js'],
  testTimeout: 60000,
  maxWorkers: 2,
  // After its last suite a worker exits by itself (no open handles), but freeing its V8 heap
  // (~500 MB after a dozen integration suites with emulators) takes ~0.5-0.7 s on a 2-core
  // machine: past Jest's default 500 ms, after which it is SIGTERMed and reported as leaking.
  // A handle actually left open still keeps the worker alive past this and is still reported.
  workerGracefulExitTimeout: 2000,
};
