import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { publicSecretProblems } from '@app/common';
import { SecretBox } from '@app/db';

const DEV_HEX = SecretBox.developmentKey();
const DEV_BASE64 = Buffer.from(DEV_HEX, 'hex').toString('base64');
/** What docker-compose.yml used to fall back to. */
const COMPOSE_KEY = '3f1c0e8b9a7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170f6e5d4c';
const OWN_KEY = 'b'.repeat(64);

/** Boots an app's built main.js as a process with NODE_ENV=production; nothing listens on the database and Redis ports given. */
function boot(app: 'admin' | 'worker', env: Record<string, string>) {
  const main = join(__dirname, '..', '..', '..', 'apps', app, 'src', 'main.js');
  return spawnSync(process.execPath, [main], {
    encoding: 'utf8',
    timeout: 15_000,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      LOG_LEVEL: 'silent',
      PORT: '0',
      DATABASE_URL: 'postgresql://u:p@127.0.0.1:9/db',
      REDIS_URL: 'redis://127.0.0.1:9',
      ADMIN_OPERATOR_TOKENS: 'a-real-operator-token-0123456789',
      ...env,
    },
  });
}

describe('production refuses public secrets', () => {
  it('names a public encryption key in any spelling and a placeholder operator token', () => {
    for (const key of [DEV_HEX, DEV_HEX.toUpperCase(), DEV_BASE64, COMPOSE_KEY]) {
      assert.equal(publicSecretProblems({ EPOS_RELAY_ENCRYPTION_KEY: key }).length, 1, key.slice(0, 8));
    }
    assert.deepEqual(publicSecretProblems({ EPOS_RELAY_ENCRYPTION_KEY: OWN_KEY, ADMIN_OPERATOR_TOKENS: ['a-real-operator-token-0123456789'] }), []);
    assert.match(publicSecretProblems({ EPOS_RELAY_ENCRYPTION_KEY: OWN_KEY, ADMIN_OPERATOR_TOKENS: ['ok-token-0123456789abc', 'change-me-operator-token-0001'] }).join(), /ADMIN_OPERATOR_TOKENS/);
  });

  it('an app does not start (exit 78) with the development key in base64, the compose key or the placeholder token', () => {
    for (const [app, env] of [
      ['worker', { EPOS_RELAY_ENCRYPTION_KEY: DEV_BASE64 }],
      ['worker', { EPOS_RELAY_ENCRYPTION_KEY: COMPOSE_KEY }],
      ['admin', { EPOS_RELAY_ENCRYPTION_KEY: OWN_KEY, ADMIN_OPERATOR_TOKENS: 'change-me-operator-token-0001' }],
    ] as const) {
      const r = boot(app, env);
      assert.equal(r.status, 78, `${app} ${JSON.stringify(env)}: status ${r.status} signal ${r.signal}\n${r.stderr.slice(0, 500)}`);
      assert.match(r.stderr, /cannot start: .*(public key|placeholder token)/);
      assert.ok(!r.stderr.includes('change-me-operator-token-0001'), 'the token itself is not printed');
    }
  });
});
