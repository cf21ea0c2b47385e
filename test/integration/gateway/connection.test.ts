import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import type { LocationChangedMessage } from '@app/contracts';
import { Channels } from '@app/contracts';
import { readConnectionStatuses } from '@app/queue';
import type { Fixtures, TestDatabase } from '@app/testing';
import { createTestDatabase, fixtures, sleep, testRedisUrl, uniquePrefix, waitFor } from '@app/testing';
import { FakeDojo } from './support/fake-dojo';
import type { TestGateway } from './support/harness';
import { bootGateway, getStatus } from './support/harness';

describe('gateway links: handshake, keepalive, backoff, auth refusal', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let fake: FakeDojo;
  let fake2: FakeDojo;
  let redis: Redis;
  const gateways: TestGateway[] = [];

  before(async () => {
    db = await createTestDatabase('gwconn');
    fx = fixtures(db.prisma);
    fake = await new FakeDojo().start();
    fake2 = await new FakeDojo().start();
    redis = new Redis(testRedisUrl());
  });

  afterEach(async () => {
    // Every replica here has its own prefix (its own cluster): close each test's before the next starts.
    for (const g of gateways.splice(0)) await g.close().catch(() => undefined); // best effort (teardown)
  });

  after(async () => {
    await fake.close();
    await fake2.close();
    redis.disconnect();
    await db.drop();
  });

  async function boot(env: Record<string, string>) {
    const prefix = uniquePrefix('gwconn');
    const gw = await bootGateway(db, { QUEUE_PREFIX: prefix, DOJO_WS_URL: fake.url, GATEWAY_LEASE_TTL_MS: '1000', ...env });
    gateways.push(gw);
    return { gw, prefix };
  }

  async function onlyLocations(ids: string[]) {
    // Each test runs against the locations it creates; others are disabled.
    await db.prisma.location.updateMany({ where: { id: { notIn: ids } }, data: { enabled: false } });
  }

  async function publishChange(prefix: string, locationId: string) {
    const loc = await db.prisma.location.update({ where: { id: locationId }, data: { configVersion: { increment: 1 } } });
    const msg: LocationChangedMessage = { locationId, configVersion: loc.configVersion };
    await redis.publish(Channels.locationChanged(prefix), JSON.stringify(msg));
  }

  it('dials each enabled location once with the exact handshake headers, over HTTP/1.1, without permessage-deflate', async () => {
    const shWithReseller = await fx.softwareHouse({ dojoId: 'sh-alpha', resellerId: 'res-house' });
    const shPlain = await fx.softwareHouse({ dojoId: 'sh-beta' });
    const a = await fx.location({ softwareHouseId: shWithReseller.id, resellerId: 'res-venue' });
    const b = await fx.location({ softwareHouseId: shWithReseller.id });
    const c = await fx.location({ softwareHouseId: shPlain.id });
    const d = await fx.location({ softwareHouseId: shPlain.id, wsUrl: fake2.url });
    const off = await fx.location({ softwareHouseId: shPlain.id, enabled: false });
    await onlyLocations([a.id, b.id, c.id, d.id]);
    const { gw, prefix } = await boot({});

    await waitFor(() => fake.open().length === 3 && fake2.open().length === 1, 'three links on the default URL and one on the override');
    const by = (key: string) => [...fake.connections, ...fake2.connections].filter((x) => x.apiKey === key);
    for (const loc of [a, b, c, d]) assert.equal(by(loc.apiKey).length, 1, 'one connection per location');
    assert.equal(by(off.apiKey).length, 0, 'a disabled location is not dialled');

    const ha = by(a.apiKey)[0]!;
    assert.equal(ha.headers.authorization, `Basic ${a.apiKey}`, 'the key is sent as-is, not base64');
    assert.equal(ha.headers['software-house-id'], 'sh-alpha');
    assert.equal(ha.headers['reseller-id'], 'res-venue', "the location's reseller id wins");
    assert.equal(by(b.apiKey)[0]!.headers['reseller-id'], 'res-house', "else the software house's");
    const hc = by(c.apiKey)[0]!;
    assert.equal(hc.headers['reseller-id'], undefined, 'no reseller-id header when none is set');
    assert.equal(hc.headers['software-house-id'], 'sh-beta');
    for (const conn of [ha, hc, by(d.apiKey)[0]!]) {
      assert.equal(conn.httpVersion, '1.1');
      assert.equal(conn.path, '/epos');
      assert.equal(conn.headers['sec-websocket-extensions'], undefined, 'perMessageDeflate is off');
    }

    const status = await getStatus(gw);
    assert.equal(status.replicaId, gw.service.replicaId);
    const open = status.locations.filter((l: any) => l.state === 'open').map((l: any) => l.locationId).sort();
    assert.deepEqual(open, [a.id, b.id, c.id, d.id].sort());
    assert.ok(!JSON.stringify(status).includes(a.apiKey), 'GET /status never shows API keys');

    const shared = await readConnectionStatuses(redis, prefix, [a.id, off.id, '00000000-0000-0000-0000-000000000000']);
    assert.equal(shared.get(a.id)!.state, 'open');
    assert.equal(shared.get(a.id)!.replicaId, gw.service.replicaId);
    await waitFor(async () => (await readConnectionStatuses(redis, prefix, [off.id])).get(off.id)!.state === 'disabled', 'disabled status');
    assert.equal(shared.get('00000000-0000-0000-0000-000000000000')!.state, 'unowned');

    await gw.close();
    gateways.pop();
    await waitFor(() => fake.open().length === 0 && fake2.open().length === 0, 'links closed on shutdown');
    assert.equal(by(a.apiKey)[0]!.closeCode, 1001, 'graceful shutdown closes with 1001');
  });

  it('answers pings at once, pings when idle, and replaces a link whose pongs stop', async () => {
    const sh = await fx.softwareHouse();
    const loc = await fx.location({ softwareHouseId: sh.id });
    await onlyLocations([loc.id]);
    const { gw } = await boot({ GATEWAY_PING_INTERVAL_MS: '150', GATEWAY_PONG_TIMEOUT_MS: '200', GATEWAY_BACKOFF_BASE_MS: '50' });
    const first = await waitFor(() => fake.open(loc.apiKey)[0], 'link');

    // Our ping is answered at once.
    const t0 = Date.now();
    await new Promise<void>((resolve) => {
      first.ws.once('pong', () => resolve());
      first.ws.ping();
    });
    assert.ok(Date.now() - t0 < 200, 'pong within 200 ms');

    // Idle: the gateway pings on its own, and the link stays up while pongs come back.
    await waitFor(() => first.pings >= 3, 'three pings from the gateway', 3_000);
    assert.ok(first.pings <= 8, `pings are paced by the interval (${first.pings})`);
    assert.equal(fake.connections.filter((c) => c.apiKey === loc.apiKey).length, 1, 'no reconnect while healthy');
    const st = (await getStatus(gw)).locations.find((l: any) => l.locationId === loc.id);
    assert.ok(st.lastPongAt, 'status records the last pong');

    // The far end stops answering pings: the gateway terminates and reconnects.
    fake.autoPong = false;
    const cut = Date.now();
    await waitFor(() => first.closedAt !== undefined, 'dead link terminated', 3_000);
    const detectMs = first.closedAt! - cut;
    assert.ok(detectMs <= 150 + 200 + 300, `dead link detected in ${detectMs} ms`);
    fake.autoPong = true;
    await waitFor(() => fake.open(loc.apiKey).length === 1 && fake.open(loc.apiKey)[0] !== first, 'a new link', 3_000);
    const after = (await getStatus(gw)).locations.find((l: any) => l.locationId === loc.id);
    assert.match(after.lastError, /no pong/);
    assert.ok(after.reconnects >= 1);
  });

  it('never leaves a gap longer than the ping interval between frames it sends, after traffic and when idle', async () => {
    const sh = await fx.softwareHouse();
    const loc = await fx.location({ softwareHouseId: sh.id });
    await onlyLocations([loc.id]);
    const interval = 500;
    await boot({ GATEWAY_PING_INTERVAL_MS: String(interval), GATEWAY_PONG_TIMEOUT_MS: '5000' });
    const conn = await waitFor(() => fake.open(loc.apiKey)[0], 'link');
    const nextPing = () => new Promise<void>((resolve) => conn.ws.once('ping', () => resolve()));

    // Idle for a few intervals.
    await waitFor(() => conn.pings >= 3, 'three pings while idle', 5_000, 5);
    // Traffic at different points of the keepalive cycle: a malformed frame is answered at
    // once, so the reply is the last frame sent and the next ping must follow it by one interval.
    for (const offset of [0, 0, 120, 300, 450]) {
      await nextPing();
      if (offset) await sleep(offset);
      const reply = await fake.sendRaw(conn, 'not json at all');
      assert.equal(reply.error?.code, -32700, 'answered with a parse error');
    }
    // Idle again.
    const n = conn.pings;
    await waitFor(() => conn.pings >= n + 3, 'three more pings while idle', 5_000, 5);

    const times = [conn.openedAt, ...conn.frames];
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    const worst = Math.max(...gaps);
    // The contract is "at most the interval plus a second"; on this box timers are late by
    // a few ms, so hold it to 200 ms (polling at half the interval gave up to 1.5 intervals: 740 ms here).
    assert.ok(worst <= interval + 200, `longest gap between frames sent is ${worst} ms (interval ${interval} ms): ${gaps.join(', ')}`);
    assert.ok(conn.pings <= Math.ceil((Date.now() - conn.openedAt) / (interval - 50)), `no more pings than the interval asks for (${conn.pings})`);
  });

  it('backs off exponentially with jitter up to the cap, and resets after a stable period', async () => {
    const sh = await fx.softwareHouse();
    const loc = await fx.location({ softwareHouseId: sh.id });
    await onlyLocations([loc.id]);
    fake.refuse.set(loc.apiKey, 503);
    const { gw } = await boot({ GATEWAY_BACKOFF_BASE_MS: '100', GATEWAY_BACKOFF_MAX_MS: '400', GATEWAY_STABLE_AFTER_MS: '300' });
    const tries = () => fake.handshakes.filter((h) => h.apiKey === loc.apiKey);
    await waitFor(() => tries().length >= 5, 'five attempts', 5_000);
    const st = (await getStatus(gw)).locations.find((l: any) => l.locationId === loc.id);
    assert.equal(st.state, 'backing_off');
    assert.match(st.lastError, /503/);
    const at = tries().map((h) => h.at);
    const expected = [100, 200, 400, 400];
    for (let i = 0; i < expected.length; i++) {
      const gap = at[i + 1]! - at[i]!;
      const d = expected[i]!;
      assert.ok(gap >= d * 0.75 - 15 && gap <= d + 150, `gap ${i + 1} is ${gap} ms, expected ${d * 0.75}..${d} ms`);
    }

    fake.refuse.delete(loc.apiKey);
    const conn = await waitFor(() => fake.open(loc.apiKey)[0], 'connected once accepted', 2_000);
    await sleep(450); // longer than GATEWAY_STABLE_AFTER_MS: the schedule starts again
    const before = tries().length;
    conn.ws.terminate();
    const dropped = Date.now();
    await waitFor(() => tries().length > before, 'reconnect attempt');
    const gap = tries()[before]!.at - dropped;
    assert.ok(gap <= 100 + 150, `after a stable period the first retry comes after the base delay (${gap} ms)`);
  });

  it('a brief 401 does not keep the venue dark: with the defaults the next attempt is within 30 s, and a re-submitted key retries at once', async () => {
    const sh = await fx.softwareHouse();
    const loc = await fx.location({ softwareHouseId: sh.id });
    await onlyLocations([loc.id]);
    fake.refuse.set(loc.apiKey, 401);
    const { prefix } = await boot({}); // GATEWAY_AUTH_BACKOFF_MS and GATEWAY_AUTH_BACKOFF_MAX_MS at their defaults
    const tries = () => fake.handshakes.filter((h) => h.apiKey === loc.apiKey);
    const st = await waitFor(async () => {
      const s = (await readConnectionStatuses(redis, prefix, [loc.id])).get(loc.id)!;
      return s.state === 'auth_failed' ? s : undefined;
    }, 'auth_failed status');
    const refusedAt = tries()[0]!.at;
    const wait = Date.parse(st.nextAttemptAt!) - refusedAt;
    assert.ok(wait <= 30_000 + 200 && wait >= 22_500 - 200, `the first retry after a 401 is due ${wait} ms after it (default 30 s, jitter down to 22.5 s)`);

    // Dojo accepts the key again; the operator re-submits the same key (a config change with the same
    // credentials). The link is waiting out an auth refusal, so it tries again at once.
    fake.refuse.delete(loc.apiKey);
    const changed = Date.now();
    await publishChange(prefix, loc.id);
    await waitFor(() => fake.open(loc.apiKey).length === 1, 'link up after the same key was submitted again', 5_000);
    assert.ok(Date.now() - changed < 1_000, `re-dialled in ${Date.now() - changed} ms`);
    assert.equal(tries().length, 2, 'one refused attempt, then one accepted');
  });

  it('refused with 401 once and accepted again: reconnected within the configured first auth backoff', async () => {
    const sh = await fx.softwareHouse();
    const loc = await fx.location({ softwareHouseId: sh.id });
    await onlyLocations([loc.id]);
    fake.refuse.set(loc.apiKey, 401);
    await boot({ GATEWAY_AUTH_BACKOFF_MS: '1000', GATEWAY_BACKOFF_BASE_MS: '20' });
    const tries = () => fake.handshakes.filter((h) => h.apiKey === loc.apiKey);
    await waitFor(() => tries().length >= 1, 'first attempt');
    const refusedAt = tries()[0]!.at;
    await sleep(200); // "20 s later", scaled down
    fake.refuse.delete(loc.apiKey);
    await waitFor(() => fake.open(loc.apiKey).length === 1, 'reconnected', 5_000);
    const took = Date.now() - refusedAt;
    assert.ok(took <= 1_000 + 400, `reconnected ${took} ms after the refusal (first auth backoff 1000 ms)`);
    assert.ok(tries()[1]!.at - refusedAt >= 750 - 20, 'not before the auth backoff (jitter takes at most a quarter)');
  });

  it('does not hammer a refused key (401/403): long backoff, auth_failed status, and re-dials at once on new credentials', async () => {
    const sh = await fx.softwareHouse();
    const loc = await fx.location({ softwareHouseId: sh.id });
    await onlyLocations([loc.id]);
    fake.refuse.set(loc.apiKey, 401);
    const { gw, prefix } = await boot({ GATEWAY_BACKOFF_BASE_MS: '20', GATEWAY_AUTH_BACKOFF_MS: '400' });
    const tries = () => fake.handshakes.filter((h) => h.apiKey === loc.apiKey);
    await waitFor(() => tries().length >= 1, 'first attempt');
    const st = await waitFor(async () => {
      const s = (await readConnectionStatuses(redis, prefix, [loc.id])).get(loc.id)!;
      return s.state === 'auth_failed' ? s : undefined;
    }, 'auth_failed status');
    assert.equal(st.lastHttpStatus, 401);
    assert.match(st.lastError!, /401/);
    assert.ok(st.nextAttemptAt, 'the next attempt time is visible');
    assert.ok(!JSON.stringify(st).includes(loc.apiKey));

    await waitFor(() => tries().length >= 3, 'three attempts', 4_000);
    const at = tries().map((h) => h.at);
    assert.ok(at[1]! - at[0]! >= 300, `second attempt waits the auth backoff (${at[1]! - at[0]!} ms), not the 20 ms base`);
    assert.ok(at[2]! - at[1]! >= 600, `and the next waits longer (${at[2]! - at[1]!} ms)`);

    fake.refuse.set(loc.apiKey, 403);
    // New credentials: reach the owner through Redis and dial at once, even mid-backoff.
    const newKey = 'sk_sandbox_rotated_key_0001';
    await db.prisma.location.update({ where: { id: loc.id }, data: { apiKeyCiphertext: fx.encryptApiKey(loc.id, newKey), apiKeyLast4: '0001' } });
    const changed = Date.now();
    await publishChange(prefix, loc.id);
    await waitFor(() => fake.open(newKey).length === 1, 'link with the new key', 5_000);
    assert.ok(Date.now() - changed < 1_000, `re-dialled in ${Date.now() - changed} ms`);
    assert.equal(fake.open(newKey)[0]!.headers.authorization, `Basic ${newKey}`);

    // Disabling reaches the owner too: the link closes and the status says disabled. Not when another deployment
    // (another QUEUE_PREFIX on the same Redis) publishes it: its channels are its own.
    await db.prisma.location.update({ where: { id: loc.id }, data: { enabled: false } });
    await publishChange(uniquePrefix('other-deployment'), loc.id);
    await sleep(500);
    assert.equal(fake.open(newKey).length, 1, "another deployment's message is not heard");
    await publishChange(prefix, loc.id);
    await waitFor(() => fake.open(newKey).length === 0, 'link closed when disabled', 5_000);
    await waitFor(async () => (await readConnectionStatuses(redis, prefix, [loc.id])).get(loc.id)!.state === 'disabled', 'disabled status');
    void gw; // not a promise: marks gw as deliberately unused here
  });
});
