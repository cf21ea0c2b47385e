import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import Redis from 'ioredis';
import { findRedisServer, RedisProcess } from '@app/infra';
import type { RequestLogEntry } from '@app/queue';
import { readRequestLog, requestLogKey, RequestLogWriter } from '@app/queue';
import { uniquePrefix, waitFor } from '@app/testing';

const entry = (rpcId: string): RequestLogEntry => ({ at: new Date().toISOString(), method: 'GetOrderByIdV1', rpcId, ms: 1, outcome: 'ok', traceId: `t-${rpcId}` });

/**
 * The gateway's request record is written once per window, not once per request: the entries of many turns of the
 * event loop share one pipeline (one LPUSH and one LTRIM per location), and nothing of it is lost or reordered.
 */
describe('request record: one write per window', () => {
  let server: RedisProcess;
  let redis: Redis;
  let monitor: Redis;
  let prefix: string;
  const seen: string[][] = [];

  before(async () => {
    // A private Redis: MONITOR on the shared one sees every other test file's commands, and ioredis can take a
    // monitored line that arrives before MONITOR's own answer for a reply ("Command queue state error").
    server = await RedisProcess.start(findRedisServer()!);
    redis = new Redis(server.url);
    prefix = uniquePrefix('reqlog');
    monitor = await new Redis(server.url).monitor();
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (typeof args[1] === 'string' && args[1].startsWith(`${prefix}:`)) seen.push(args);
    });
  });

  after(async () => {
    monitor.disconnect();
    redis.disconnect();
    await server.stop();
  });

  it('writes the entries of many turns of the event loop in one pipeline, newest first', async () => {
    const writer = new RequestLogWriter(redis, prefix, { flushMs: 1_000 });
    const locations = ['loc-a', 'loc-b', 'loc-c'];
    const t0 = Date.now();
    for (let i = 0; i < 30; i++) {
      writer.record(locations[i % 3]!, entry(String(i)));
      await nextTurn(); // each request its own turn, as at a low request rate
    }
    // Well inside the window (30 turns take milliseconds): nothing written yet.
    assert.ok(Date.now() - t0 < 900, 'the turns took less than the window');
    for (const id of locations) assert.equal(await redis.llen(requestLogKey(prefix, id)), 0, `${id}: not written before the window ends`);

    await waitFor(async () => (await redis.llen(requestLogKey(prefix, 'loc-c'))) === 10 || undefined, 'the window written', 5_000);
    for (const [k, id] of locations.entries()) {
      const got = (await readRequestLog(redis, prefix, id)).map((e) => e.rpcId);
      const want = Array.from({ length: 10 }, (_, j) => String(27 + k - 3 * j));
      assert.deepEqual(got, want, `${id}: every entry, newest first`);
    }
    await waitFor(() => seen.filter((a) => a[0] === 'ltrim').length >= 3 || undefined, 'the LTRIMs monitored', 5_000);
    const count = (cmd: string) => seen.filter((a) => a[0] === cmd).length;
    assert.equal(count('lpush'), 3, 'one LPUSH per location for the whole window');
    assert.equal(count('ltrim'), 3, 'one LTRIM per location');
    assert.equal(count('pexpire'), 3, 'the TTL set once per location');
    assert.ok((await redis.pttl(requestLogKey(prefix, 'loc-a'))) > 0, 'the record expires');
  });

  it('flush() writes what waits at once (a graceful stop), and a later entry gets its own window', async () => {
    const writer = new RequestLogWriter(redis, prefix, { flushMs: 60_000 });
    writer.record('loc-d', entry('d1'));
    await nextTurn();
    assert.equal(await redis.llen(requestLogKey(prefix, 'loc-d')), 0);
    await writer.flush();
    assert.deepEqual((await readRequestLog(redis, prefix, 'loc-d')).map((e) => e.rpcId), ['d1']);
    const fast = new RequestLogWriter(redis, prefix, { flushMs: 20 });
    fast.record('loc-d', entry('d2'));
    await waitFor(async () => (await redis.llen(requestLogKey(prefix, 'loc-d'))) === 2 || undefined, 'the next window written', 5_000);
    assert.deepEqual((await readRequestLog(redis, prefix, 'loc-d')).map((e) => e.rpcId), ['d2', 'd1']);
  });
});
