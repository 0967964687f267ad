#!/usr/bin/env node
// The pumpwatch command line. TypeScript sources run through tsx's require hook (no build step).
'use strict';
// The pinned AWS SDK still supports Node 20; its notice about later releases is in the README.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
require('tsx/cjs');
require('../services/cli/main.ts').main(process.argv).catch((err) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = process.exitCode || 1;
});
