import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import pino from 'pino';
import { ALL_CAPABILITIES } from '@app/contracts';
import { RpcDispatcher } from '@app/domain/rpc/rpc-dispatcher';
import { RpcWorkerHost } from '@app/queue';
import type { TestDatabase } from '@app/testing';
import { createTestDatabase, fixtures, seededRandom, testRedisUrl, uniquePrefix, waitFor } from '@app/testing';
import { GBP, seedVenue } from '../worker/fixtures';
import type { FakeConnection } from './support/fake-dojo';
import { FakeDojo } from './support/fake-dojo';
import type { TestGateway } from './support/harness';
import { bootGateway } from './support/harness';

/**
 * Issue 18, item 3: a seeded fuzz over a real socket to the gateway, with the
 * real worker (RpcDispatcher on Postgres) behind it. Every frame with a usable
 * id gets exactly one reply carrying it; bad input is never UnexpectedError;
 * the socket stays open; a pay-at-table cycle works afterwards.
 * Replay a run with FUZZ_SEED=<seed>; FUZZ_FRAMES changes the number of frames.
 */
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : randomInt(2 ** 31);
/** Random frames, after the sweep. */
const RANDOM_FRAMES = Number(process.env.FUZZ_FRAMES ?? 1_000);
const MAX_BYTES = 1_048_576;


/** A frame to send, and what its reply must look like. */
interface Frame {
  kind: string;
  data: string | Buffer;
  binary?: boolean;
  /** The id the reply must carry; null: one reply with a null id; 'batch': one array reply. */
  expect: { id: string | number } | { id: null } | { batch: (string | number | null)[] | 'empty' };
}

const RAW = (text: string) => `\u0001RAW:${text}\u0001`;
/** JSON.stringify, then raw numeric text in place of RAW() markers. */
function encode(v: unknown): string {
  return JSON.stringify(v).replace(/"\\u0001RAW:([^"\\]*)\\u0001"/g, '$1');
}

