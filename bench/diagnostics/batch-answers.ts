/**
 * The Node CPU of reading the answers of one statement batch (libs/db pg-batch queryBatch), without Postgres or a
 * socket: a stand-in client feeds the batch the messages Postgres sends for the events worker's lot of one event
 * (an intent lock, the event row, its payment and its online intent: 1, 20, 12 and 22 columns, one row each),
 * through the same code the platform runs. What it isolates is the per-statement work in Node (the row shape, the
 * parsers, each row), which whole runs cannot tell apart from the machine's noise.
 *
 * `node dist/bench/diagnostics/batch-answers.js [batches per round] [rounds]` (defaults 40000 and 5).
 */
import pg from 'pg';
import { queryBatch } from '@app/db';

const TEXT = 25;
const INT4 = 23;
const INT8 = 20;
const TIMESTAMPTZ = 1184;
const JSONB = 3802;
const KINDS = [TEXT, INT4, TIMESTAMPTZ, TEXT, JSONB, INT8];

function columns(n: number, prefix: string) {
  return Array.from({ length: n }, (_, i) => ({
    name: `${prefix}_${i}`, tableID: 1, columnID: i, dataTypeID: KINDS[i % KINDS.length]!, dataTypeSize: -1, dataTypeModifier: -1, format: 'text',
  }));
}

function valueOf(type: number): string {
  if (type === INT4 || type === INT8) return '42';
  if (type === TIMESTAMPTZ) return '2026-12-01 10:00:00.123+00';
  if (type === JSONB) return '{"a":1}';
  return 'text value';
}

async function main(): Promise<void> {
  const perRound = Number(process.argv[2] ?? 40_000);
  const rounds = Number(process.argv[3] ?? 5);
  const shapes = [columns(1, 'lock'), columns(20, 'event'), columns(12, 'payment'), columns(22, 'intent')];
  const rows = shapes.map((cols) => cols.map((c) => valueOf(c.dataTypeID)));
  const types = new pg.TypeOverrides();
  const statements = shapes.map((_, i) => ({ name: `s_diag_${i}`, text: `SELECT ${i}`, values: ['a', 1], types }));
  // A connection on which the statements are prepared already (as on a warm pool): Bind, Describe, Execute each.
  const wire = {
    stream: {},
    parsedStatements: Object.fromEntries(statements.map((s) => [s.name, s.text])),
    parse() {}, bind() {}, describe() {}, execute() {}, close() {}, sync() {},
  };
  type Batch = {
    submit(w: typeof wire): void;
    handleRowDescription(m: unknown): void;
    handleDataRow(m: unknown): void;
    handleCommandComplete(m: unknown, w: typeof wire): void;
    handleReadyForQuery(): void;
  };
  const client = {
    query(b: Batch) {
      b.submit(wire);
      shapes.forEach((fields, i) => {
        b.handleRowDescription({ fields });
        b.handleDataRow({ fields: rows[i] });
        b.handleCommandComplete({ text: 'SELECT 1' }, wire);
      });
      b.handleReadyForQuery();
    },
  } as unknown as pg.ClientBase;
  console.log(`round  batches  CPU µs per batch of ${statements.length} statements`);
  for (let round = 1; round <= rounds; round++) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < perRound; i++) await queryBatch(client, statements);
    const c = process.cpuUsage(c0);
    console.log(`${String(round).padStart(5)}  ${String(perRound).padStart(7)}  ${((c.user + c.system) / perRound).toFixed(2).padStart(36)}`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
