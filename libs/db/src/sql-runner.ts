import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Prisma } from './generated/prisma/client';
import { queryBatch, queryBatchSettled } from './pg-batch';

/**
 * Raw SQL on the pg pool that Prisma itself runs on, without Prisma's query
 * engine in between: for the request path's statements (one Prisma.Sql each,
 * built by the repositories), where Prisma's runtime cost about 0.25 ms of
 * Node CPU per round trip against pg's 0.1 (docs/performance.md). Rows come
 * back as Prisma's $queryRaw gives them: int8 as BigInt, timestamptz as
 * Date, json/jsonb parsed, bytea as Buffer.
 *
 * Statements go out unnamed (extended protocol, parsed per execution), which
 * works through a transaction-mode pooler such as PgBouncer. With
 * `preparedStatements` they are named after a hash of their text and
 * prepared once per connection instead: Postgres then skips parse and
 * analysis (and, once it settles on a generic plan, planning). That must stay
 * off behind a transaction-mode pooler (PgBouncer 1.18 does not carry named
 * statements across server connections): DB_PREPARED_STATEMENTS.
 */

/** pg's own parsers, with int8 (and int8[]) as BigInt as Prisma's raw queries return them. */
const INT8 = 20;
const INT8_ARRAY = 1016;
const int8Texts = pg.types.getTypeParser(INT8_ARRAY as Parameters<typeof pg.types.getTypeParser>[0]) as (v: string) => (string | null)[];
const parseBigIntArray = (v: string) => int8Texts(v).map((x) => (x === null ? null : BigInt(x)));
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8) return (v: string) => BigInt(v);
    if (oid === INT8_ARRAY) return parseBigIntArray;
    return pg.types.getTypeParser(oid, format);
  }) as typeof pg.types.getTypeParser,
};

/** Distinct statements prepared per process at most; past it, statements go out unnamed (no unbounded growth in the backends). */
const MAX_PREPARED = 1_000;

/** Most reads sent together in one round trip by read(): their answers all arrive with the last one. */
const MAX_READ_BATCH = 16;

/** A request's reads waiting for a lane (SqlRunner.read, readTogether): they go out in the same round trip. */
interface WaitingReads {
  configs: pg.QueryConfig[];
  resolve: (rows: unknown[][]) => void;
  reject: (err: unknown) => void;
}

export interface SqlTransactionOptions {
  /** Longest wait for a pooled connection. */
  maxWait: number;
  /** Longest the transaction may stay open; past it, its next statement fails and it rolls back. */
  timeout: number;
}

/** A statement as Prisma.sql builds it (text with $n placeholders, values). */
type Statement = Pick<Prisma.Sql, 'text' | 'values'>;

/** Raised for a statement run after the transaction's timeout (worded like Prisma's, so callers classify it alike). */
export class SqlTransactionExpired extends Error {
  constructor(ms: number) {
    super(`Transaction expired: it was open longer than its timeout of ${ms} ms and was rolled back`);
  }
}

/** One connection (a transaction's, or any pooled one for a single statement). */
export interface SqlConnection {
  query<T>(s: Statement): Promise<T[]>;
  execute(s: Statement): Promise<number>;
}

/**
 * A transaction's connection (SqlRunner.transaction), which can also put several statements in one round trip
 * (queryBatch: one write, one Sync, one answer):
 * - `queryTogether` sends statements together and waits once for all their answers (after one that fails,
 *   the rest are not run: the first error is thrown);
 * - `executeWithCommit` holds a write whose outcome nobody reads until it ends the transaction: it goes
 *   out in front of COMMIT (or of the next statement, if one follows), in the same round trip; several
 *   held writes go out together, in the order they were held.
 */
export interface SqlTxConnection extends SqlConnection {
  queryTogether(statements: Statement[]): Promise<unknown[][]>;
  executeWithCommit(s: Statement): void;
}

/** A statement or a bare command ({ text: 'BEGIN' }) as pg takes it. */
type Sendable = pg.QueryConfig;

/** Raised when COMMIT answers ROLLBACK: a statement of the transaction had failed and its error was caught. */
export class SqlTransactionRolledBack extends Error {
  constructor() {
    super('COMMIT answered ROLLBACK: the transaction had failed and nothing was committed');
  }
}

export class SqlRunner implements SqlConnection {
  /**
   * Each statement text prepared so far, with its name and the text itself as first seen: config() hands pg that
   * first copy, so pg's check that a name still means the same text (Query.prepare) compares one string with itself
   * instead of the whole text with a new copy, which Prisma.Sql's `text` getter builds on every read.
   */
  private readonly prepared = new Map<string, { name: string; text: string }>();
  /** Reads waiting for a lane (read(), readTogether()), oldest first. */
  private readonly waiting: WaitingReads[] = [];
  /** Lanes running (read()). */
  private lanes = 0;

