import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { redact } from '@app/infra';

describe('redact: the Postgres and Redis URLs the start line and the stack log print', () => {
  it('masks the userinfo password, with or without a user name', () => {
    assert.equal(redact('postgresql://postgres:s3cret@127.0.0.1:5432/db?host=%2Ftmp%2Fpg'), 'postgresql://postgres:***@127.0.0.1:5432/db?host=%2Ftmp%2Fpg');
    assert.equal(redact('redis://:s3cret@cache:6379/2'), 'redis://:***@cache:6379/2');
  });

  it('masks passwords given as parameters (redis+unix://, Sentinel) and leaves the rest', () => {
    assert.equal(redact('redis+unix:///run/redis.sock?db=2&password=s3cret'), 'redis+unix:///run/redis.sock?db=2&password=***');
    assert.equal(redact('redis+sentinel://s1:26379/m?sentinelPassword=s3cret&x=1'), 'redis+sentinel://s1:26379/m?sentinelPassword=***&x=1');
    assert.equal(redact('redis+unix:///tmp/epos-relay-redis-1.sock'), 'redis+unix:///tmp/epos-relay-redis-1.sock');
  });
});
