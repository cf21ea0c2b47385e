import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { adminEnv, gatewayEnv, sandboxEnv, webhookEnv, workerEnv } from '@app/config';
import { repoRoot } from '@app/infra';

describe('README', () => {
  it('documents every environment variable the apps read', () => {
    const readme = readFileSync(join(repoRoot(), 'README.md'), 'utf8');
    const names = new Set([adminEnv, gatewayEnv, sandboxEnv, webhookEnv, workerEnv].flatMap((s) => Object.keys(s)));
    const missing = [...names].filter((n) => !readme.includes(`\`${n}\``));
    assert.deepEqual(missing, [], `README lacks: ${missing.join(', ')}`);
  });

  it("documents the simulator's variables in its own table, the shared ones included", () => {
    const readme = readFileSync(join(repoRoot(), 'README.md'), 'utf8');
    const from = readme.indexOf('**dojo-sandbox**');
    assert.ok(from > 0, 'the README has a dojo-sandbox table');
    const table = readme.slice(from, readme.indexOf('\n**', from + 1));
    const missing = Object.keys(sandboxEnv).filter((n) => !table.includes(`\`${n}\``));
    assert.deepEqual(missing, [], `the dojo-sandbox table lacks: ${missing.join(', ')}`);
  });

  it('documents the variables of npm start and npm test', () => {
    const readme = readFileSync(join(repoRoot(), 'README.md'), 'utf8');
    const sources = ['scripts/start.ts', 'test/run-tests.ts', 'libs/infra/src/stack.ts', 'libs/infra/src/postgres-process.ts', 'libs/infra/src/paths.ts', 'scripts/build.mjs'];
    const used = new Set<string>();
    for (const f of sources) {
      const text = readFileSync(join(repoRoot(), f), 'utf8');
      for (const m of text.matchAll(/process\.env\.([A-Z][A-Z0-9_]+)|env\.([A-Z][A-Z0-9_]+)|^\s+([A-Z][A-Z0-9_]{3,}):\s|_ENV = '([A-Z][A-Z0-9_]+)'/gm)) {
        used.add((m[1] ?? m[2] ?? m[3] ?? m[4])!);
      }
    }
    for (const internal of ['PATH', 'HOME', 'NODE_ENV', 'EPOS_TEST_DATABASE_URL', 'EPOS_TEST_REDIS_URL', 'PRISMA_SCHEMA_ENGINE_BINARY', 'PRISMA_HIDE_UPDATE_MESSAGE', 'CHECKPOINT_DISABLE']) used.delete(internal);
    for (const known of ['START_EXIT_AFTER_FLOW', 'SANDBOX_PORT', 'TEST_CONCURRENCY', 'EPOS_RELAY_NO_DOCKER', 'BUILD_OUT', 'EPOS_RELAY_PG_NON_DURABLE', 'START_VENUE_NAME', 'SHUTDOWN_TIMEOUT_MS']) {
      assert.ok(used.has(known), `the scan finds ${known}`);
    }
    const missing = [...used].filter((n) => !readme.includes(`\`${n}\``));
    assert.deepEqual(missing, [], `README lacks: ${missing.join(', ')}`);
  });

  it('documents the variables the tests and the benchmarks read', () => {
    const readme = readFileSync(join(repoRoot(), 'README.md'), 'utf8');
    const sources = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? (e.name === 'results' ? [] : sources(join(dir, e.name))) : /\.(ts|mjs)$/.test(e.name) ? [join(dir, e.name)] : [],
      );
    // What they read (not the variables they set for the processes they start: those are the apps' own, above).
    const read = new Map<string, string>();
    for (const f of [...sources(join(repoRoot(), 'test')), ...sources(join(repoRoot(), 'bench'))]) {
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/process\.env(?:\.|\[['"])([A-Z][A-Z0-9_]+)|(?<![\w.])env\.([A-Z][A-Z0-9_]+)/g)) {
        const name = (m[1] ?? m[2])!;
        if (!read.has(name)) read.set(name, relative(repoRoot(), f));
      }
    }
    for (const system of ['PATH', 'HOME']) read.delete(system);
    for (const known of ['FUZZ_SEED', 'FUZZ_FRAMES', 'TEST_LOG_LEVEL', 'PROFILE_ADMIN', 'CLUSTER_DEBUG']) assert.ok(read.has(known), `the scan finds ${known}`);
    const missing = [...read].filter(([n]) => !readme.includes(`\`${n}\``)).map(([n, f]) => `${n} (${f})`);
    assert.deepEqual(missing, [], `README lacks: ${missing.join(', ')}`);
  });
});
