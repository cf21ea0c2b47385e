import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { RunningApp } from '@app/common';
import { sign } from '@app/domain/events/webhook-signature';
import type { Fixtures, LocationFixture, TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, fixtures, seededRandom, uniquePrefix } from '@app/testing';
import { startAdmin } from '../../../apps/admin/src/main';
import { startWebhook } from '../../../apps/webhook/src/main';
import { sampleOrder } from '../admin/support/helpers';

/**
 * A bounded, reproducible fuzz of both HTTP apps: about 2,000 malformed
 * webhooks and 1,000 malformed operator/venue API calls from a seeded PRNG
 * (FUZZ_SEED=<n> replays a run; the seed is printed and named in every
 * failure). No answer may be a 5xx or a dropped connection, every 4xx must be
 * a JSON error, oversized bodies get 413, and both apps stay healthy.
 */

const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
const WEBHOOK_CASES = Number(process.env.FUZZ_WEBHOOK_CASES ?? 2000);
const ADMIN_CASES = Number(process.env.FUZZ_ADMIN_CASES ?? 1000);
const PARALLEL = 6;
const OPERATOR_TOKEN = 'op-token-fuzz-0123456789';
const SECRET = 'fuzz-secret-0123456789abcdef';
const WEBHOOK_MAX = 65_536;
const ADMIN_MAX = 65_536;

/** Picks cases from a seeded source (seededRandom in @app/testing). */
class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = seededRandom(seed);
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(this.next() * 256);
    return b;
  }
}

interface Case {
  label: string;
  app: 'webhook' | 'admin';
  method: string;
  path: string;
  headers: Record<string, string | string[]>;
  body?: Buffer;
  chunked?: boolean;
  /** Raw bytes written on a socket instead (malformed HTTP). */
  raw?: string;
  expect413?: boolean;
}

interface Answer {
  status: number;
  contentType: string;
  body: string;
}

/** Raw JSON literals the serializer cannot produce: numbers beyond int64 and doubles, escaped lone surrogates and NULs. */
const RAW_LITERALS = [
  '9223372036854775808',
  '-9223372036854775809',
  '99999999999999999999999999999',
  '1e400',
  '-1e400',
  '1.5',
  '-0',
  '"\\u0000"',
  '"abc\\u0000def"',
  '"\\ud800"',
  '"x\\udfff"',
  '"\\ud83d\\ude00"',
  '"\\uFFFF"',
];

/** A random replacement value of some type, as JSON text. */
function randomValue(rng: Rng): string {
  switch (rng.int(0, 11)) {
    case 0:
      return 'null';
    case 1:
      return rng.pick(['true', 'false']);
    case 2:
      return String(rng.int(-1000, 1000));
    case 3:
      return rng.pick(RAW_LITERALS);
    case 4:
      return JSON.stringify('x'.repeat(rng.pick([0, 1, 129, 300, 5000])));
    case 5:
      return rng.pick(['[]', '{}', '[1,2,3]', '{"a":1}', '[null]', '[{"id":"\\u0000"}]']);
    case 6:
      return JSON.stringify(rng.pick(['2026-13-45T99:99:99Z', 'not a date', 'GBP', 'EUR', 'Accepted', 'DineIn', 't1', '../../etc', '<script>']));
    case 7: {
      const d = rng.int(10, 200);
      return '['.repeat(d) + ']'.repeat(d);
    }
    default:
      return rng.pick(RAW_LITERALS);
  }
}

/** Every path (dotted) to a value inside a JSON value. */
function paths(v: unknown, prefix: string[] = [], out: string[][] = []): string[][] {
  if (prefix.length) out.push(prefix);
  if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out);
  return out;
}

/** `valid` with one field replaced by a random value (or removed, or an unknown field added), as JSON text. */
function mutate(rng: Rng, valid: object): { text: string; what: string } {
  const copy = JSON.parse(JSON.stringify(valid));
  const all = paths(copy);
  const roll = rng.next();
  if (roll < 0.1 || all.length === 0) {
    copy[rng.pick(['extra', 'idd', '\u0000', '__proto__'])] = 1;
    return { text: JSON.stringify(copy), what: 'unknown field' };
  }
  const p = rng.pick(all);
  let parent = copy;
  for (const k of p.slice(0, -1)) parent = parent[k];
  const last = p[p.length - 1]!;
  if (roll < 0.2) {
    delete parent[last];
    return { text: JSON.stringify(copy), what: `without ${p.join('.')}` };
  }
  const marker = `__FUZZ_RAW_${rng.int(0, 1e9)}__`;
  parent[last] = marker;
  const raw = randomValue(rng);
  return { text: JSON.stringify(copy).replace(JSON.stringify(marker), raw), what: `${p.join('.')}=${raw.slice(0, 40)}` };
}

