import type { CounterSignals } from '../counter/ports';
import type { Dialect } from '../rpc/dialect';
import { connectPacDialect } from './connect-pac/dialect';
import { connectPatDialect } from './connect-pat/dialect';
import { dojoTablesDialect } from './dojo-tables/dialect';
import { EPOS_DATA } from './epos-data/dialect';

interface DialectOptions {
  /** How long a Tables API LockSession holds the order (ms). */
  tablesLockTtlMs?: number;
  /** How long a Connect PAT table lock holds the table's orders (ms). */
  connectPatLockTtlMs?: number;
  /** Redis for pay at counter (events, signature decisions): the connect-pac dialect. */
  counter: CounterSignals;
}

/** Every wire dialect the workers answer (RpcJob.dialect names one). A new dialect is one more entry. */
export function dialects(opts: DialectOptions): Dialect<unknown, unknown>[] {
  return [EPOS_DATA, dojoTablesDialect({ lockTtlMs: opts.tablesLockTtlMs }), connectPatDialect({ lockTtlMs: opts.connectPatLockTtlMs }), connectPacDialect(opts.counter)];
}

/**
 * The dialects whose reads a gateway replica answers itself (GATEWAY_READS=local): each one's non-mutating methods
 * read Postgres and nothing else. Their lock times are the defaults: no read takes a lock. Connect PAC is not among
 * them (its requests publish to the POS or wait for it).
 */
export function readingDialects(): Dialect<unknown, unknown>[] {
  return [EPOS_DATA, dojoTablesDialect(), connectPatDialect()];
}
