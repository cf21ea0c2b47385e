import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { adminEnv, ConfigError, gatewayEnv, loadConfig, registrationRetry, workerEnv } from '@app/config';

const base = {
  DATABASE_URL: 'postgresql://u:p@127.0.0.1:5432/db',
  REDIS_URL: 'redis://127.0.0.1:6379',
  EPOS_RELAY_ENCRYPTION_KEY: 'a'.repeat(64),
};

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  assert.fail('expected a ConfigError');
}

describe('config', () => {
  it('applies documented defaults', () => {
    const c = loadConfig(gatewayEnv, base);
    assert.equal(c.DOJO_WS_URL, 'wss://eu.ws.dojo.tech/epos');
    assert.equal(c.GATEWAY_PING_INTERVAL_MS, 25_000);
    assert.equal(c.LOG_LEVEL, 'info');
    assert.equal(c.DB_POOL_IDLE_TIMEOUT_MS, 0, 'pools keep their connections');
    assert.equal(loadConfig(workerEnv, base).WORKER_CONCURRENCY, 50);
  });

  it('reads the registration retry policy in the worker and the admin, under its new and its former names', () => {
    const admin = { ...base, ADMIN_OPERATOR_TOKENS: 'operator-token-0123456789' };
    for (const [shape, env] of [[workerEnv, base], [adminEnv, admin]] as const) {
      assert.deepEqual(registrationRetry(loadConfig(shape, env)), { attempts: 8, backoffMs: 2_000 }, 'defaults');
      const old = loadConfig(shape, { ...env, ADMIN_REGISTRATION_ATTEMPTS: '3', ADMIN_REGISTRATION_BACKOFF_MS: '50' });
      assert.deepEqual(registrationRetry(old), { attempts: 3, backoffMs: 50 }, 'the former ADMIN_ names are still accepted');
      const both = loadConfig(shape, { ...env, ADMIN_REGISTRATION_ATTEMPTS: '3', REGISTRATION_ATTEMPTS: '5', REGISTRATION_BACKOFF_MS: '70' });
      assert.deepEqual(registrationRetry(both), { attempts: 5, backoffMs: 70 }, 'the new names win');
    }
    assert.match(problems(() => loadConfig(workerEnv, { ...base, REGISTRATION_ATTEMPTS: '0' }))[0] ?? '', /^REGISTRATION_ATTEMPTS is malformed/);
    // Retention runs every 10 minutes by default, may be turned off, and never spins.
    assert.equal(loadConfig(workerEnv, base).RETENTION_INTERVAL_MS, 600_000);
    assert.equal(loadConfig(workerEnv, { ...base, RETENTION_INTERVAL_MS: '0' }).RETENTION_INTERVAL_MS, 0);
    assert.match(problems(() => loadConfig(workerEnv, { ...base, RETENTION_INTERVAL_MS: '5' }))[0] ?? '', /RETENTION_INTERVAL_MS.*0 \(off\) or at least 1000/);
  });

  it('names a missing variable', () => {
    const p = problems(() => loadConfig(workerEnv, { ...base, REDIS_URL: undefined }));
    assert.equal(p.length, 1);
    assert.match(p[0]!, /^REDIS_URL is required/);
  });

  it('names each malformed variable and says what is wrong', () => {
    const p = problems(() =>
      loadConfig(gatewayEnv, { ...base, DATABASE_URL: 'mysql://x', GATEWAY_PING_INTERVAL_MS: 'soon', EPOS_RELAY_ENCRYPTION_KEY: 'short' }),
    );
    assert.ok(p.some((x) => /^DATABASE_URL is malformed: must be a URL with scheme postgres or postgresql/.test(x)), p.join('\n'));
    assert.ok(p.some((x) => /^GATEWAY_PING_INTERVAL_MS is malformed: must be a whole number/.test(x)), p.join('\n'));
    assert.ok(p.some((x) => /^EPOS_RELAY_ENCRYPTION_KEY is malformed/.test(x)), p.join('\n'));
  });

  it('refuses a keepalive interval above 30 s', () => {
    const p = problems(() => loadConfig(gatewayEnv, { ...base, GATEWAY_PING_INTERVAL_MS: '45000' }));
    assert.match(p[0]!, /^GATEWAY_PING_INTERVAL_MS is malformed/);
  });

  it('keeps the auth-refusal backoff short: first retry at most 1 minute, cap at most 15 minutes', () => {
    const c = loadConfig(gatewayEnv, base);
    assert.equal(c.GATEWAY_AUTH_BACKOFF_MS, 30_000);
    assert.equal(c.GATEWAY_AUTH_BACKOFF_MAX_MS, 900_000);
    assert.match(problems(() => loadConfig(gatewayEnv, { ...base, GATEWAY_AUTH_BACKOFF_MS: '300000' }))[0]!, /^GATEWAY_AUTH_BACKOFF_MS is malformed/);
    assert.match(problems(() => loadConfig(gatewayEnv, { ...base, GATEWAY_AUTH_BACKOFF_MAX_MS: '3600000' }))[0]!, /^GATEWAY_AUTH_BACKOFF_MAX_MS is malformed/);
    assert.equal(loadConfig(gatewayEnv, { ...base, GATEWAY_AUTH_BACKOFF_MS: '60000', GATEWAY_AUTH_BACKOFF_MAX_MS: '600000' }).GATEWAY_AUTH_BACKOFF_MAX_MS, 600_000);
  });

  it("takes DOJO_API_VERSION only as a date (Dojo's version header, YYYY-MM-DD) in the worker and the admin", () => {
    const admin = { ...base, ADMIN_OPERATOR_TOKENS: 'operator-token-0123456789' };
    for (const [shape, env] of [[workerEnv, base], [adminEnv, admin]] as const) {
      assert.equal(loadConfig(shape, env).DOJO_API_VERSION, '2026-02-27');
      assert.equal(loadConfig(shape, { ...env, DOJO_API_VERSION: '2024-02-05' }).DOJO_API_VERSION, '2024-02-05');
      for (const bad of ['v1', '2026-2-27', '27-02-2026', '2026-02-30', '2026-02-27T00:00:00Z', ' 2026-02-27']) {
        assert.deepEqual(problems(() => loadConfig(shape, { ...env, DOJO_API_VERSION: bad })), ['DOJO_API_VERSION is malformed: must be a date as YYYY-MM-DD, e.g. 2026-02-27'], bad);
      }
    }
  });

  it('requires operator tokens for the admin app', () => {
    const p = problems(() => loadConfig(adminEnv, base));
    assert.ok(p.some((x) => x.startsWith('ADMIN_OPERATOR_TOKENS')), p.join('\n'));
    const c = loadConfig(adminEnv, { ...base, ADMIN_OPERATOR_TOKENS: 'operator-token-0001, operator-token-0002' });
    assert.deepEqual(c.ADMIN_OPERATOR_TOKENS, ['operator-token-0001', 'operator-token-0002']);
  });
});
