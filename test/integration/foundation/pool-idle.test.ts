/**
 * An app's Postgres pool and idle connections (DB_POOL_IDLE_TIMEOUT_MS): by default the pool keeps what it opened for
 * a burst, so the next burst finds warm backends; with a timeout it closes them once idle that long. Held connections
 * have TCP keepalive on (seen with `ss`, over TCP: a Unix socket has none).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { loadConfig, workerEnv } from '@app/config';
import { prismaOptions } from '@app/common';
import type { PrismaClient } from '@app/db';
import { createPrisma } from '@app/db';
import type { TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, sleep, waitFor } from '@app/testing';

/** Why the socket test cannot run here (it reads this process's sockets with iproute2's ss, Linux), or false. */
function noSs(): string | false {
  if (process.platform !== 'linux') return 'reads sockets with ss (Linux)';
  try {
    execFileSync('ss', ['-V'], { stdio: 'ignore' });
    return false;
  } catch {
    return 'no ss here (Debian: apt-get install iproute2)';
  }
}

describe('Postgres pools and idle connections', () => {
  let db: TestDatabase;
  const pools: PrismaClient[] = [];

  before(async () => {
    db = await createTestDatabase('poolidle');
  });

  after(async () => {
    for (const p of pools) await p.$disconnect();
    await db?.drop();
  });

  /** Backends of this database whose application_name ends with `app`. */
  const backends = async (app: string) =>
    Number(
      (await db.prisma.$queryRawUnsafe<{ n: bigint }[]>(`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE $1`, `%${app}`))[0]!.n,
    );

  /** A pool of 3 for `app`, made to open all three at once (three overlapping statements). */
  const burst = async (app: string, idleTimeoutMs?: string) => {
    const env = appEnv(db, { DB_POOL_SIZE: '3', ...(idleTimeoutMs ? { DB_POOL_IDLE_TIMEOUT_MS: idleTimeoutMs } : {}) });
    const pool = createPrisma(db.url, prismaOptions(loadConfig(workerEnv, env), app));
    pools.push(pool);
    await Promise.all([1, 2, 3].map(() => pool.$queryRawUnsafe('SELECT pg_sleep(0.1)::text AS slept')));
    assert.equal(await backends(app), 3, 'the burst opened three connections');
    return pool;
  };

  it('keeps the connections a burst opened (the default)', async () => {
    await burst('pool-keeps');
    await sleep(1_500);
    assert.equal(await backends('pool-keeps'), 3, 'all three still open while idle');
  });

  it('closes idle connections after DB_POOL_IDLE_TIMEOUT_MS, and opens them again for the next burst', async () => {
    const pool = await burst('pool-closes', '200');
    await waitFor(async () => (await backends('pool-closes')) === 0, 'the idle connections to close', 5_000, 100);
    assert.equal(await backends('pool-closes'), 0, 'closed once idle for 200 ms');
    assert.deepEqual(await pool.$queryRawUnsafe('SELECT 1 AS one'), [{ one: 1 }], 'the pool still answers (with a new connection)');
  });

  it('holds its connections over TCP with keepalive on', { skip: noSs() }, async () => {
    const url = new URL(db.url);
    url.searchParams.delete('host'); // the server's TCP port, not its Unix socket
    const pool = createPrisma(url.toString(), { poolSize: 2, app: 'pool-keepalive' });
    pools.push(pool);
    await Promise.all([1, 2].map(() => pool.$queryRawUnsafe('SELECT pg_sleep(0.1)::text AS slept')));
    // This process's established sockets to the server's port, with their timers (-o) and owners (-p).
    const mine = execFileSync('ss', ['-tnopH', 'state', 'established', 'dport', '=', `:${url.port}`], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes(`pid=${process.pid},`));
    assert.ok(mine.length >= 2, `the pool's two connections are listed:\n${mine.join('\n')}`);
    for (const l of mine) assert.match(l, /timer:\(keepalive,/, `each has TCP keepalive on: ${l}`);
  });
});