/** Malformed JSON text: truncated, deeply nested, random bytes, or stray control characters. */
function garbage(rng: Rng, valid: string): { body: Buffer; what: string } {
  switch (rng.int(0, 5)) {
    case 0:
      return { body: Buffer.from(valid.slice(0, rng.int(0, valid.length - 1))), what: 'truncated' };
    case 1: {
      const d = rng.int(1_000, 20_000);
      return { body: Buffer.from('['.repeat(d) + ']'.repeat(d)), what: `nested ${d}` };
    }
    case 2: {
      const d = rng.int(100, 5_000);
      return { body: Buffer.from('{"a":'.repeat(d) + '1' + '}'.repeat(d)), what: `nested objects ${d}` };
    }
    case 3:
      return { body: rng.bytes(rng.int(1, 2_000)), what: 'random bytes' };
    case 4:
      return { body: Buffer.from(valid.replace('"', '"\u0000')), what: 'raw NUL byte' };
    default:
      return { body: Buffer.from(valid.replace(/"/g, rng.pick(["'", '', '""']))), what: 'broken quotes' };
  }
}

const CONTENT_TYPES = [
  'application/json',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  'application/octet-stream',
  '',
  'application/json, text/plain',
];

/** Malformed HTTP on a socket. */
function rawRequest(rng: Rng, path: string, headers: string): { raw: string; what: string } {
  const body = '{"a":1}';
  const variants: [string, string][] = [
    ['no colon', `POST ${path} HTTP/1.1\r\nHost: x\r\nBroken header line\r\nContent-Length: 7\r\n${headers}\r\n${body}`],
    ['bad content-length', `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n${headers}\r\n${body}`],
    ['two content-lengths', `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\nContent-Length: 9\r\n${headers}\r\n${body}`],
    ['bad chunk', `POST ${path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n${headers}\r\nzz\r\n${body}\r\n0\r\n\r\n`],
    ['NUL in header', `POST ${path} HTTP/1.1\r\nHost: x\r\nX-Odd: a\u0000b\r\nContent-Length: 7\r\n${headers}\r\n${body}`],
    ['garbage request line', `GARBAGE \u0001\u0002\r\n\r\n`],
    ['space in header name', `POST ${path} HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\nContent-Length: 7\r\n${headers}\r\n${body}`],
    ['huge header', `POST ${path} HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(40_000)}\r\nContent-Length: 7\r\n${headers}\r\n${body}`],
  ];
  const [what, raw] = rng.pick(variants);
  return { raw, what };
}

describe(`HTTP fuzz of the webhook and admin apps (seed ${SEED}; replay with FUZZ_SEED=${SEED})`, () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let webhook: RunningApp;
  let admin: RunningApp;
  let loc: LocationFixture;
  let venueToken: string;
  let otherLocation: string;
  let softwareHouseId: string;
  const agent = new http.Agent({ keepAlive: true, maxSockets: PARALLEL });

  before(async () => {
    console.log(`http fuzz seed ${SEED} (replay with FUZZ_SEED=${SEED})`);
    db = await createTestDatabase('httpfuzz');
    fx = fixtures(db.prisma);
    loc = await fx.location({ webhookSecrets: [{ value: SECRET }] });
    const prefix = uniquePrefix('fuzz');
    webhook = await startWebhook(appEnv(db, { QUEUE_PREFIX: prefix, WEBHOOK_MAX_BODY_BYTES: String(WEBHOOK_MAX) }));
    admin = await startAdmin(
      appEnv(db, {
        QUEUE_PREFIX: prefix,
        ADMIN_OPERATOR_TOKENS: OPERATOR_TOKEN,
        ADMIN_MAX_BODY_BYTES: String(ADMIN_MAX),
        DOJO_API_URL: 'http://127.0.0.1:9',
        DOJO_TIMEOUT_MS: '200',
        ADMIN_REGISTRATION_ATTEMPTS: '1',
      }),
    );
    const tok = await fetch(`${admin.url}/v1/locations/${loc.id}/venue-tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'fuzz till' }),
    });
    assert.equal(tok.status, 201);
    venueToken = ((await tok.json()) as { token: string }).token;
    const loc2 = await fx.location();
    otherLocation = loc2.id;
    softwareHouseId = (await db.prisma.location.findUniqueOrThrow({ where: { id: loc.id } })).softwareHouseId;
    const t1 = await venue('PUT', `/venue/v1/locations/${loc.id}/tables/t1`, { name: 'T1' });
    assert.equal(t1.status, 200);
  });

  after(async () => {
    agent.destroy();
    await webhook?.close();
    await admin?.close();
    await db?.drop();
  });

  const venue = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(`${admin.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${venueToken}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: await r.text() };
  };

  const validEvent = (id: string) =>
    JSON.stringify({
      id,
      event: 'payment_intent.status_updated',
      accountId: loc.dojoAccountId,
      createdAt: '2026-11-21T10:00:00.000Z',
      data: { paymentIntentId: `pi_${id}`, paymentStatus: 'Captured', captureMode: 'Auto', amount: { value: 1000, currencyCode: 'GBP' } },
    });

  function webhookCase(rng: Rng, i: number): Case {
    const base: Case = { label: '', app: 'webhook', method: 'POST', path: '/webhooks/dojo', headers: { 'content-type': 'application/json' } };
    const valid = validEvent(`evt_fuzz_${i}`);
    const signed = (body: Buffer) => ({ ...base.headers, 'dojo-signature': sign(SECRET, body) });
    const kind = rng.pick(['garbage', 'garbage', 'mutate', 'mutate', 'mutate', 'content-type', 'signature', 'headers', 'raw', 'oversized', 'route'] as const);
    switch (kind) {
      case 'garbage': {
        const g = garbage(rng, valid);
        return { ...base, label: `webhook garbage: ${g.what}`, body: g.body, headers: rng.chance(0.8) ? signed(g.body) : base.headers };
      }
      case 'mutate': {
        const m = mutate(rng, JSON.parse(valid));
        const body = Buffer.from(m.text);
        return { ...base, label: `webhook field: ${m.what}`, body, headers: signed(body) };
      }
      case 'content-type': {
        const body = Buffer.from(valid);
        const ct = rng.pick(CONTENT_TYPES);
        return { ...base, label: `webhook content-type ${JSON.stringify(ct)}`, body, headers: { ...(ct ? { 'content-type': ct } : {}), 'dojo-signature': sign(SECRET, body) } };
      }
      case 'signature': {
        const body = Buffer.from(valid);
        const good = sign(SECRET, body);
        const sig = rng.pick([
          [good, good],
          [good, sign('other', body)],
          [''],
          ['sha256='],
          [good.toLowerCase()],
          [good.replace('sha256=', 'sha1=')],
          [good + '-00'],
          ['x'.repeat(5000)],
          [sign('wrong-secret', body)],
          ['sha256=' + 'ZZ-'.repeat(31) + 'ZZ'],
        ]);
        return { ...base, label: `webhook signature ${JSON.stringify(sig).slice(0, 60)}`, body, headers: { ...base.headers, 'dojo-signature': sig.length === 1 ? sig[0]! : sig } };
      }
      case 'headers': {
        const body = Buffer.from(valid);
        const headers: Record<string, string | string[]> = { ...signed(body) };
        const what = rng.pick(['big', 'many', 'latin1', 'dup content-type', 'empty names'] as const);
        if (what === 'big') headers['x-big'] = 'b'.repeat(rng.pick([1_000, 8_000, 15_000, 30_000]));
        if (what === 'many') for (let h = 0; h < rng.int(50, 300); h++) headers[`x-h${h}`] = String(h);
        if (what === 'latin1') headers['x-latin1'] = '\u00ff\u00e9\u00a0';
        if (what === 'dup content-type') headers['content-type'] = ['application/json', 'text/plain'];
        if (what === 'empty names') headers['x-empty'] = '';
        return { ...base, label: `webhook headers: ${what}`, body, headers };
      }
      case 'raw': {
        const r = rawRequest(rng, base.path, 'Connection: close\r\n');
        return { ...base, label: `webhook raw: ${r.what}`, raw: r.raw };
      }
      case 'oversized': {
        const body = Buffer.alloc(rng.pick([WEBHOOK_MAX + 1, 100_000, 300_000, 1_000_000]), 'x');
        return { ...base, label: `webhook oversized ${body.length}`, body, headers: signed(body), chunked: rng.chance(0.5), expect413: true };
      }
      default:
        return { ...base, label: 'webhook route', method: rng.pick(['GET', 'PUT', 'DELETE', 'POST']), path: rng.pick(['/webhooks/dojo/x', '/webhooks', '/%00', '/webhooks/dojo?x=1']) };
    }
  }

  function adminCase(rng: Rng, i: number): Case {
    const L = loc.id;
    const op = { authorization: `Bearer ${OPERATOR_TOKEN}`, 'content-type': 'application/json' };
    const ven = { authorization: `Bearer ${venueToken}`, 'content-type': 'application/json' };
    const writes: { method: string; path: string; headers: Record<string, string>; valid: object }[] = [
      { method: 'POST', path: '/v1/software-houses', headers: op, valid: { name: `SH ${i}`, dojoSoftwareHouseId: `sh-fuzz-${i}` } },
      { method: 'PATCH', path: `/v1/locations/${L}`, headers: op, valid: { name: 'Renamed', currency: 'GBP' } },
      {
        method: 'POST',
        path: '/v1/locations',
        headers: op,
        valid: { name: `Fuzz ${i}`, softwareHouseId, dojoAccountId: `acc_fuzz_${i}`, apiKey: 'sk_sandbox_fuzz1234', capabilities: ['SearchOrders'] },
      },
      { method: 'POST', path: `/v1/locations/${L}/venue-tokens`, headers: op, valid: { name: 'till' } },
      { method: 'PUT', path: `/venue/v1/locations/${L}/orders/o-${i % 50}`, headers: ven, valid: sampleOrder(`o-${i % 50}`) },
      { method: 'PUT', path: `/venue/v1/locations/${L}/tables/t-${i % 20}`, headers: ven, valid: { name: 'T', maxCovers: 4, waiterIds: ['w1'] } },
      { method: 'PUT', path: `/venue/v1/locations/${L}/areas/a-${i % 10}`, headers: ven, valid: { name: 'Terrace', waiterIds: ['w1'] } },
      {
        method: 'PUT',
        path: `/venue/v1/locations/${L}/parties/p-${i % 20}`,
        headers: ven,
        valid: { tableIds: ['t1'], status: 'Seated', startTime: '2026-11-21T12:00:00.000Z', covers: 2, name: 'Party', hostNotes: 'n' },
      },
      {
        method: 'PUT',
        path: `/venue/v1/locations/${L}/reservations/r-${i % 20}`,
        headers: ven,
        valid: { name: 'Smith', covers: 4, startTime: '2026-11-22T19:00:00.000Z', endTime: '2026-11-22T21:00:00.000Z', tableIds: ['t1'], guestRequests: 'g' },
      },
      { method: 'PUT', path: `/venue/v1/locations/${L}/bill-template`, headers: ven, valid: { header: [{ lineType: 'Text', text: { value: 'Hi', size: 'Body' } }], footer: [] } },
    ];
    const lists = ['/v1/locations', '/v1/software-houses', `/v1/locations/${L}/webhook-secrets`, `/v1/locations/${L}/venue-tokens`, `/venue/v1/locations/${L}/feed`];
    const kind = rng.pick(['mutate', 'mutate', 'mutate', 'mutate', 'garbage', 'content-type', 'token', 'query', 'ids', 'raw', 'oversized'] as const);
    const w = rng.pick(writes);
    const base: Case = { label: '', app: 'admin', method: w.method, path: w.path, headers: w.headers };
    switch (kind) {
      case 'mutate': {
        const m = mutate(rng, w.valid);
        return { ...base, label: `admin ${w.method} ${w.path} field: ${m.what}`, body: Buffer.from(m.text) };
      }
      case 'garbage': {
        const g = garbage(rng, JSON.stringify(w.valid));
        return { ...base, label: `admin ${w.method} ${w.path} garbage: ${g.what}`, body: g.body };
      }
      case 'content-type': {
        const ct = rng.pick(CONTENT_TYPES);
        const headers: Record<string, string | string[]> = { authorization: w.headers.authorization! };
        if (ct) headers['content-type'] = ct;
        if (rng.chance(0.2)) headers['content-type'] = ['application/json', 'application/json'];
        return { ...base, label: `admin ${w.method} ${w.path} content-type ${JSON.stringify(headers['content-type'])}`, headers, body: Buffer.from(JSON.stringify(w.valid)) };
      }
      case 'token': {
        const token = rng.pick([
          undefined,
          '',
          'Bearer',
          'Bearer ',
          `Bearer ${OPERATOR_TOKEN}x`,
          `bearer ${venueToken}`,
          `Basic ${OPERATOR_TOKEN}`,
          `Bearer ${'x'.repeat(10_000)}`,
          `Bearer ${venueToken}\u00ff`,
          w.headers === op ? `Bearer ${venueToken}` : `Bearer ${OPERATOR_TOKEN}`,
          [`Bearer ${OPERATOR_TOKEN}`, `Bearer ${venueToken}`],
        ]);
        const headers: Record<string, string | string[]> = { 'content-type': 'application/json' };
        if (token !== undefined) headers.authorization = token;
        const path = rng.chance(0.3) ? `/venue/v1/locations/${otherLocation}/orders/o-1` : w.path;
        return { ...base, path, label: `admin ${w.method} ${path} token ${JSON.stringify(token)?.slice(0, 40)}`, headers, body: Buffer.from(JSON.stringify(w.valid)) };
      }
      case 'query': {
        const path = rng.pick(lists);
        const names = ['limit', 'cursor', 'softwareHouseId', 'dojoAccountId', 'enabled', 'protocol', 'registrationState', 'connectionState', 'after', 'bogus', 'limit[]', 'cursor[a]', '__proto__'];
        const values = ['1', '0', '-1', '501', '1e400', '99999999999999999999', 'abc', '%00', '%F0%9F%98%80', '%ED%A0%80', 'true', 'epos-data', 'tables', '', 'x'.repeat(3000), '00000000-0000-0000-0000-000000000000'];
        const q = Array.from({ length: rng.int(1, 4) }, () => `${encodeURIComponent(rng.pick(names))}=${rng.pick(values)}`).join('&');
        const headers = path.startsWith('/venue') ? ven : op;
        return { ...base, method: 'GET', path: `${path}?${q}`, headers, label: `admin GET ${path}?${q.slice(0, 80)}` };
      }
      case 'ids': {
        const id = rng.pick(['%00', 'a%00b', '%ED%A0%80', 'x'.repeat(300), '..', '%2e%2e', '%F0%9F%98%80', 'not-a-uuid', '00000000-0000-0000-0000-000000000000', '%20', '%2F']);
        const path = rng.pick([
          `/v1/locations/${id}`,
          `/v1/software-houses/${id}`,
          `/v1/locations/${L}/webhook-secrets/${id}/activate`,
          `/venue/v1/locations/${L}/orders/${id}`,
          `/venue/v1/locations/${L}/tables/${id}`,
          `/venue/v1/locations/${id}/feed`,
        ]);
        const method = rng.pick(['GET', 'PUT', 'POST', 'PATCH', 'DELETE']);
        const headers = path.startsWith('/venue') ? ven : op;
        return { ...base, method, path, headers, label: `admin ${method} ${path.slice(0, 80)}`, body: method === 'GET' || method === 'DELETE' ? undefined : Buffer.from('{}') };
      }
      case 'raw': {
        const r = rawRequest(rng, w.path, `Authorization: ${w.headers.authorization}\r\nContent-Type: application/json\r\nConnection: close\r\n`);
        return { ...base, label: `admin raw: ${r.what}`, raw: r.raw };
      }
      default: {
        const body = Buffer.from(JSON.stringify({ ...w.valid, pad: 'p'.repeat(rng.pick([ADMIN_MAX, 200_000, 1_000_000])) }));
        return { ...base, label: `admin oversized ${body.length}`, body, chunked: rng.chance(0.5), expect413: true };
      }
    }
  }

  function send(c: Case): Promise<Answer> {
    const base = c.app === 'webhook' ? webhook.url : admin.url;
    const { hostname, port } = new URL(base);
    if (c.raw !== undefined) {
      return new Promise((resolve, reject) => {
        const sock = net.connect(Number(port), hostname);
        let text = '';
        sock.setEncoding('latin1');
        sock.on('data', (d) => (text += String(d)));
        sock.on('error', (err) => (text ? undefined : reject(err)));
        sock.setTimeout(10_000, () => sock.destroy(new Error('no answer within 10 s')));
        sock.on('close', () => {
          const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
          if (!m) return reject(new Error(`no HTTP answer (got ${JSON.stringify(text.slice(0, 80))})`));
          const [head, ...rest] = text.split('\r\n\r\n');
          resolve({ status: Number(m[1]), contentType: /content-type: *([^\r\n]*)/i.exec(head ?? '')?.[1] ?? '', body: rest.join('\r\n\r\n') });
        });
        sock.on('connect', () => sock.write(Buffer.from(c.raw!, 'latin1')));
      });
    }
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | string[]> = { ...c.headers };
      if (c.body && !c.chunked) headers['content-length'] = String(c.body.length);
      const req = http.request({ host: hostname, port, method: c.method, path: c.path, headers, agent, insecureHTTPParser: false });
      req.setTimeout(15_000, () => req.destroy(new Error('no answer within 15 s')));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      if (c.body && c.chunked) {
        for (let o = 0; o < c.body.length; o += 65_536) req.write(c.body.subarray(o, o + 65_536));
        req.end();
      } else req.end(c.body);
    });
  }

  /** Problems with one answer, or nothing. */
  function judge(c: Case, a: Answer): string | undefined {
    if (a.status >= 500) return `answered ${a.status}: ${a.body.slice(0, 200)}`;
    if (c.expect413 && a.status !== 413) return `expected 413, got ${a.status}`;
    if (a.status >= 400) {
      if (!/application\/json/.test(a.contentType)) return `${a.status} without a JSON content type (${a.contentType}): ${a.body.slice(0, 120)}`;
      let j: unknown;
      try {
        j = JSON.parse(a.body);
      } catch {
        return `${a.status} with a body that is not JSON: ${a.body.slice(0, 120)}`;
      }
      if (typeof j !== 'object' || j === null || !('error' in j || 'message' in j)) return `${a.status} with a JSON body that is not an error: ${a.body.slice(0, 120)}`;
    }
    return undefined;
  }

  async function run(cases: Case[]): Promise<{ failures: string[]; statuses: Map<number, number> }> {
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        while (next < cases.length) {
          const idx = next++;
          const c = cases[idx]!;
          let problem: string | undefined;
          try {
            const a = await send(c);
            statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
            problem = judge(c, a);
          } catch (err) {
            problem = `no answer: ${(err as Error).message}`;
          }
          if (problem) failures.push(`#${idx} ${c.label}: ${problem}`);
        }
      }),
    );
    return { failures, statuses };
  }

  const report = (what: string, r: { failures: string[]; statuses: Map<number, number> }) => {
    const counts = [...r.statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}:${n}`).join(' ');
    console.log(`${what}: ${counts}`);
    assert.deepEqual(r.failures.slice(0, 15), [], `seed ${SEED}: ${r.failures.length} bad answers (replay with FUZZ_SEED=${SEED})`);
  };

  it(`sends ${WEBHOOK_CASES} malformed webhooks: no 5xx, JSON 4xx errors, 413 for oversized bodies`, async () => {
    const rng = new Rng(SEED);
    report('webhook statuses', await run(Array.from({ length: WEBHOOK_CASES }, (_, i) => webhookCase(rng, i))));
  });

  it(`sends ${ADMIN_CASES} malformed operator and venue API calls: no 5xx, JSON 4xx errors, 413 for oversized bodies`, async () => {
    const rng = new Rng(SEED ^ 0x5bd1e995);
    report('admin statuses', await run(Array.from({ length: ADMIN_CASES }, (_, i) => adminCase(rng, i))));
  });

  it('leaves both apps healthy, and valid requests still work', async () => {
    for (const app of [webhook, admin]) assert.equal((await fetch(`${app.url}/health`)).status, 200);
    const ev = validEvent('evt_fuzz_final');
    const r = await fetch(`${webhook.url}/webhooks/dojo`, { method: 'POST', headers: { 'content-type': 'application/json', 'dojo-signature': sign(SECRET, ev) }, body: ev });
    assert.equal(r.status, 200, await r.text());
    const o = await venue('PUT', `/venue/v1/locations/${loc.id}/orders/o-final`, sampleOrder('o-final'));
    assert.equal(o.status, 200, o.body);
    const list = await fetch(`${admin.url}/v1/locations?limit=5`, { headers: { authorization: `Bearer ${OPERATOR_TOKEN}` } });
    assert.equal(list.status, 200);
  });
});
