import pg from 'pg';

/**
 * Several statements in one round trip on one pg client, with one Sync:
 * Postgres reads them in one go and answers them all in one flush, so each
 * side wakes up once for the lot (pg's own pipeline mode ends every statement
 * with a Sync, and Postgres flushes an answer per Sync: as many wake-ups on
 * the client's side as statements).
 *
 * Written against pg's documented extension point, a submittable (an object
 * with `submit(connection)` that pg's Client feeds the backend's messages to:
 * what pg-cursor and pg-query-stream use), with pg's own Query objects
 * parsing each statement's rows, so rows come out exactly as `client.query`
 * gives them. pg has no API for one Sync over several statements.
 *
 * Protocol: for each statement Parse (unless its name is already prepared on
 * this connection), Bind, Describe, Execute; then one Sync. After an error,
 * Postgres skips everything up to the Sync: the statements after the failed
 * one are not run (in a transaction block they could only fail anyway).
 * queryBatch then fails with that error; queryBatchSettled says what became
 * of each statement.
 */

/** What became of one statement of a batch: its result, its error, or `undefined` when it was not run (one before it failed). */
export type StatementOutcome = { result: pg.QueryResult } | { error: Error } | undefined;

/** The parts of pg's Connection a batch writes with (see pg/lib/connection.js). */
interface Wire {
  stream: { cork?(): void; uncork?(): void };
  parsedStatements: Record<string, string>;
  parse(q: { text: string; name?: string }): void;
  bind(c: { portal: string; statement: string; values: unknown[]; binary: boolean; valueMapper: (v: unknown) => unknown }): void;
  describe(m: { type: 'P' | 'S'; name: string }): void;
  execute(c: { portal: string }): void;
  close(m: { type: 'P' | 'S'; name: string }): void;
  sync(): void;
}

/** pg's Query as a handler of one statement's messages (pg/lib/query.js). */
interface StatementHandler {
  handleRowDescription(msg: unknown): void;
  handleDataRow(msg: unknown): void;
  handleCommandComplete(msg: unknown, con: Wire): void;
  _canceledDueToError: unknown;
  _result: pg.QueryResult;
}

/** pg's conversion of a JS value to a parameter (what client.query applies). */
const { prepareValue } = (pg as unknown as { utils: { prepareValue: (this: void, v: unknown) => unknown } }).utils;

class StatementBatch {
  private readonly handlers: StatementHandler[];
  /** Index of the statement whose answer is coming. */
  private at = 0;
  private done = false;
  /** The connection written to (set once everything was written). */
  private wire: Wire | undefined;
  /** A value that could not be sent, and the statement it belongs to: that statement fails with it once Postgres answers the Sync. */
  private failed: { at: number; error: Error } | undefined;

  constructor(
    /** The statements, in order (public for diagnostics that count statements apart from round trips). */
    readonly statements: pg.QueryConfig[],
    private readonly callback: (outcomes: StatementOutcome[]) => void,
  ) {
    this.handlers = statements.map((s) => new pg.Query({ text: s.text, types: s.types }) as unknown as StatementHandler);
  }

  /** Called by pg's Client when the batch's turn comes. Returns an error instead of throwing, as pg's Query does. */
  submit(con: Wire): Error | null {
    con.stream.cork?.();
    let at = 0;
    try {
      for (; at < this.statements.length; at++) {
        const s = this.statements[at]!;
        const name = s.name ?? '';
        if (name === '' || con.parsedStatements[name] === undefined) {
          // A name this connection has not seen prepared may still exist from a batch that failed after its
          // Parse: Close first (closing a statement that does not exist is not an error).
          if (name !== '') con.close({ type: 'S', name });
          con.parse({ text: s.text, name });
        }
        con.bind({ portal: '', statement: name, values: s.values ?? [], binary: false, valueMapper: prepareValue });
        con.describe({ type: 'P', name: '' });
        con.execute({ portal: '' });
      }
      con.sync();
      this.wire = con;
    } catch (err) {
      // Only a value that cannot be sent (bind's mapping) throws here. What was written before it goes out with the
      // Sync: the statements before this one run, this one (at most parsed) and those after it do not.
      con.sync();
      this.wire = con;
      this.failed = { at, error: err as Error };
    } finally {
      con.stream.uncork?.();
    }
    return null;
  }

