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
 * what pg-cursor and pg-query-stream use), with pg's own Result parsing each
 * statement's rows, so rows come out exactly as `client.query` gives them.
 * pg has no API for one Sync over several statements.
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

/** pg's conversion of a JS value to a parameter (what client.query applies). */
const { prepareValue } = (pg as unknown as { utils: { prepareValue: (this: void, v: unknown) => unknown } }).utils;

/** pg's Result (pg/lib/result.js): the parts a statement's answer is built with, as pg's Query builds it. */
interface PgResult extends pg.QueryResult {
  addFields(fields: pg.FieldDef[]): void;
  parseRow(values: unknown[]): Record<string, unknown>;
  addRow(row: unknown): void;
  addCommandComplete(msg: unknown): void;
  _parsers: unknown[] | undefined;
  _prebuiltEmptyResultObject: object | null;
}
const PgResultClass = (pg as unknown as { Result: new (rowMode: undefined, types: unknown) => PgResult }).Result;

/** The row shape pg's Result.addFields builds from a RowDescription: the fields, their parsers, the empty row. */
interface RowShape {
  types: unknown;
  fields: pg.FieldDef[];
  parsers: unknown[] | undefined;
  empty: object | null;
}

/** Named statements whose row shape is kept at most (SqlRunner names at most a few thousand). */
const MAX_SHAPES = 4_096;

/**
 * The row shape of each named statement, built once per process instead of once per execution: a named
 * statement's columns are fixed by its text (Postgres refuses to change a prepared statement's result type), and
 * an answer is still checked against the kept shape, column by column, before the shape is used.
 */
const shapes = new Map<string, RowShape>();

function sameColumns(a: pg.FieldDef[], b: pg.FieldDef[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.name !== y.name || x.dataTypeID !== y.dataTypeID || x.format !== y.format) return false;
  }
  return true;
}

/**
 * One statement's answer, built with pg's own Result (so rows come out exactly as `client.query` gives them) but
 * without a pg Query per statement (an event emitter and a copy of its config each) and, for a named statement,
 * without rebuilding its row shape on every execution.
 */
class StatementAnswer {
  readonly result: PgResult;
  /** A row that could not be parsed (pg's Query keeps the first such error and fails the query with it). */
  rowError: Error | undefined;

  constructor(
    private readonly name: string,
    private readonly types: unknown,
  ) {
    this.result = new PgResultClass(undefined, types);
  }

  rowDescription(fields: pg.FieldDef[]): void {
    const r = this.result;
    const kept = this.name === '' ? undefined : shapes.get(this.name);
    if (kept !== undefined && kept.types === this.types && sameColumns(kept.fields, fields)) {
      r.fields = kept.fields;
      r._parsers = kept.parsers;
      r._prebuiltEmptyResultObject = kept.empty;
      return;
    }
    r.addFields(fields);
    if (this.name === '') return;
    if (shapes.size >= MAX_SHAPES) shapes.clear();
    shapes.set(this.name, { types: this.types, fields: r.fields, parsers: r._parsers, empty: r._prebuiltEmptyResultObject });
  }

  dataRow(values: unknown[]): void {
    if (this.rowError) return;
    try {
      this.result.addRow(this.result.parseRow(values));
    } catch (err) {
      this.rowError = err as Error;
    }
  }

  commandComplete(msg: unknown): void {
    this.result.addCommandComplete(msg);
  }
}

class StatementBatch {
  private readonly answers: StatementAnswer[];
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
    this.answers = statements.map((s) => new StatementAnswer(s.name ?? '', s.types));
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

  private current(): StatementAnswer {
    const a = this.answers[this.at];
    if (!a) throw new Error(`the batch of ${this.answers.length} statements received an answer for one more`);
    return a;
  }

  handleRowDescription(msg: { fields: pg.FieldDef[] }): void {
    this.current().rowDescription(msg.fields);
  }

  handleDataRow(msg: { fields: unknown[] }): void {
    this.current().dataRow(msg.fields);
  }

  handleCommandComplete(msg: unknown): void {
    this.current().commandComplete(msg);
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
    this.markParsed(this.answers.length);
    const bad = this.answers.findIndex((a) => a.rowError !== undefined);
    if (bad >= 0) return this.finish(bad, this.answers[bad]!.rowError!, true);
    this.finish(this.answers.length, null);
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
      this.answers.map((a, i): StatementOutcome => {
        if (i === failedAt && err) return { error: err };
        return i < failedAt || restRan ? { result: a.result } : undefined;
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
