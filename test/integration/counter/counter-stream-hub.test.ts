/**
 * The admin app's counter stream hub on real Redis: a location's streams share
 * one subscription and one presence mark, and a stream is only told it
 * listens once both are in place, whichever of the location's streams opened
 * them and whatever the others do meanwhile.
 */
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type Redis from 'ioredis';
import { createLogger, createRedis } from '@app/common';
import type { AdminConfig } from '@app/config';
import { CounterChannels } from '@app/contracts';
import { RedisCounterSignals } from '@app/queue';
import { sleep, testRedisUrl, uniquePrefix, waitFor } from '@app/testing';
import { CounterStreamHub } from '../../../apps/admin/src/venue/counter-stream.service';

const logger = createLogger('counter-stream-hub-test', process.env.TEST_LOG_LEVEL ?? 'silent');

describe('counter stream hub (real Redis)', () => {
  let redis: Redis;
  const hubs: CounterStreamHub[] = [];

  before(() => {
    redis = createRedis(testRedisUrl());
  });

  after(async () => {
    for (const h of hubs) h.beforeApplicationShutdown();
    await redis.quit();
  });

  /** A new hub (its subscriber connection is made at its first listen) under its own prefix. */
  function hub(): { hub: CounterStreamHub; prefix: string; signals: RedisCounterSignals } {
    const prefix = uniquePrefix('ctrhub');
    const config = { REDIS_URL: testRedisUrl(), QUEUE_PREFIX: prefix } as AdminConfig;
    const h = new CounterStreamHub(config, logger, redis);
    hubs.push(h);
    return { hub: h, prefix, signals: new RedisCounterSignals(redis, prefix, logger) };
  }

  /** Publishes a wake-up on the location's channel; how many subscribers Redis delivered it to. */
  const publish = (prefix: string, locationId: string, id: string) => redis.publish(CounterChannels.events(prefix, locationId), JSON.stringify({ id }));

  it('a stream opened while the first is subscribing is told it listens only once the channel is subscribed', async () => {
    const { hub: h, prefix, signals } = hub();
    const locationId = randomUUID();
    const first: string[] = [];
    const second: string[] = [];
    const opening = h.listen(locationId, (id) => first.push(id ?? ''), () => undefined);
    const stopSecond = await h.listen(locationId, (id) => second.push(id ?? ''), () => undefined);
    // Told it listens: a wake published now reaches it, and the location is marked as having a listening POS.
    assert.equal(await publish(prefix, locationId, 'e1'), 1, 'the channel was not subscribed when the second stream was told it listens');
    assert.equal(await signals.listening(locationId), true);
    await waitFor(() => second.includes('e1'), 'the second stream woken', 5_000);
    const stopFirst = await opening;
    await waitFor(() => first.includes('e1'), 'the first stream woken', 5_000);
    stopSecond();
    stopFirst();
  });

  it('a stream that closes while the first is still subscribing leaves the first one listening', async () => {
    const { hub: h, prefix, signals } = hub();
    const locationId = randomUUID();
    const woken: string[] = [];
    const opening = h.listen(locationId, (id) => woken.push(id ?? ''), () => undefined);
    // A second stream of the location comes and goes while the first one's listen has not returned yet.
    const stopSecond = await h.listen(locationId, () => undefined, () => undefined);
    stopSecond();
    const stopFirst = await opening;
    await sleep(50); // any unsubscribe or absence the closed stream sent has been handled by Redis by now
    assert.equal(await publish(prefix, locationId, 'e2'), 1, 'the first stream lost its subscription');
    await waitFor(() => woken.includes('e2'), 'the first stream woken', 5_000);
    assert.equal(await signals.listening(locationId), true, 'the first stream lost its presence');
    // The last stream gone: unsubscribed and no longer present.
    stopFirst();
    await waitFor(async () => (await publish(prefix, locationId, 'e3')) === 0 && !(await signals.listening(locationId)), 'the location unsubscribed and absent', 5_000);
  });

  it('streams of different locations keep their own subscriptions', async () => {
    const { hub: h, prefix } = hub();
    const a = randomUUID();
    const b = randomUUID();
    const woken: string[] = [];
    const stopA = await h.listen(a, (id) => woken.push(`a:${id}`), () => undefined);
    const stopB = await h.listen(b, (id) => woken.push(`b:${id}`), () => undefined);
    stopA();
    await sleep(50);
    assert.equal(await publish(prefix, a, 'x'), 0);
    assert.equal(await publish(prefix, b, 'y'), 1);
    await waitFor(() => woken.includes('b:y'), 'location b woken', 5_000);
    assert.deepEqual(woken, ['b:y']);
    stopB();
  });
});