  private current(): StatementHandler {
    const h = this.handlers[this.at];
    if (!h) throw new Error(`the batch of ${this.handlers.length} statements received an answer for one more`);
    return h;
  }

  handleRowDescription(msg: unknown): void {
    this.current().handleRowDescription(msg);
  }

  handleDataRow(msg: unknown): void {
    this.current().handleDataRow(msg);
  }

  handleCommandComplete(msg: unknown, con: Wire): void {
    this.current().handleCommandComplete(msg, con);
    this.at++;
  }

  handleEmptyQuery(): void {
    this.at++;
  }

  /** An ErrorResponse: the statement at `at` failed, the rest are skipped. pg's Client expects the callback now. */
  handleError(err: Error): void {
    this.markParsed(this.at);
    this.finish(this.at, err);
  }

  handleReadyForQuery(): void {
    if (this.failed) {
      // The statements before the one whose value could not be sent ran; whether that one was parsed is not
      // known, so its name is not marked (Close + Parse next time).
      this.markParsed(this.failed.at);
      return this.finish(this.failed.at, this.failed.error);
    }
    this.markParsed(this.handlers.length);
    const bad = this.handlers.findIndex((h) => h._canceledDueToError);
    if (bad >= 0) return this.finish(bad, this.handlers[bad]!._canceledDueToError as Error, true);
    this.finish(this.handlers.length, null);
  }

  handlePortalSuspended(): void {
    this.finish(this.at, new Error('a batch statement was suspended (no row limit is set)'));
  }

  handleCopyInResponse(): void {
    this.finish(this.at, new Error('COPY is not supported in a statement batch'));
  }

  handleCopyData(): void {
    // never reached: handleCopyInResponse failed the batch
  }

  /** Statements before `upTo` ran, so their Parse did: their names are prepared on this connection. */
  private markParsed(upTo: number): void {
    const con = this.wire;
    if (!con) return;
    for (let i = 0; i < upTo; i++) {
      const s = this.statements[i]!;
      if (s.name) con.parsedStatements[s.name] = s.text;
    }
  }

  /**
   * The statements before `failedAt` have their results and the one at `failedAt` its error; the rest were not run,
   * unless `restRan` (a row of statement `failedAt` could not be parsed: Postgres ran them all).
   */
  private finish(failedAt: number, err: Error | null, restRan = false): void {
    if (this.done) return;
    this.done = true;
    this.callback(
      this.handlers.map((h, i): StatementOutcome => {
        if (i === failedAt && err) return { error: err };
        return i < failedAt || restRan ? { result: h._result } : undefined;
      }),
    );
  }
}

/**
 * Runs `statements` on `client` (held by the caller alone) in one round trip
 * and one Sync; each statement's result, or the first error (the statements
 * after it did not run).
 */
export async function queryBatch(client: pg.ClientBase, statements: pg.QueryConfig[]): Promise<pg.QueryResult[]> {
  const outcomes = await queryBatchSettled(client, statements);
  const failed = outcomes.find((o) => o !== undefined && 'error' in o);
  if (failed) throw failed.error;
  return outcomes.map((o) => (o as { result: pg.QueryResult }).result);
}

/**
 * Runs `statements` on `client` (held by the caller alone) in one round trip and one Sync; what became of each:
 * its result, its error, or undefined when it was not run because one before it failed.
 */
export function queryBatchSettled(client: pg.ClientBase, statements: pg.QueryConfig[]): Promise<StatementOutcome[]> {
  return new Promise((resolve) => {
    const batch = new StatementBatch(statements, resolve);
    void client.query(batch as unknown as pg.QueryConfig);
  });
}