describe(`gateway fuzz (seed ${SEED}, a sweep and ${RANDOM_FRAMES} random frames)`, () => {
  let db: TestDatabase;
  let fake: FakeDojo;
  let worker: RpcWorkerHost;
  let gw: TestGateway | undefined;
  let conn: FakeConnection;
  const workerLog: string[] = [];

  before(async () => {
    console.log(`fuzz seed ${SEED} (replay with FUZZ_SEED=${SEED})`);
    db = await createTestDatabase('gwfuzz');
    fake = await new FakeDojo().start();
    const prefix = uniquePrefix('gwfuzz');
    const sh = await fixtures(db.prisma).softwareHouse();
    const loc = await fixtures(db.prisma).location({ softwareHouseId: sh.id, capabilities: ALL_CAPABILITIES });
    await seedVenue(fixtures(db.prisma), loc.id);
    for (let i = 1; i <= 5; i++) await fixtures(db.prisma).order(loc.id, { id: `F-${i}`, total: 1_000_000, tableId: 'T2' });
    const logger = pino(
      { level: 'warn' },
      new Writable({
        write(chunk, _enc, cb) {
          workerLog.push(String(chunk));
          cb();
        },
      }),
    );
    const dispatcher = new RpcDispatcher({ prisma: db.prisma, logger, events: { ingest: async () => ({ eventRowId: '0', duplicate: false }) } });
    worker = new RpcWorkerHost({ redisUrl: testRedisUrl(), prefix, concurrency: 4, handler: (job) => dispatcher.handle(job) });
    worker.start();
    await worker.waitUntilReady();
    gw = await bootGateway(db, { QUEUE_PREFIX: prefix, DOJO_WS_URL: fake.url, GATEWAY_MAX_MESSAGE_BYTES: String(MAX_BYTES) });
    conn = await waitFor(() => fake.open(loc.apiKey)[0], 'link');
  });

  after(async () => {
    await gw?.close().catch(() => undefined); // best effort (teardown)
    await worker?.close();
    await fake?.close();
    await db?.drop();
  });

  it('answers every frame, never UnexpectedError for bad input, keeps the socket, and pays at table afterwards', async () => {
    const rnd = seededRandom(SEED);
    const int = (n: number) => Math.floor(rnd() * n);
    const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
    const future = () => new Date(Date.now() + 60_000).toISOString();
    let n = 0;

    const bases: Record<string, () => Record<string, unknown>> = {
      SearchOrdersV1: () => ({ dineIn: { tableId: 'T2', waiterId: 'w1' }, payableOnly: true, cursor: { limit: 10, after: 'by4x' } }),
      GetOrderByIdV1: () => ({ orderId: pick(['F-1', 'F-2', 'nope']) }),
      CreateOrderLockV1: () => ({ orderId: pick(['F-1', 'F-2', 'F-3']), lockId: `lk-${n}`, expiry: future() }),
      ExtendOrderLockV1: () => ({ orderId: pick(['F-1', 'F-2']), lockId: `lk-${n}`, expiry: future() }),
      DeleteOrderLockV1: () => ({ orderId: pick(['F-1', 'F-2', 'F-3']), lockId: `lk-${n}` }),
      CreatePartyV1: () => ({
        dojoPartyId: `dp-${n}`,
        name: 'Smith',
        covers: 2,
        tableIds: ['T1'],
        status: 'Seated',
        startTime: new Date().toISOString(),
        expectedEndTime: future(),
      }),
      CreateReservationV1: () => ({
        dojoReservationId: `dr-${n}`,
        name: 'Jones',
        covers: 4,
        tableIds: ['T2'],
        startTime: future(),
        endTime: new Date(Date.now() + 3_600_000).toISOString(),
        hostNotes: 'window',
      }),
      SearchReservationsV1: () => ({ tableId: 'T2', fromTime: new Date().toISOString(), toTime: future(), cursor: { limit: 5, after: 'ci4x' } }),
      RecordOrderPaymentByIdV1: () => ({ orderId: pick(['F-4', 'F-5']), paymentIntentId: `pi-${n}`, paidAmount: GBP(1 + int(50)), tipsAmount: GBP(int(5)) }),
      CreateOrderV1: () => ({
        dojoOrderId: `do-${n}`,
        items: [{ name: 'Soup', plu: 'S1', quantity: 1, amountPerItem: GBP(700) }],
        totalAmount: GBP(700),
        payments: [],
        details: { orderType: 'DineIn', dineIn: { tableId: 'T3' } },
        note: 'fuzz',
      }),
    };
    const methods = Object.keys(bases);
    const MISSING = Symbol('missing');
    const badValues = (): unknown[] => [
      MISSING, null, true, false, 0, -1, 1.5, -0.000001, 2 ** 31, -(2 ** 31) - 1, 2 ** 40, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER,
      1e20, 2 ** 63, -(2 ** 63), RAW('-0'), RAW('1E3'), RAW('0.1e1'), RAW('9007199254740993'), RAW('123456789012345678901234567890'),
      RAW('1e400'), RAW('-1e400'), RAW('1e-400'), '', 'x', '\u0000', `a\u0000b`, '\ud800', `x\udfff`, '\udc00\ud800', 'x'.repeat(200_000),
      'x'.repeat(MAX_BYTES), '€'.repeat(2_000), [], {}, [1, 2], [null], { a: { b: {} } }, { '\u0000': 1 }, { ['\ud800']: 'x' },
      '2026-02-30T00:00:00Z', '0000-01-01T00:00:00Z', '9999-12-31T23:59:60Z', '+275760-09-13T00:00:00Z', '1970-01-01T00:00:00+25:00',
      '2026-01-01', '2026-01-01T00:00:00', '2026-01-01T00:00:00.123456789Z', '1900-01-01T00:00:00Z', ' ', '\n', '%', '_', '\\', "'; --",
      'bykx', 'by5k', 'by45OTk5OTk5OTk5OTk5OTk5OTk5OQ', 'dC54', 'o.1', 'AAAA', 'NaN', '-1', 'GBP', 'gbp', 'ZZZZZZZZZZ', 'T1', 'F-1', 'DineIn', 'Collection',
    ];

    /** Sets `path` (dot-separated) in `obj` to `value` (MISSING deletes it). */
    function setPath(obj: Record<string, any>, path: string[], value: unknown) {
      let o = obj;
      for (const k of path.slice(0, -1)) {
        if (o[k] === null || typeof o[k] !== 'object') o[k] = {};
        o = o[k];
      }
      const last = path[path.length - 1]!;
      if (value === MISSING) delete o[last];
      else o[last] = value;
    }
    function leafPaths(v: unknown, prefix: string[] = []): string[][] {
      if (v === null || typeof v !== 'object') return [prefix];
      const out: string[][] = prefix.length ? [prefix] : [];
      for (const [k, c] of Object.entries(v)) out.push(...leafPaths(c, [...prefix, k]));
      return out;
    }
    const request = (id: unknown, method: string, params: unknown) => ({ jsonrpc: '2.0', id, method, params: { headers: {}, ...(params as object) } });

    function deep(depth: number, open: string, close: string, inner = '1'): string {
      return open.repeat(depth) + inner + close.repeat(depth);
    }

    /** First seven methods x every param x every bad value once (the sweep), then random frames (all methods). */
    const SWEPT = ['SearchOrdersV1', 'GetOrderByIdV1', 'CreateOrderLockV1', 'RecordOrderPaymentByIdV1', 'CreateOrderV1', 'CreatePartyV1', 'CreateReservationV1'];
    const sweep: { method: string; path: string[]; value: unknown }[] = [];
    for (const method of SWEPT) {
      const base = bases[method]!();
      for (const path of [...leafPaths(base), ['extra']]) for (const value of badValues()) sweep.push({ method, path, value });
    }

    function frame(i: number): Frame {
      n = i;
      const id = `f${i}`;
      const s = sweep[i];
      if (s) {
        const params = bases[s.method]!();
        setPath(params, s.path, s.value);
        const text = encode({ jsonrpc: '2.0', id, method: s.method, params: { headers: {}, ...params } });
        return { kind: `sweep:${s.method}`, data: text, expect: { id } };
      }
      const roll = rnd();
      const method = pick(methods);
      if (roll < 0.45) {
        const params = bases[method]!();
        const paths = [...leafPaths(params), ['extra'], ['headers'], ['headers', 'deviceId']];
        const mutations = 1 + int(2);
        for (let m = 0; m < mutations; m++) setPath(params, pick(paths), pick(badValues()));
        const text = encode({ jsonrpc: '2.0', id, method, params: { headers: {}, ...params } });
        return { kind: `params:${method}`, data: text, expect: { id } };
      }
      if (roll < 0.52) {
        const bytes = Buffer.alloc(1 + int(300));
        for (let b = 0; b < bytes.length; b++) bytes[b] = int(256);
        return { kind: 'random-bytes', data: bytes, binary: true, expect: { id: null } };
      }
      if (roll < 0.59) {
        const text = JSON.stringify(request(id, method, bases[method]!()));
        return { kind: 'truncated', data: text.slice(0, 1 + int(text.length - 1)), binary: rnd() < 0.3, expect: { id: null } };
      }
      if (roll < 0.64) {
        const depth = pick([40, 100, 1_000, 10_000, 100_000]);
        const where = int(3);
        const inner = where === 0 ? deep(depth, '[', ']') : where === 1 ? deep(depth, '{"a":', '}') : deep(depth, '[{"x":', '}]');
        const text = `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"method":"${method}","params":{"headers":{},"orderId":"F-1","extra":${inner}}}`;
        return { kind: `deep:${depth}`, data: text, expect: { id } };
      }
      if (roll < 0.76) {
        const odd: [unknown, boolean][] = [
          [{ a: 1 }, false], [[1], false], [i + 0.5, true], [-(i + 1), true], [(i + 1) * 1e17, true], ['', false], [true, false], [null, false],
          [`f${i}\u0000`, true], [`f${i}\ud800`, true], [`f${i}${'x'.repeat(300)}`, true], [`f${i}😀`, true],
        ];
        const [oddId, usable] = pick(odd);
        const text = JSON.stringify(request(oddId, method, bases[method]!()));
        return { kind: 'odd-id', data: text, expect: usable ? { id: oddId as string | number } : { id: null } };
      }
      if (roll < 0.83) {
        const variants: Record<string, unknown>[] = [
          { id, method, params: bases[method]!() },
          { jsonrpc: '1.0', id, method, params: bases[method]!() },
          { jsonrpc: 2, id, method, params: bases[method]!() },
          { jsonrpc: '2.0', id, method: 42, params: {} },
          { jsonrpc: '2.0', id, method: `${method}\u0000`, params: {} },
          { jsonrpc: '2.0', id, method: '\ud800', params: {} },
          { jsonrpc: '2.0', id, method, params: [1, 2, 3] },
          { jsonrpc: '2.0', id, method, params: 'x' },
          { jsonrpc: '2.0', id, method, params: null },
          { jsonrpc: '2.0', id, method },
          { jsonrpc: '2.0', id, method, params: { ...bases[method]!() } }, // no headers
          { jsonrpc: '2.0', id, method: 'constructor', params: {} },
          { jsonrpc: '2.0', id, method: '__proto__', params: {} },
          { jsonrpc: '2.0', id, method, params: { headers: { '\u0000': '\ud800' }, ...bases[method]!() } },
        ];
        return { kind: 'envelope', data: JSON.stringify(pick(variants)), expect: { id } };
      }
      if (roll < 0.9) {
        const size = pick([0, 1, 2, 3, 5]);
        if (size === 0) return { kind: 'batch:empty', data: '[]', expect: { batch: 'empty' } };
        const items: unknown[] = [];
        const ids: (string | number | null)[] = [];
        for (let k = 0; k < size; k++) {
          const r = rnd();
          if (r < 0.6) {
            items.push(request(`${id}.${k}`, pick(methods), bases[pick(methods)]!()));
            ids.push(`${id}.${k}`);
          } else if (r < 0.8) {
            items.push(pick([1, 'x', null, [], {}]));
            ids.push(null);
          } else {
            items.push({ jsonrpc: '2.0', id: i * 10 + k, method: 'GetOrderByIdV1', params: { orderId: 'F-1', headers: {} } });
            ids.push(i * 10 + k);
          }
        }
        return { kind: 'batch', data: JSON.stringify(items), expect: { batch: ids } };
      }
      return { kind: `valid:${method}`, data: JSON.stringify(request(id, method, bases[method]!())), binary: rnd() < 0.2, expect: { id } };
    }

    const problems: string[] = [];
    const describeFrame = (i: number, f: Frame) =>
      `#${i} ${f.kind}: ${(Buffer.isBuffer(f.data) ? f.data.toString('hex') : f.data).slice(0, 300)}${f.data.length > 300 ? `... (${f.data.length} chars)` : ''}`;
    const checkReply = (i: number, f: Frame, r: any) => {
      if (r?.jsonrpc !== '2.0' || (r.result === undefined) === (r.error === undefined)) problems.push(`${describeFrame(i, f)} -> malformed reply ${JSON.stringify(r).slice(0, 300)}`);
      else if (r.error?.errorType === 'UnexpectedError') problems.push(`${describeFrame(i, f)} -> ${JSON.stringify(r).slice(0, 400)}`);
    };
    const nextMessage = (): Promise<any> =>
      new Promise((resolve, reject) => {
        const start = conn.received.length;
        const t0 = Date.now();
        const tick = () => {
          if (conn.received.length > start) return resolve(conn.received[start]);
          if (Date.now() - t0 > 15_000) return reject(new Error('no reply within 15 s'));
          setTimeout(tick, 1);
        };
        tick();
      });

    const FRAMES = sweep.length + RANDOM_FRAMES;
    const connections = fake.connections.length;
    const t0 = Date.now();
    const kinds = new Map<string, number>();
    for (let i = 0; i < FRAMES; i++) {
      const f = frame(i);
      kinds.set(f.kind.split(':')[0]!, (kinds.get(f.kind.split(':')[0]!) ?? 0) + 1);
      const before = conn.received.length;
      const next = nextMessage();
      conn.ws.send(f.data, { binary: !!f.binary });
      let reply: any;
      try {
        reply = await next;
      } catch (err) {
        problems.push(`${describeFrame(i, f)} -> ${(err as Error).message}`);
        continue;
      }
      assert.equal(conn.received.length, before + 1);
      if ('batch' in f.expect) {
        if (f.expect.batch === 'empty') {
          if (reply?.id !== null || reply?.error?.code !== -32600) problems.push(`${describeFrame(i, f)} -> ${JSON.stringify(reply)}`);
          checkReply(i, f, reply);
        } else if (!Array.isArray(reply) || reply.length !== f.expect.batch.length) {
          problems.push(`${describeFrame(i, f)} -> not one reply per element: ${JSON.stringify(reply).slice(0, 300)}`);
        } else {
          f.expect.batch.forEach((id, k) => {
            if (reply[k]?.id !== id) problems.push(`${describeFrame(i, f)} -> element ${k} answered with id ${JSON.stringify(reply[k]?.id)}`);
            checkReply(i, f, reply[k]);
          });
        }
        continue;
      }
      if (reply?.id !== f.expect.id) problems.push(`${describeFrame(i, f)} -> reply id ${JSON.stringify(reply?.id)}, expected ${JSON.stringify(f.expect.id)}`);
      checkReply(i, f, reply);
    }
    const took = Date.now() - t0;
    console.log(`fuzz: ${FRAMES} frames in ${took} ms; ${JSON.stringify(Object.fromEntries(kinds))}`);
    // No late second reply to anything.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(conn.received.length, FRAMES, 'exactly one reply per frame');
    if (process.env.FUZZ_PROBLEMS_FILE) writeFileSync(process.env.FUZZ_PROBLEMS_FILE, problems.join('\n'));
    assert.deepEqual(problems.slice(0, 15), [], `${problems.length} bad replies (seed ${SEED})`);
    assert.equal(conn.ws.readyState, conn.ws.OPEN, 'the socket stayed open');
    assert.equal(fake.connections.length, connections, 'no reconnect');

    // A pay-at-table cycle on the same socket.
    const locationId = gw!.service.ownedLocationIds()[0]!;
    await fixtures(db.prisma).order(locationId, { id: 'PAT-1', total: 2_000, tableId: 'T1' });
    const rq = (id: string, method: string, params: object) => fake.request(conn, request(id, method, params), id, 15_000);
    const ok = (r: Record<string, any>) => {
      assert.equal(r.error, undefined, JSON.stringify(r));
      return r.result;
    };
    const found = ok(await rq('pat-1', 'SearchOrdersV1', { dineIn: { tableId: 'T1' }, payableOnly: true }));
    assert.ok(found.data.some((o: any) => o.id === 'PAT-1'));
    assert.equal(ok(await rq('pat-2', 'GetOrderByIdV1', { orderId: 'PAT-1' })).totalAmount.value, 2_000);
    ok(await rq('pat-3', 'CreateOrderLockV1', { orderId: 'PAT-1', lockId: 'pat-lock', expiry: future() }));
    ok(await rq('pat-4', 'RecordOrderPaymentByIdV1', { orderId: 'PAT-1', paymentIntentId: 'pi-pat-1', paidAmount: GBP(1_000), lockId: 'pat-lock' }));
    const paid = ok(await rq('pat-5', 'RecordOrderPaymentByIdV1', { orderId: 'PAT-1', paymentIntentId: 'pi-pat-2', paidAmount: GBP(1_000), tipsAmount: GBP(200), lockId: 'pat-lock' }));
    assert.equal(paid.paidAmount.value, 2_000);
    assert.equal(paid.payable, false);
    ok(await rq('pat-6', 'DeleteOrderLockV1', { orderId: 'PAT-1', lockId: 'pat-lock' }));
  });
});