  constructor(
    private readonly pool: pg.Pool,
    /** Named prepared statements (see the class comment); off behind a transaction-mode pooler. */
    readonly preparedStatements: boolean,
    /** Most connections read() keeps busy at once (DB_READ_LANES); 0: read() is query(). */
    readonly readLanes = 0,
  ) {}

  private config(s: Statement): pg.QueryConfig {
    const values = s.values;
    const text = s.text;
    if (!this.preparedStatements) return { text, values, types: TYPES };
    let known = this.prepared.get(text);
    if (known === undefined) {
      if (this.prepared.size >= MAX_PREPARED) return { text, values, types: TYPES };
      known = { name: `s_${createHash('sha1').update(text).digest('base64url').slice(0, 20)}`, text };
      this.prepared.set(text, known);
    }
    return { name: known.name, text: known.text, values, types: TYPES };
  }

  async query<T>(s: Statement, client?: pg.PoolClient): Promise<T[]> {
    const res = await (client ?? this.pool).query(this.config(s));
    return res.rows as T[];
  }

  /**
   * A read outside any transaction, from a request that does nothing but read (the gateway's answers to
   * Dojo's reads), whose statement may share a round trip with other requests' reads.
   *
   * At most `readLanes` connections carry reads at once. A read that finds a lane free goes out at once, alone,
   * as query() sends it. Reads that arrive while every lane is busy wait, and the next lane to come free sends
   * all that wait (up to 16) together in one round trip (queryBatch: one write, one Sync, one answer), so under
   * load both Node and Postgres wake once for several reads instead of once each; at low rates nothing waits
   * and nothing changes.
   *
   * The reads of one round trip run one after the other in one implicit transaction, each with its own snapshot
   * as on its own. Only reads may come here: a write sharing the round trip would be rolled back by a later read
   * that failed. A read that fails gets its own error, the reads before it keep their rows, and those after it
   * (which Postgres skipped) wait again at the head of the line.
   */
  read<T>(s: Statement): Promise<T[]> {
    if (this.readLanes <= 0) return this.query<T>(s);
    return this.enqueue([this.config(s)]).then((rows) => rows[0] as T[]);
  }

  /**
   * queryTogether for a request that only reads, through the lanes as read(): its statements always go out in
   * one round trip, under load with other requests' reads.
   */
  readTogether(statements: Statement[]): Promise<unknown[][]> {
    if (this.readLanes <= 0) return this.queryTogether(statements);
    return this.enqueue(statements.map((s) => this.config(s)));
  }

