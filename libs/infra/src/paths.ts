import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cached: string | undefined;

/** The repository root (the folder whose package.json is named epos-relay), from source or from dist. */
export function repoRoot(): string {
  if (cached) return cached;
  let dir = __dirname;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'epos-relay') return (cached = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the epos-relay package root above ${__dirname}`);
    dir = up;
  }
}

/** Dojo's published contracts: EPOS_RELAY_SPECS_DIR, else ../shared/specs beside the repository. */
export function specsDir(): string {
  return process.env.EPOS_RELAY_SPECS_DIR ?? join(repoRoot(), '..', 'shared', 'specs');
}
