import pg from 'pg';

/**
 * Counts what every pg client of this process sends from now until stop(): a round trip per client query, and the
 * statements in it. A statement batch (libs/db pg-batch's queryBatch: several statements, one Sync) is one query call,
 * one round trip, of as many statements as its `statements`; every other query is one statement.
 */
export function countPgRoundTrips(): { readonly trips: number; readonly statements: number; stop(): void } {
  const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const orig = proto.query;
  const counts = { trips: 0, statements: 0 };
  proto.query = function (this: unknown, ...a: unknown[]) {
    counts.statements += (a[0] as { statements?: unknown[] } | undefined)?.statements?.length ?? 1;
    counts.trips++;
    return orig.apply(this, a);
  };
  return {
    get trips() {
      return counts.trips;
    },
    get statements() {
      return counts.statements;
    },
    stop: () => {
      proto.query = orig;
    },
  };
}

/** The round trips and statements `fn` sent through pg (countPgRoundTrips around one call). */
export async function pgRoundTripsOf<T>(fn: () => Promise<T>): Promise<{ out: T; trips: number; statements: number }> {
  const counter = countPgRoundTrips();
  try {
    const out = await fn();
    return { out, trips: counter.trips, statements: counter.statements };
  } finally {
    counter.stop();
  }
}