  private enqueue(configs: pg.QueryConfig[]): Promise<unknown[][]> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ configs, resolve, reject });
      if (this.lanes < this.readLanes) void this.lane();
    });
  }

  /** One lane: sends what waits, alone or together, until nothing does. Never rejects (each request's reads are settled). */
  private async lane(): Promise<void> {
    this.lanes++;
    try {
      while (this.waiting.length > 0) {
        // The oldest request's reads, and the next ones' while they fit.
        let n = 1;
        let count = this.waiting[0]!.configs.length;
        while (n < this.waiting.length && count + this.waiting[n]!.configs.length <= MAX_READ_BATCH) count += this.waiting[n++]!.configs.length;
        const batch = this.waiting.splice(0, n);
        if (count === 1) {
          const r = batch[0]!;
          await this.pool.query(r.configs[0]!).then((res) => r.resolve([res.rows]), r.reject);
          continue;
        }
        await this.sendTogether(batch);
      }
    } finally {
      this.lanes--;
    }
  }

  /**
   * Requests' reads in one round trip on one pooled connection. A request with a read that failed gets that error;
   * the requests whose reads Postgres skipped after it are put back at the head of the line; the others get their rows.
   */
  private async sendTogether(batch: WaitingReads[]): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      for (const r of batch) r.reject(err);
      return;
    }
    let failed: Error | undefined;
    try {
      const outcomes = await queryBatchSettled(client, batch.flatMap((r) => r.configs));
      const notRun: WaitingReads[] = [];
      let at = 0;
      for (const r of batch) {
        const own = outcomes.slice(at, (at += r.configs.length));
        const error = own.find((o) => o !== undefined && 'error' in o);
        if (error) {
          failed = error.error;
          r.reject(error.error);
        } else if (own.some((o) => o === undefined)) {
          notRun.push(r);
        } else {
          r.resolve(own.map((o) => (o as { result: pg.QueryResult }).result.rows as unknown[]));
        }
      }
      this.waiting.unshift(...notRun);
    } catch (err) {
      // The connection failed under the batch (pg rejects its queries then): nothing of it can be trusted.
      failed = err as Error;
      for (const r of batch) r.reject(err);
    } finally {
      // After a failure the connection is dropped rather than reused, as queryTogether does.
      client.release(failed);
    }
  }

  async execute(s: Statement, client?: pg.PoolClient): Promise<number> {
    const res = await (client ?? this.pool).query(this.config(s));
    return res.rowCount ?? 0;
  }

  /**
   * Statements outside any transaction, in one round trip on one pooled connection (queryBatch: one write, one
   * Sync, one answer): the reads of one request that do not depend on each other. Their rows, in order. After one
   * that fails the rest are not run and the first error is thrown; the connection is then dropped rather than
   * reused (as transaction() does when even its ROLLBACK fails: nothing is left to chance on a shared pool).
   */
  async queryTogether(statements: Statement[]): Promise<unknown[][]> {
    if (statements.length === 1) return [await this.query<unknown>(statements[0]!)];
    const client = await this.pool.connect();
    let failed: Error | undefined;
    try {
      return (await queryBatch(client, statements.map((s) => this.config(s)))).map((r) => r.rows as unknown[]);
    } catch (err) {
      failed = err as Error;
      throw err;
    } finally {
      client.release(failed);
    }
  }

  /**
   * Runs `fn` in one transaction on one pooled connection: BEGIN, fn, COMMIT;
   * ROLLBACK when fn throws (and the connection is dropped when even that fails).
   *
   * Round trips: BEGIN goes out with the transaction's first statement (or
   * statements, queryTogether), and a write held by executeWithCommit with
   * COMMIT, each lot in one batch (queryBatch: one write, one Sync). A change
   * that reads once and writes once is then 2 round trips. When the held
   * write fails, the COMMIT behind it is not run and the transaction rolls
   * back with that write's error; a COMMIT that answers ROLLBACK (an earlier
   * statement failed and its error was caught) is SqlTransactionRolledBack,
   * never a success.
   */
  async transaction<T>(fn: (conn: SqlTxConnection) => Promise<T>, opts: SqlTransactionOptions): Promise<T> {
    const client = await acquire(this.pool, opts.maxWait);
    const openedAt = performance.now();
    const live = () => {
      if (performance.now() - openedAt > opts.timeout) throw new SqlTransactionExpired(opts.timeout);
    };
    /** BEGIN not sent yet (it goes out with the first statement). */
    let begun = false;
    /** COMMIT answered (committed or rolled back): nothing to roll back after. */
    let ended = false;
    /** Writes held to go out, in order, with COMMIT or in front of the next statement (executeWithCommit). */
    let held: Statement[] = [];
    /**
     * Sends the items, with BEGIN and the held writes in front when due, in one round trip; the items' answers.
     * When a held write fails, the items after it are not run (in a transaction block they could only fail).
     */
    const send = async (items: Sendable[]): Promise<pg.QueryResult[]> => {
      live();
      const lead: Sendable[] = [];
      if (!begun) lead.push({ text: 'BEGIN' });
      for (const h of held) lead.push(this.config(h));
      begun = true;
      held = [];
      const all = [...lead, ...items];
      if (all.length === 1) return [await client.query(all[0]!)];
      return (await queryBatch(client, all)).slice(lead.length);
    };
    const conn: SqlTxConnection = {
      query: async <R>(s: Statement) => (await send([this.config(s)]))[0]!.rows as R[],
      execute: async (s: Statement) => (await send([this.config(s)]))[0]!.rowCount ?? 0,
      queryTogether: async (statements: Statement[]) => (await send(statements.map((s) => this.config(s)))).map((r) => r.rows as unknown[]),
      executeWithCommit: (s: Statement) => {
        held.push(s);
      },
    };
    let broken: Error | undefined;
    try {
      const out = await fn(conn);
      if (!begun && held.length === 0) return out; // no statement: nothing to begin or commit
      // When a held write fails, the COMMIT after it is not run: the transaction is left aborted, and rolled back below.
      const [commit] = await send([{ text: 'COMMIT' }]);
      ended = true;
      if (commit!.command !== 'COMMIT') throw new SqlTransactionRolledBack();
      return out;
    } catch (err) {
      if (begun && !ended) {
        await client.query('ROLLBACK').catch((e: Error) => {
          broken = e; // the connection is unusable: released with the error below, so the pool drops it
        });
      }
      throw err;
    } finally {
      client.release(broken);
    }
  }
}

async function acquire(pool: pg.Pool, maxWait: number): Promise<pg.PoolClient> {
  let timer: NodeJS.Timeout | undefined;
  const connecting = pool.connect();
  try {
    return await Promise.race([
      connecting,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Unable to start a transaction in the given time (${maxWait} ms): no pooled connection`)), maxWait);
      }),
    ]);
  } catch (err) {
    // A connection that arrives after the wait gave up goes back to the pool.
    connecting.then((c) => c.release(), () => undefined);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
