import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { commonEnv, parseRedisUrl } from '@app/config';

describe('REDIS_URL forms (single, Cluster, Sentinel)', () => {
  it('passes a single-node URL through as is', () => {
    assert.deepEqual(parseRedisUrl('redis://:pw@cache:6380/2'), { kind: 'single', url: 'redis://:pw@cache:6380/2' });
    assert.equal(parseRedisUrl('rediss://cache:6380').kind, 'single');
  });

  it('reads a Cluster URL: seed nodes, credentials, TLS, default port', () => {
    assert.deepEqual(parseRedisUrl('redis+cluster://user:p%40ss@a:7000,b:7001,c'), {
      kind: 'cluster',
      nodes: [{ host: 'a', port: 7000 }, { host: 'b', port: 7001 }, { host: 'c', port: 6379 }],
      username: 'user',
      password: 'p@ss',
      tls: false,
    });
    const v6 = parseRedisUrl('rediss+cluster://[::1]:7000');
    assert.deepEqual(v6, { kind: 'cluster', nodes: [{ host: '::1', port: 7000 }], username: undefined, password: undefined, tls: true });
    assert.throws(() => parseRedisUrl('redis+cluster://a:7000/3'), /no database number/);
  });

  it('reads a Sentinel URL: sentinels, master name, database, sentinel credentials', () => {
    assert.deepEqual(parseRedisUrl('redis+sentinel://:datapw@s1,s2:26380/mymaster/4?sentinelPassword=spw'), {
      kind: 'sentinel',
      sentinels: [{ host: 's1', port: 26379 }, { host: 's2', port: 26380 }],
      name: 'mymaster',
      db: 4,
      username: undefined,
      password: 'datapw',
      sentinelUsername: undefined,
      sentinelPassword: 'spw',
      tls: false,
    });
    assert.throws(() => parseRedisUrl('redis+sentinel://s1:26379'), /names the master/);
    assert.throws(() => parseRedisUrl('redis+sentinel://s1:26379/m/x'), /must be a number/);
  });

  it('reads a Unix socket URL: absolute path, database, credentials as parameters', () => {
    assert.deepEqual(parseRedisUrl('redis+unix:///run/redis/redis.sock'), { kind: 'socket', path: '/run/redis/redis.sock', db: 0, username: undefined, password: undefined });
    assert.deepEqual(parseRedisUrl('redis+unix:///tmp/r%20x.sock?db=3&password=pw'), { kind: 'socket', path: '/tmp/r x.sock', db: 3, username: undefined, password: 'pw' });
    assert.throws(() => parseRedisUrl('redis+unix://relative.sock'), /absolute socket path/);
    assert.throws(() => parseRedisUrl('redis+unix:///tmp/r.sock?db=x'), /must be a number/);
  });

  it('refuses other schemes and malformed hosts without echoing a password', () => {
    for (const bad of ['http://a:1', 'redis+cluster://', 'redis+cluster://a:99999', 'redis+cluster://:secret@a:b:c']) {
      const r = commonEnv.REDIS_URL.safeParse(bad);
      assert.equal(r.success, false, bad);
      assert.ok(!JSON.stringify(r.error?.issues).includes('secret'), 'no password in the message');
    }
  });
});
