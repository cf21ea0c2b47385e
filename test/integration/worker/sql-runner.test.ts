/**
 * The request path's SQL straight on pg (SqlRunner, rawOnPg,
 * runPlannedTransaction): rows as Prisma's $queryRaw gives them, named
 * prepared statements only when switched on, a planned transaction that
 * reaches for a Prisma model call rolled back and run again on Prisma, its
 * effects committed once, and a transaction's statements sent together
 * (BEGIN with the first, a held write with COMMIT) without losing an error.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import type { PrismaClient } from '@app/db';
import { createPrisma, Prisma, queryBatch, sqlRunner, SqlTransactionRolledBack } from '@app/db';
import { rawOnPg, readTogether, runPlannedTransaction } from '@app/domain/repositories/unit-of-work';
import type { TestDatabase } from '@app/testing';
import { createTestDatabase, fixtures, pgRoundTripsOf } from '@app/testing';

const TYPES = Prisma.sql`SELECT 7::int AS i, 9007199254740993::bigint AS b, '{1,9007199254740993}'::bigint[] AS ba,
  '2026-11-30T12:00:00.123Z'::timestamptz(3) AS t, '{"a":[1,"x"]}'::jsonb AS j, json_build_object('x', 1) AS jj, true AS bo,
  'text'::text AS s, ARRAY['a','b'] AS sa, NULL::text AS n, ${'param'}::text AS p, ${42} + 1 AS q`;

describe('SqlRunner: the request path on pg directly', () => {
  let db: TestDatabase;
  let prepared: PrismaClient;
  let locationId: string;

  before(async () => {
    db = await createTestDatabase('sqlrunner');
    prepared = createPrisma(db.url, { poolSize: 2, preparedStatements: true });
    locationId = (await fixtures(db.prisma).location({ name: 'SQL' })).id;
  });

  after(async () => {
    await prepared?.$disconnect();
    await db?.drop();
  });

  it('returns rows as Prisma $queryRaw does (int8 as BigInt, timestamptz as Date, json parsed)', async () => {
    const viaPrisma = await db.prisma.$queryRaw<Record<string, unknown>[]>(TYPES);
    const viaPg = await rawOnPg(db.prisma).$queryRaw<Record<string, unknown>[]>(TYPES);
    assert.deepEqual(viaPg, viaPrisma);
    assert.equal(typeof viaPg[0]!.b, 'bigint');
    assert.ok(viaPg[0]!.t instanceof Date);
    // The tagged-template form gives the same.
    assert.deepEqual(await rawOnPg(db.prisma).$queryRaw`SELECT ${5}::int AS v`, [{ v: 5 }]);
  });

  it('rows of a named statement come out the same on every execution (its row shape is built once), with prepared statements on', async () => {
    const handle = rawOnPg(prepared);
    const first = await handle.$queryRaw<Record<string, unknown>[]>(TYPES);
    for (let i = 0; i < 3; i++) assert.deepEqual(await handle.$queryRaw<Record<string, unknown>[]>(TYPES), first);
    assert.deepEqual(first, await db.prisma.$queryRaw<Record<string, unknown>[]>(TYPES));
  });

  it('a statement name whose columns differ from the shape kept under it is read with its own columns', async () => {
    const one = new pg.Client({ connectionString: db.url });
    const two = new pg.Client({ connectionString: db.url });
    await one.connect();
    await two.connect();
    try {
      const name = `s_shape_${Date.now().toString(36)}`;
      for (let i = 0; i < 2; i++) assert.deepEqual((await queryBatch(one, [{ name, text: 'SELECT 1::int AS a', values: [] }]))[0]!.rows, [{ a: 1 }]);
      // The same name on another connection for another text (as after a deploy that changed the statement).
      const other = await queryBatch(two, [{ name, text: "SELECT 'x'::text AS b, 2::int AS c", values: [] }]);
      assert.deepEqual(other[0]!.rows, [{ b: 'x', c: 2 }]);
      assert.deepEqual(other[0]!.fields.map((f) => f.name), ['b', 'c']);
      assert.deepEqual((await queryBatch(one, [{ name, text: 'SELECT 1::int AS a', values: [] }]))[0]!.rows, [{ a: 1 }]);
    } finally {
      await one.end();
      await two.end();
    }
  });

  it('model calls on the reads handle still go through Prisma', async () => {
    const row = await rawOnPg(db.prisma).location.findUnique({ where: { id: locationId }, select: { id: true } });
    assert.equal(row?.id, locationId);
  });

  it('names statements only when prepared statements are switched on', async () => {
    const names = Prisma.sql`SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 's\\_%'`;
    const off = sqlRunner(db.prisma)!;
    assert.equal(off.preparedStatements, false);
    const offCount = await off.transaction(async (c) => {
      await c.query(TYPES);
      return (await c.query<{ n: number }>(names))[0]!.n;
    }, { maxWait: 2_000, timeout: 5_000 });
    assert.equal(offCount, 0, 'no named statement without the switch (works behind PgBouncer in transaction mode)');
    const on = sqlRunner(prepared)!;
    const onCount = await on.transaction(async (c) => {
      await c.query(TYPES);
      await c.query(TYPES);
      return (await c.query<{ n: number }>(names))[0]!.n;
    }, { maxWait: 2_000, timeout: 5_000 });
    assert.ok(onCount >= 1, 'the statement was prepared under its name');
    assert.deepEqual(await rawOnPg(prepared).$queryRaw(TYPES), await db.prisma.$queryRaw(TYPES));
  });

  const rows = async (rpcId: string) =>
    (await db.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM processed_requests WHERE rpc_id = ${rpcId}`)[0]!.n;
  const insert = (tx: Prisma.TransactionClient, rpcId: string) =>
    tx.$executeRaw`INSERT INTO processed_requests (location_id, rpc_id, method, response) VALUES (${locationId}::uuid, ${rpcId}, 'm', '{}'::jsonb)`;

  it('a planned transaction commits its raw statements once; an error rolls them back', async () => {
    await runPlannedTransaction(db.prisma, (tx) => insert(tx, 'ok-1'), { maxWait: 2_000, timeout: 5_000 });
    assert.equal(await rows('ok-1'), 1);
    await assert.rejects(
      runPlannedTransaction(db.prisma, async (tx) => {
        await insert(tx, 'fail-1');
        throw new Error('refused');
      }, { maxWait: 2_000, timeout: 5_000 }),
      /refused/,
    );
    assert.equal(await rows('fail-1'), 0);
  });

  it('a planned transaction that makes a model call is rolled back and run again on Prisma, committed once', async () => {
    let runs = 0;
    const name = await runPlannedTransaction(db.prisma, async (tx) => {
      runs++;
      await insert(tx, 'model-1');
      return (await tx.location.findUnique({ where: { id: locationId }, select: { name: true } }))?.name;
    }, { maxWait: 2_000, timeout: 5_000 });
    assert.equal(name, 'SQL');
    assert.equal(runs, 2, 'the pg run gave way to a Prisma run');
    assert.equal(await rows('model-1'), 1);
  });

  it('even when the use-case swallows the model call error, nothing of the pg run is committed', async () => {
    let runs = 0;
    await runPlannedTransaction(db.prisma, async (tx) => {
      runs++;
      await insert(tx, 'model-2');
      try {
        await tx.location.findUnique({ where: { id: locationId } });
      } catch {
        // swallowed on purpose: the test's point
      }
    }, { maxWait: 2_000, timeout: 5_000 });
    assert.equal(runs, 2);
    assert.equal(await rows('model-2'), 1);
  });

  const insertSql = (rpcId: string) => Prisma.sql`INSERT INTO processed_requests (location_id, rpc_id, method, response) VALUES (${locationId}::uuid, ${rpcId}, 'm', '{}'::jsonb)`;

  it('reads sent together outside a transaction (readTogether on the reads handle) are one round trip; on Prisma one each', async () => {
    const reads = [Prisma.sql`SELECT ${1}::int AS v`, Prisma.sql`SELECT count(*)::int AS n FROM processed_requests WHERE rpc_id = ${'none'}`];
    const onPg = await pgRoundTripsOf(() => readTogether(rawOnPg(prepared), reads));
    assert.deepEqual(onPg.out, [[{ v: 1 }], [{ n: 0 }]]);
    assert.equal(onPg.statements, 2);
    assert.equal(onPg.trips, 1);
    const onPrisma = await readTogether(prepared, reads);
    assert.deepEqual(onPrisma, [[{ v: 1 }], [{ n: 0 }]], 'the same rows one by one on Prisma');
  });

  it('reads sent together stop at the first error: it is thrown, the statements after it are not run, the pool serves on', async () => {
    const handle = rawOnPg(prepared);
    await assert.rejects(readTogether(handle, [Prisma.sql`SELECT 1 / ${0}::int AS v`, insertSql('after-error')]), /division by zero/);
    assert.equal(await rows('after-error'), 0, 'the statement after the error was not run');
    for (let i = 0; i < 3; i++) assert.deepEqual(await readTogether(handle, [Prisma.sql`SELECT ${i}::int AS v`, Prisma.sql`SELECT ${i + 1}::int AS w`]), [[{ v: i }], [{ w: i + 1 }]]);
  });

  describe('reads of several requests (SqlRunner.read, DB_READ_LANES)', () => {
    let laned: PrismaClient;
    before(() => {
      laned = createPrisma(db.url, { poolSize: 3, preparedStatements: true, readLanes: 1 });
    });
    after(async () => {
      await laned?.$disconnect();
    });
    const echo = (i: number) => Prisma.sql`SELECT ${i}::int AS v`;

    it('go out on their own while a lane is free; those that wait for one go out together in one round trip', async () => {
      const reads = rawOnPg(laned, { onlyReads: true });
      const { out, trips, statements } = await pgRoundTripsOf(() => Promise.all([1, 2, 3, 4, 5, 6].map((i) => reads.$queryRaw(echo(i)))));
      assert.deepEqual(out, [1, 2, 3, 4, 5, 6].map((v) => [{ v }]), 'each read its own rows');
      assert.equal(statements, 6);
      assert.equal(trips, 2, 'the first alone (the lane was free), the five that waited for it together');
    });

    it('each go out on their own on a handle not marked as reads only, or with no lanes', async () => {
      const writesToo = await pgRoundTripsOf(() => Promise.all([1, 2, 3, 4].map((i) => rawOnPg(laned).$queryRaw(echo(i)))));
      assert.equal(writesToo.trips, 4, 'a handle that may write never shares a round trip');
      const noLanes = await pgRoundTripsOf(() => Promise.all([1, 2, 3, 4].map((i) => rawOnPg(prepared, { onlyReads: true }).$queryRaw(echo(i)))));
      assert.deepEqual(noLanes.out, [1, 2, 3, 4].map((v) => [{ v }]));
      assert.equal(noLanes.trips, 4, 'DB_READ_LANES=0: one round trip per read');
    });

    it('a read that fails among reads sent together gets its own error; the reads before and after it get their rows', async () => {
      const reads = rawOnPg(laned, { onlyReads: true });
      const sent = [echo(1), echo(2), echo(3), Prisma.sql`SELECT 1 / ${0}::int AS v`, echo(5), echo(6)].map((q) => reads.$queryRaw(q).then((r) => r, (e: Error) => e));
      const { out, trips } = await pgRoundTripsOf(() => Promise.all(sent));
      assert.deepEqual(out.slice(0, 3), [[{ v: 1 }], [{ v: 2 }], [{ v: 3 }]]);
      assert.ok(out[3] instanceof Error && /division by zero/.test(out[3].message), 'the failing read has its own error');
      assert.deepEqual(out.slice(4), [[{ v: 5 }], [{ v: 6 }]], 'the reads Postgres skipped after the error were sent again');
      assert.equal(trips, 3, 'alone, together up to the error, then the skipped ones together');
      assert.deepEqual(await reads.$queryRaw(echo(7)), [{ v: 7 }], 'the lane serves on');
    });

    it('a request\'s reads sent together (readTogether) stay in one round trip, also among other requests\' reads', async () => {
      const reads = rawOnPg(laned, { onlyReads: true });
      const { out, trips, statements } = await pgRoundTripsOf(() =>
        Promise.all([
          reads.$queryRaw(echo(1)),
          readTogether(reads, [echo(2), echo(3)]),
          reads.$queryRaw(echo(4)),
          readTogether(reads, [echo(5), Prisma.sql`SELECT 1 / ${0}::int AS v`]).then((r) => r, (e: Error) => e),
          readTogether(reads, [echo(6), echo(7)]),
        ]),
      );
      assert.deepEqual(out.slice(0, 3), [[{ v: 1 }], [[{ v: 2 }], [{ v: 3 }]], [{ v: 4 }]]);
      assert.ok(out[3] instanceof Error && /division by zero/.test(out[3].message), 'the request whose read failed has its error');
      assert.deepEqual(out[4], [[{ v: 6 }], [{ v: 7 }]], 'the request after it was sent again, whole');
      assert.equal(statements, 10, '8 statements, and the last request\'s 2 again');
      assert.equal(trips, 3, 'the first alone; the others together up to the error; the skipped request');
    });

    it('a read whose value cannot be sent fails alone; the reads around it get their rows', async () => {
      const reads = rawOnPg(laned, { onlyReads: true });
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      const sent = [echo(1), echo(2), Prisma.sql`SELECT ${circular}::jsonb AS v`, echo(4)].map((q) => reads.$queryRaw(q).then((r) => r, (e: Error) => e));
      const out = await Promise.all(sent);
      assert.deepEqual([out[0], out[1], out[3]], [[{ v: 1 }], [{ v: 2 }], [{ v: 4 }]]);
      assert.ok(out[2] instanceof Error && /circular/i.test(out[2].message), String(out[2]));
    });
  });

  for (const named of [false, true]) {
    it(`a read-then-write transaction is 2 round trips: BEGIN with the first statements, the held write with COMMIT (prepared statements ${named ? 'on' : 'off'})`, async () => {
      const sql = sqlRunner(named ? prepared : db.prisma)!;
      const id = `two-trips-${named}`;
      const { out, trips, statements } = await pgRoundTripsOf(() =>
        sql.transaction(async (c) => {
          const [a, b] = await c.queryTogether([Prisma.sql`SELECT ${1}::int AS v`, Prisma.sql`SELECT count(*)::int AS n FROM processed_requests WHERE rpc_id = ${id}`]);
          c.executeWithCommit(insertSql(id));
          return [a, b];
        }, { maxWait: 2_000, timeout: 5_000 }),
      );
      assert.deepEqual(out, [[{ v: 1 }], [{ n: 0 }]]);
      assert.equal(statements, 5, 'BEGIN, two reads, the write, COMMIT');
      assert.equal(trips, 2);
      assert.equal(await rows(id), 1, 'committed');
      // The client went back to the pool fit for Prisma's adapter.
      assert.deepEqual(await (named ? prepared : db.prisma).$queryRaw`SELECT ${2}::int AS v`, [{ v: 2 }]);
    });
  }

  it('a held write that fails fails the transaction: the COMMIT sent with it does not commit, nothing is committed, the connection is fine after', async () => {
    const sql = sqlRunner(db.prisma)!;
    await rawOnPg(db.prisma).$executeRaw(insertSql('dup-1'));
    await assert.rejects(
      sql.transaction(async (c) => {
        await c.execute(insertSql('dup-2'));
        c.executeWithCommit(insertSql('dup-1')); // already there: 23505
      }, { maxWait: 2_000, timeout: 5_000 }),
      (err: { code?: string }) => err.code === '23505',
    );
    assert.equal(await rows('dup-2'), 0, 'the first write was rolled back with it');
    for (let i = 0; i < 3; i++) {
      // Every pooled connection still answers, in a transaction of its own.
      assert.equal(await sql.transaction(async (c) => (await c.query<{ s: string }>(Prisma.sql`SELECT current_setting('transaction_isolation') AS s`))[0]!.s, { maxWait: 2_000, timeout: 5_000 }), 'read committed');
    }
  });

  it('several held writes go out in the order they were held, with COMMIT in one round trip', async () => {
    const sql = sqlRunner(db.prisma)!;
    const { trips, statements } = await pgRoundTripsOf(() =>
      sql.transaction(async (c) => {
        await c.query(Prisma.sql`SELECT 1`);
        c.executeWithCommit(insertSql('many-1'));
        // Runs after the first: it finds many-1 and copies it.
        c.executeWithCommit(Prisma.sql`INSERT INTO processed_requests (location_id, rpc_id, method, response)
          SELECT location_id, 'many-2', method, response FROM processed_requests WHERE location_id = ${locationId}::uuid AND rpc_id = 'many-1'`);
      }, { maxWait: 2_000, timeout: 5_000 }),
    );
    assert.equal(trips, 2);
    assert.equal(statements, 5, 'BEGIN + SELECT; two writes + COMMIT');
    assert.equal(await rows('many-1'), 1);
    assert.equal(await rows('many-2'), 1, 'the second held write ran after the first');
  });

  it('a statement after a held write sends it first; the held write\'s failure fails that statement', async () => {
    const sql = sqlRunner(db.prisma)!;
    const seen = await sql.transaction(async (c) => {
      c.executeWithCommit(insertSql('held-1'));
      return (await c.query<{ n: number }>(Prisma.sql`SELECT count(*)::int AS n FROM processed_requests WHERE rpc_id = 'held-1'`))[0]!.n;
    }, { maxWait: 2_000, timeout: 5_000 });
    assert.equal(seen, 1, 'the held write ran before the read');
    assert.equal(await rows('held-1'), 1);
    await assert.rejects(
      sql.transaction(async (c) => {
        c.executeWithCommit(insertSql('held-1'));
        await c.query(Prisma.sql`SELECT 1`);
      }, { maxWait: 2_000, timeout: 5_000 }),
      (err: { code?: string }) => err.code === '23505',
    );
  });

  it('a transaction whose failed statement was caught does not report success: COMMIT answering ROLLBACK is an error', async () => {
    const sql = sqlRunner(db.prisma)!;
    await assert.rejects(
      sql.transaction(async (c) => {
        await c.execute(insertSql('swallowed-1'));
        await c.execute(Prisma.sql`SELECT 1/0`).catch(() => undefined); // swallowed on purpose: the test's point
      }, { maxWait: 2_000, timeout: 5_000 }),
      SqlTransactionRolledBack,
    );
    assert.equal(await rows('swallowed-1'), 0);
  });

  it('a statement after the transaction timeout fails and everything rolls back', async () => {
    await assert.rejects(
      runPlannedTransaction(db.prisma, async (tx) => {
        await insert(tx, 'late-1');
        await new Promise((r) => setTimeout(r, 120));
        await tx.$executeRaw`SELECT 1`;
      }, { maxWait: 2_000, timeout: 50 }),
      /Transaction expired/,
    );
    assert.equal(await rows('late-1'), 0);
  });
});
