import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { RunningApp } from '@app/common';
import type { Fixtures, TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, fixtures, uniquePrefix, waitFor } from '@app/testing';
import { startAdmin } from '../../../apps/admin/src/main';
import { FakeDojo } from './support/fake-dojo';
import type { TestGateway } from './support/harness';
import { bootGateway } from './support/harness';

const TOKEN = 'operator-token-reconnect-0001';

/**
 * The operator's ways out of an authentication refusal, through the admin API
 * and a real gateway replica: a key update (the same key again, or a new one)
 * re-dials at once, and POST /v1/locations/{id}/reconnect resets a long auth
 * backoff on the replica that holds the location.
 */
describe('operator reconnect: key updates and POST /v1/locations/{id}/reconnect', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let fake: FakeDojo;
  let admin: RunningApp;
  let gw: TestGateway;
  let loc: { id: string; apiKey: string };
  let disabled: { id: string };

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${admin.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as any }; // a non-JSON body is checked through status
  };
  const tries = (key: string) => fake.handshakes.filter((h) => h.apiKey === key);
  const connection = async () => (await api('GET', `/v1/locations/${loc.id}`)).body.connection;

  before(async () => {
    db = await createTestDatabase('gwreconnect');
    fx = fixtures(db.prisma);
    fake = await new FakeDojo().start();
    const sh = await fx.softwareHouse();
    loc = await fx.location({ softwareHouseId: sh.id });
    disabled = await fx.location({ softwareHouseId: sh.id, enabled: false });
    // Registered already, so a key update does not also go to Dojo's REST API (not part of this test).
    await db.prisma.location.updateMany({ data: { registrationState: 'registered' } });
    const prefix = uniquePrefix('gwreconnect');
    admin = await startAdmin(appEnv(db, { QUEUE_PREFIX: prefix, ADMIN_OPERATOR_TOKENS: TOKEN }));
    fake.refuse.set(loc.apiKey, 401);
    gw = await bootGateway(db, {
      QUEUE_PREFIX: prefix,
      DOJO_WS_URL: fake.url,
      GATEWAY_LEASE_TTL_MS: '1000',
      GATEWAY_BACKOFF_BASE_MS: '20',
      GATEWAY_AUTH_BACKOFF_MS: '60000', // the longest first auth backoff allowed
    });
  });

  after(async () => {
    await gw?.close().catch(() => undefined); // best effort (teardown)
    await admin?.close().catch(() => undefined); // best effort (teardown)
    await fake?.close();
    await db?.drop();
  });

  it('shows auth_failed with the next attempt time through the admin API', async () => {
    const conn = await waitFor(async () => {
      const c = await connection();
      return c?.state === 'auth_failed' ? c : undefined;
    }, 'auth_failed through GET /v1/locations/{id}');
    assert.equal(conn.lastHttpStatus, 401);
    assert.match(conn.lastError, /401/);
    const inMs = Date.parse(conn.nextAttemptAt) - Date.now();
    assert.ok(inMs > 40_000 && inMs <= 60_000, `next attempt in ${inMs} ms (first auth backoff 60 s)`);
    assert.equal(tries(loc.apiKey).length, 1);
  });

  it('re-submitting the same key through the operator API tries again at once', async () => {
    const before = tries(loc.apiKey).length;
    const res = await api('PUT', `/v1/locations/${loc.id}/api-key`, { apiKey: loc.apiKey });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await waitFor(() => tries(loc.apiKey).length > before, 'a new attempt with the same key', 2_000);
    // Still refused: back to auth_failed, with a fresh schedule (the first auth backoff again, not a doubled one).
    const conn = await waitFor(async () => {
      const c = await connection();
      return c?.state === 'auth_failed' && Date.parse(c.since) > Date.now() - 2_000 ? c : undefined;
    }, 'auth_failed again');
    const inMs = Date.parse(conn.nextAttemptAt) - Date.now();
    assert.ok(inMs <= 60_000, `the backoff started again (${inMs} ms)`);
  });

  it('POST /v1/locations/{id}/reconnect resets a long auth backoff and the link comes up at once', async () => {
    fake.refuse.delete(loc.apiKey); // Dojo accepts the key again, ~a minute before the next scheduled attempt
    const asked = Date.now();
    const res = await api('POST', `/v1/locations/${loc.id}/reconnect`);
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.equal(res.body.locationId, loc.id);
    assert.equal(res.body.status, 'reconnect_requested');
    assert.ok(res.body.gatewaysNotified >= 1, 'the gateway replica heard it');
    assert.equal(res.body.connection.state, 'auth_failed', 'the body shows the state it was in');
    assert.match(res.body.message, /dials/);
    await waitFor(() => fake.open(loc.apiKey).length === 1, 'link up after the reconnect', 3_000);
    assert.ok(Date.now() - asked < 1_500, `link up ${Date.now() - asked} ms after the request`);
    await waitFor(async () => (await connection())?.state === 'open', 'open through the admin API');
  });

  it('reconnect re-dials an open link too, and a new key through the operator API reconnects at once', async () => {
    const first = fake.open(loc.apiKey)[0]!;
    const res = await api('POST', `/v1/locations/${loc.id}/reconnect`);
    assert.equal(res.status, 202);
    await waitFor(() => first.closedAt !== undefined && fake.open(loc.apiKey).length === 1, 'closed and dialled again', 3_000);

    const newKey = `sk_sandbox_${randomUUID().replace(/-/g, '')}`;
    const changed = Date.now();
    const rotated = await api('PUT', `/v1/locations/${loc.id}/api-key`, { apiKey: newKey });
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    await waitFor(() => fake.open(newKey).length === 1 && fake.open(loc.apiKey).length === 0, 'link with the new key', 3_000);
    assert.ok(Date.now() - changed < 1_500, `re-dialled with the new key in ${Date.now() - changed} ms`);
  });

  it('answers 404 for an unknown location and 409 for a disabled one', async () => {
    const unknown = await api('POST', `/v1/locations/${randomUUID()}/reconnect`);
    assert.equal(unknown.status, 404, JSON.stringify(unknown.body));
    const off = await api('POST', `/v1/locations/${disabled.id}/reconnect`);
    assert.equal(off.status, 409, JSON.stringify(off.body));
    assert.match(JSON.stringify(off.body), /disabled/);
    const noAuth = await fetch(`${admin.url}/v1/locations/${loc.id}/reconnect`, { method: 'POST' });
    assert.equal(noAuth.status, 401);
  });
});
