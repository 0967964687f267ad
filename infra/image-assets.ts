import * as path from 'node:path';

/**
 * Container images are CDK assets built from the repository root (the images need bin/, shared/
 * and services/). The root .dockerignore is an allow-list; these excludes repeat the heavy
 * directories so asset hashing never walks them even if the .dockerignore changes.
 */
export const REPO_ROOT = path.resolve(__dirname, '..');

export const IMAGE_ASSET_EXCLUDES = ['node_modules', 'cdk.out', '.pumpwatch', '.git', 'coverage', 'test', 'bench'];

/**
 * The CDK-free infra modules runtime code may import (metric names, archive layout, infra env
 * names); the images carry these and nothing else from infra/.
 */
export const RUNTIME_INFRA_MODULES = ['infra/metrics.ts', 'infra/archive-layout.ts', 'infra/env.ts'] as const;
