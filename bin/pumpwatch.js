#!/usr/bin/env node
// The pumpwatch command line. TypeScript sources run through tsx's require hook (no build step).
'use strict';
require('tsx/cjs');
require('../services/cli/main.ts').main(process.argv).catch((err) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = process.exitCode || 1;
});
