import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { adminEnv, gatewayEnv, sandboxEnv, webhookEnv, workerEnv } from '@app/config';
import { repoRoot } from '@app/infra';

describe('README', () => {
  it('documents every environment variable the apps read', () => {
    const readme = readFileSync(join(repoRoot(), 'README.md'), 'utf8');
    const names = new Set([adminEnv, gatewayEnv, sandboxEnv, webhookEnv, workerEnv].flatMap((s) => Object.keys(s)));
    const missing = [...names].filter((n) => !readme.includes(`\`${n}\``));
    assert.deepEqual(missing, [], `README lacks: ${missing.join(', ')}`);
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
});
