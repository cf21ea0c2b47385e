import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { dropDatabase, ensureDatabase, loadMigrations, migrate, MigrationError, withDatabase } from '@app/db';

const server = () => process.env.EPOS_TEST_DATABASE_URL!;

async function emptyDatabase(): Promise<{ url: string; name: string }> {
  const name = `t_mig_${randomBytes(5).toString('hex')}`;
  const url = withDatabase(server(), name);
  await ensureDatabase(url);
  return { url, name };
}

async function tables(url: string): Promise<string[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ t: string }>(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema='public' ORDER BY 1`);
    return r.rows.map((x) => x.t);
  } finally {
    await c.end();
  }
}

describe('migrations', () => {
  const created: string[] = [];
  const fresh = async () => {
    const d = await emptyDatabase();
    created.push(d.name);
    return d.url;
  };
  after(async () => {
    for (const n of created) await dropDatabase(server(), n);
  });

  it('are laid out as prisma/migrations/<timestamp>_<name>/migration.sql, in order', () => {
    const ms = loadMigrations();
    assert.ok(ms.length >= 1);
    for (const m of ms) assert.match(m.name, /^\d{14}_[a-z0-9_]+$/);
    assert.deepEqual(ms.map((m) => m.name), [...ms.map((m) => m.name)].sort());
  });

  it('apply on an empty database and are a no-op the second time', async () => {
    const url = await fresh();
    const first = await migrate(url);
    assert.deepEqual(first.applied, loadMigrations().map((m) => m.name));
    const t = await tables(url);
    for (const expected of ['locations', 'orders', 'payments', 'dojo_events', 'processed_requests', 'outbox_events', '_prisma_migrations']) {
      assert.ok(t.includes(expected), `${expected} missing after migrate`);
    }
    const second = await migrate(url);
    assert.deepEqual(second.applied, []);
    assert.equal(second.alreadyApplied.length, first.applied.length);
    assert.deepEqual(await tables(url), t);
  });

  it('run exactly once when several processes migrate at the same time', async () => {
    const url = await fresh();
    const reports = await Promise.all([migrate(url), migrate(url), migrate(url)]);
    const appliedCount = reports.reduce((n, r) => n + r.applied.length, 0);
    assert.equal(appliedCount, loadMigrations().length);
  });

  it("record Prisma's bookkeeping so `prisma migrate deploy` agrees", async () => {
    const url = await fresh();
    await migrate(url);
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      const r = await c.query('SELECT migration_name, checksum, finished_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name');
      assert.deepEqual(
        r.rows.map((x) => [x.migration_name, x.checksum, x.applied_steps_count]),
        loadMigrations().map((m) => [m.name, m.checksum, 1]),
      );
      for (const row of r.rows) assert.ok(row.finished_at instanceof Date);
    } finally {
      await c.end();
    }
  });

  it('refuse to continue when an applied migration was edited', async () => {
    const url = await fresh();
    await migrate(url);
    const edited = loadMigrations().map((m, i) => (i === 0 ? { ...m, sql: m.sql + '\n-- edited', checksum: 'different' } : m));
    await assert.rejects(migrate(url, edited), (err: Error) => err instanceof MigrationError && /edited after it was applied/.test(err.message));
  });

  it('give up waiting for a busy table within the lock timeout, so no query queues behind them, and try again', async () => {
    const url = await fresh();
    await migrate(url);
    const busy = new Client({ connectionString: url });
    await busy.connect();
    await busy.query('SET statement_timeout = 3000'); // without the lock timeout this read would wait for the holder
    const holder = new Client({ connectionString: url });
    await holder.connect();
    try {
      // An app's long transaction holds a lock on orders; the new migration needs orders exclusively.
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE orders IN ACCESS SHARE MODE');
      const alter = [...loadMigrations(), { name: '29990101000001_busy', sql: 'ALTER TABLE orders ADD COLUMN busy_test int', checksum: 'b' }];
      const retries: number[] = [];
      const run = migrate(url, alter, { lockTimeoutMs: 200, retryForMs: 10_000, onLockRetry: (_m, n) => retries.push(n) });
      // While the migration waits its turn, another app's read of orders is not queued behind it for long.
      await new Promise((r) => setTimeout(r, 100));
      const t0 = Date.now();
      await busy.query('SELECT count(*) FROM orders');
      assert.ok(Date.now() - t0 < 2_000, `a read waited ${Date.now() - t0} ms behind the migration`);
      await new Promise((r) => setTimeout(r, 600));
      assert.ok(retries.length >= 1, 'the migration gave up and is trying again');
      await holder.query('COMMIT');
      const report = await run;
      assert.deepEqual(report.applied, ['29990101000001_busy'], 'applied once the table was free');
      // A table that stays busy past retryForMs fails the run, naming the wait.
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE orders IN ACCESS SHARE MODE');
      const again = [...alter, { name: '29990101000002_busy', sql: 'ALTER TABLE orders DROP COLUMN busy_test', checksum: 'c' }];
      await assert.rejects(migrate(url, again, { lockTimeoutMs: 100, retryForMs: 500 }), (err: Error) => err instanceof MigrationError && err.lockTimeout && /waited 100 ms for a lock/.test(err.message));
      await holder.query('ROLLBACK');
    } finally {
      await holder.end();
      await busy.end();
    }
  });

  it('release the counter transactions that failed outcome_unknown before holds existed (20261210000000)', async () => {
    const url = await fresh();
    const all = loadMigrations();
    await migrate(url, all.filter((m) => m.name < '20261210000000'));
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      const sh = '00000000-0000-4000-8000-0000000000a1';
      const loc = '00000000-0000-4000-8000-0000000000a2';
      await c.query(`INSERT INTO software_houses (id, name, dojo_software_house_id, updated_at) VALUES ($1, 'SH', 'sh-mig', now())`, [sh]);
      await c.query(
        `INSERT INTO locations (id, software_house_id, name, dojo_account_id, api_key_ciphertext, api_key_last4, environment, protocol, updated_at)
         VALUES ($1, $2, 'L', 'acc-mig', '\\x00', '0000', 'sandbox', 'connect-pac', now())`,
        [loc, sh],
      );
      const tx = (id: string, state: string, failure: string | null) =>
        c.query(
          `INSERT INTO counter_transactions (id, location_id, idempotency_key, request_hash, kind, tid, amount, currency, order_id, state, failure, expires_at, finished_at)
           VALUES ($1::uuid, $2, $1::text, 'h', 'sale', 'T1', 1000, 'GBP', 'o-1', $3::text, $4, now(), CASE WHEN $3::text IN ('failed', 'finished') THEN now() END)`,
          [id, loc, state, failure],
        );
      await tx('00000000-0000-4000-8000-0000000000b1', 'failed', 'outcome_unknown');
      await tx('00000000-0000-4000-8000-0000000000b2', 'failed', 'not_executed');
      await tx('00000000-0000-4000-8000-0000000000b3', 'sent', null);
      await migrate(url);
      const rows = (await c.query<{ id: string; resolution: string | null; released: boolean }>(
        `SELECT id::text, resolution, resolved_at IS NOT NULL AS released FROM counter_transactions ORDER BY id`,
      )).rows;
      assert.deepEqual(rows.map((r) => [r.id.slice(-2), r.resolution, r.released]), [['b1', null, true], ['b2', null, false], ['b3', null, false]],
        'only the old outcome_unknown one is released, without a resolution of the venue');
    } finally {
      await c.end();
    }
  });

  it("discard the POS events queued at locations without a Dojo API key, pending or dead (20261212000000)", async () => {
    const url = await fresh();
    await migrate(url, loadMigrations().filter((m) => m.name < '20261212000000'));
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      const sh = '00000000-0000-4000-8000-0000000000c1';
      await c.query(`INSERT INTO software_houses (id, name, dojo_software_house_id, updated_at) VALUES ($1, 'SH', 'sh-mig-ob', now())`, [sh]);
      const location = (id: string, protocol: string) =>
        c.query(
          `INSERT INTO locations (id, software_house_id, name, dojo_account_id, api_key_ciphertext, api_key_last4, environment, protocol, updated_at)
           VALUES ($1::uuid, $2, $1::text, $1::text, '\\x00', '0000', 'sandbox', $3, now())`,
          [id, sh, protocol],
        );
      const data = '00000000-0000-4000-8000-0000000000c2';
      const pat = '00000000-0000-4000-8000-0000000000c3';
      await location(data, 'epos-data');
      await location(pat, 'connect-pat');
      const row = (loc: string, entity: string, state: string) =>
        c.query(`INSERT INTO outbox_events (location_id, event_type, entity_type, entity_id, payload, state) VALUES ($1, 'OrderUpdated', 'order', $2, '{}', $3::"OutboxState")`, [loc, entity, state]);
      await row(data, 'd-pending', 'pending');
      await row(data, 'd-dead', 'dead');
      await row(pat, 'p-pending', 'pending');
      await row(pat, 'p-dead', 'dead');
      await row(pat, 'p-sent', 'sent');
      await migrate(url);
      const rows = (await c.query<{ entity_id: string; state: string; why: string | null }>(`SELECT entity_id, state::text, discard_reason AS why FROM outbox_events ORDER BY id`)).rows;
      assert.deepEqual(rows.map((r) => [r.entity_id, r.state]), [['d-pending', 'pending'], ['d-dead', 'dead'], ['p-pending', 'discarded'], ['p-dead', 'discarded'], ['p-sent', 'sent']]);
      assert.match(rows[2]!.why ?? '', /connect-pat/);
    } finally {
      await c.end();
    }
  });

  it('roll back a failing migration completely and report it', async () => {
    const url = await fresh();
    const broken = [...loadMigrations(), { name: '29990101000000_broken', sql: 'CREATE TABLE half_done (id int); SELECT no_such_function();', checksum: 'x' }];
    await assert.rejects(migrate(url, broken), /29990101000000_broken failed/);
    const t = await tables(url);
    assert.ok(!t.includes('half_done'), 'a failed migration must leave nothing behind');
    assert.ok(t.includes('orders'), 'earlier migrations stay applied');
  });
});
