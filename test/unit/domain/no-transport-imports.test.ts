import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from '@app/infra';

/**
 * libs/domain holds the use-cases; transport stays out of it. Queues, Redis
 * and HTTP are reached through ports the domain declares, implemented by
 * adapters in libs/queue (and the apps).
 */
// The build rewrites '@app/...' string literals into relative paths, so the alias names are put together here.
const APP = '@app';
const FORBIDDEN = ['bullmq', 'ioredis', 'express', 'ws', '@nestjs/common', '@nestjs/core', `${APP}/queue`, `${APP}/gateway`];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Every module specifier of a file: import/export ... from '...', import('...'), require('...'). */
function specifiers(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]|require\s*\(\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]/gm)) {
    const spec = m[1] ?? m[2] ?? m[3] ?? m[4];
    if (spec !== undefined) out.push(spec);
  }
  return out;
}

describe('libs/domain imports no transport', () => {
  it('the scan sees imports (sanity check of the pattern)', () => {
    const sample = `import { Queue } from 'bullmq';\nimport type Redis from "ioredis";\nexport { x } from '${APP}/queue';\nconst e = require('express');\nawait import('ws');`;
    assert.deepEqual(specifiers(sample), ['bullmq', 'ioredis', `${APP}/queue`, 'express', 'ws']);
  });

  it('no file under libs/domain/src imports bullmq, ioredis, express, ws, Nest or the queue/gateway libs', () => {
    const root = repoRoot();
    const files = sourceFiles(join(root, 'libs/domain/src'));
    assert.ok(files.length > 50, `found the domain sources (${files.length} files)`);
    const offences: string[] = [];
    for (const f of files) {
      for (const spec of specifiers(readFileSync(f, 'utf8'))) {
        if (FORBIDDEN.some((x) => spec === x || spec.startsWith(`${x}/`))) offences.push(`${relative(root, f)} imports ${spec}`);
      }
    }
    assert.deepEqual(offences, []);
  });
});
