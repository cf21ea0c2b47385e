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

/** The longest Unix socket path the kernel takes is 107 bytes (sun_path); this keeps a margin. */
const MAX_SOCKET_PATH = 100;

/**
 * Whether `path` can name a local server's Unix socket: short enough for the kernel, and a plain path (no comma,
 * space or quote, which Postgres' unix_socket_directories list or a URL's host would split or need escaped).
 */
export function usableSocketPath(path: string): boolean {
  return Buffer.byteLength(path) <= MAX_SOCKET_PATH && /^[\w./-]+$/.test(path);
}
