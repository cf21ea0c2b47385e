import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { RunningApp } from '@app/common';
import { sign } from '@app/domain/events/webhook-signature';
import type { Fixtures, LocationFixture, TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, fixtures, uniquePrefix } from '@app/testing';
import { startAdmin } from '../../../apps/admin/src/main';
import { startWebhook } from '../../../apps/webhook/src/main';

const OPERATOR_TOKEN = 'op-token-0123456789abcdef';
const SECRET = 'edges-secret-0123456789';
const MB = 1_048_576;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** POST with Node's own client, which reads the status while it may still be sending; `chunked` sends no content-length. */
function post(url: string, body: Buffer, headers: Record<string, string> = {}, chunked = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(chunked ? {} : { 'content-length': String(body.length) }), ...headers } });
    req.setTimeout(20_000, () => req.destroy(new Error('client timeout')));
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (chunked) {
      // Several writes of 64 KB, as a streaming client would.
      for (let i = 0; i < body.length; i += 65_536) req.write(body.subarray(i, i + 65_536));
      req.end();
    } else req.end(body);
  });
}

/** Writes raw bytes on a socket, optionally a few at a time with pauses; resolves with whatever came back and how long until the server closed. */
function raw(url: string, chunks: string[], pauseMs = 0): Promise<{ text: string; ms: number }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const sock = net.connect(Number(port), hostname);
    let text = '';
    let stopped = false;
    sock.setEncoding('utf8');
    sock.on('data', (d) => (text += String(d)));
    sock.on('error', () => undefined); // the server resets slow or oversized clients on purpose; close resolves
    sock.on('close', () => {
      stopped = true;
      resolve({ text, ms: Date.now() - t0 });
    });
    sock.setTimeout(15_000, () => {
      sock.destroy();
      reject(new Error(`no close within 15 s; got ${JSON.stringify(text.slice(0, 200))}`));
    });
    sock.on('connect', () => {
      (async () => {
        for (const c of chunks) {
          if (stopped) return;
          sock.write(c);
          if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
        }
      })().catch(reject);
    });
  });
}

const jsonOf = (a: Answer) => JSON.parse(a.body) as Record<string, unknown>;

describe('HTTP edges of the webhook and admin apps: oversized bodies, duplicate signatures, slow clients', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let webhook: RunningApp;
  let admin: RunningApp;
  let loc: LocationFixture;

  before(async () => {
    db = await createTestDatabase('httpedges');
    fx = fixtures(db.prisma);
    loc = await fx.location({ webhookSecrets: [{ value: SECRET }] });
    const timeouts = { HTTP_HEADERS_TIMEOUT_MS: '600', HTTP_REQUEST_TIMEOUT_MS: '1500' };
    webhook = await startWebhook(appEnv(db, { QUEUE_PREFIX: uniquePrefix('edges'), ...timeouts }));
    admin = await startAdmin(appEnv(db, { QUEUE_PREFIX: uniquePrefix('edges'), ADMIN_OPERATOR_TOKENS: OPERATOR_TOKEN, ...timeouts }));
  });

  after(async () => {
    await webhook?.close();
    await admin?.close();
    await db?.drop();
  });

  const event = (id: string) =>
    JSON.stringify({
      id,
      event: 'payment_intent.status_updated',
      accountId: loc.dojoAccountId,
      createdAt: '2026-11-21T10:00:00.000Z',
      data: { paymentIntentId: 'pi_edges', paymentStatus: 'Captured', captureMode: 'Auto' },
    });

  it('answers webhook bodies of 5 MB and 20 MB with a clean 413, with or without a content-length', async () => {
    const hook = `${webhook.url}/webhooks/dojo`;
    for (const size of [5 * MB, 20 * MB]) {
      const body = Buffer.alloc(size, 'x');
      for (const chunked of [false, true]) {
        const a = await post(hook, body, { 'dojo-signature': sign(SECRET, body) }, chunked);
        assert.equal(a.status, 413, `${size} bytes, chunked=${chunked}`);
        assert.equal(jsonOf(a).error, 'body too large');
      }
      // fetch (undici) too.
      const f = await fetch(hook, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      assert.equal(f.status, 413);
      assert.equal(((await f.json()) as { error: string }).error, 'body too large');
    }
    const ok = event('evt_after_big');
    const a = await post(hook, Buffer.from(ok), { 'dojo-signature': sign(SECRET, ok) });
    assert.equal(a.status, 200, a.body);
  });

  it('answers the admin API with a clean 413 for JSON bodies over ADMIN_MAX_BODY_BYTES', async () => {
    const url = `${admin.url}/v1/software-houses`;
    for (const size of [5 * MB, 20 * MB]) {
      const body = Buffer.from(JSON.stringify({ name: 'x'.repeat(size), dojoSoftwareHouseId: 'sh-big' }));
      for (const chunked of [false, true]) {
        const a = await post(url, body, { authorization: `Bearer ${OPERATOR_TOKEN}` }, chunked);
        assert.equal(a.status, 413, `${size} bytes, chunked=${chunked}: ${a.body.slice(0, 200)}`);
        assert.equal(jsonOf(a).statusCode, 413);
      }
      const f = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${OPERATOR_TOKEN}` }, body });
      assert.equal(f.status, 413);
      await f.json();
    }
    const ok = await post(url, Buffer.from(JSON.stringify({ name: 'Small', dojoSoftwareHouseId: 'sh-small' })), { authorization: `Bearer ${OPERATOR_TOKEN}` });
    assert.equal(ok.status, 201, ok.body);
  });

  it('answers a webhook with two dojo-signature header lines with 400 and a reason', async () => {
    const body = event('evt_two_sigs');
    const sig = sign(SECRET, body);
    const { text } = await raw(webhook.url, [
      `POST /webhooks/dojo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n` +
        `Dojo-Signature: ${sig}\r\ndojo-signature: ${sig}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    ]);
    assert.match(text, /^HTTP\/1\.1 400 /);
    assert.match(text, /exactly one dojo-signature header is allowed/);
    assert.equal(await db.prisma.dojoEvent.count({ where: { eventId: 'evt_two_sigs' } }), 0);
  });

  it('cuts off clients that send headers or a body a byte at a time (HTTP_HEADERS_TIMEOUT_MS, HTTP_REQUEST_TIMEOUT_MS)', async () => {
    for (const app of [webhook, admin]) {
      const head = 'POST /webhooks/dojo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Slow: ' + 'a'.repeat(200);
      const slowHeaders = await raw(app.url, [...head], 50);
      assert.ok(slowHeaders.ms < 4_000, `headers: closed after ${slowHeaders.ms} ms`);
      assert.match(slowHeaders.text, /^HTTP\/1\.1 408 /);
      const body = event('evt_slow');
      const slowBody = await raw(
        app.url,
        [`POST /webhooks/dojo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`, ...body],
        50,
      );
      assert.ok(slowBody.ms < 5_000, `body: closed after ${slowBody.ms} ms`);
      assert.match(slowBody.text, /^HTTP\/1\.1 408 /);
    }
    const ok = event('evt_after_slow');
    assert.equal((await post(`${webhook.url}/webhooks/dojo`, Buffer.from(ok), { 'dojo-signature': sign(SECRET, ok) })).status, 200);
  });
});
