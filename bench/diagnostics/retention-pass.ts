/**
 * What a retention pass costs (README "Retention"): a backlog of finished rows past their period in the four
 * pruned tables, across venues, with as many young rows beside them, then passes of PruneExpiredRecords until
 * none is left. Printed per kind: rows removed, rows per second, and the batch statements' time (p50 / max), the
 * time a batch holds its rows' locks. Then the same venues' young rows are still all there (checked).
 *
 * `node dist/bench/diagnostics/retention-pass.js [old rows per table] [batch size] [venues]` (defaults 100000;
 * 1000; 20). DATABASE_URL / REDIS_URL optional, as for the bench.
 */
import { createLogger } from '@app/common';
import { createPrisma, dropDatabase, ensureDatabase, migrate, withDatabase } from '@app/db';
import { percentile } from '@app/dojo-sandbox';
import { DEFAULT_RETENTION, PruneExpiredRecords, RETAINED_RECORDS, retentionRepositories, type RetainedRecord, type RetentionRepositories } from '@app/domain/retention';
import { startStack } from '@app/infra';
import { fixtures } from '@app/testing';
import { benchVenues } from '../lib/seed';

/** The repositories with each batch statement timed, per kind of record. */
function timed(repos: RetentionRepositories, times: Map<RetainedRecord, number[]>): RetentionRepositories {
  const wrap = <A extends unknown[]>(kind: RetainedRecord, fn: (...a: A) => Promise<number>) => async (...a: A) => {
    const t0 = performance.now();
    const n = await fn(...a);
    (times.get(kind) ?? times.set(kind, []).get(kind)!).push(performance.now() - t0);
    return n;
  };
  return {
    requests: { deleteStoredBefore: wrap('processed_requests', (b, n) => repos.requests.deleteStoredBefore(b, n)) },
    outbox: {
      deleteSentBefore: wrap('pos_events_sent', (b, n) => repos.outbox.deleteSentBefore(b, n)),
      deleteDiscardedBefore: wrap('pos_events_discarded', (b, n) => repos.outbox.deleteDiscardedBefore(b, n)),
    },
    events: {
      deleteAppliedBefore: wrap('dojo_events_applied', (b, n) => repos.events.deleteAppliedBefore(b, n)),
      deleteDiscardedBefore: wrap('dojo_events_discarded', (b, n) => repos.events.deleteDiscardedBefore(b, n)),
      discardPendingPaymentBefore: wrap('dojo_events_pending_payment', (b, n, r: string) => repos.events.discardPendingPaymentBefore(b, n, r)),
    },
    feed: { deleteBefore: wrap('venue_feed', (b, n) => repos.feed.deleteBefore(b, n)) },
  };
}

async function main(): Promise<void> {
  const rows = Number(process.argv[2] ?? 100_000);
  const batchSize = Number(process.argv[3] ?? 1_000);
  const venueCount = Number(process.argv[4] ?? 20);
  if (!(rows > 0) || !(batchSize > 0) || !(venueCount > 0)) throw new Error('usage: retention-pass.js [old rows per table] [batch size] [venues]');
  const stack = await startStack();
  const name = `bench_retention_${Date.now()}`;
  const url = withDatabase(stack.databaseUrl, name);
  try {
    await ensureDatabase(url);
    await migrate(url);
    const prisma = createPrisma(url, { poolSize: 4 });
    const venues = await benchVenues(fixtures(prisma), { count: venueCount, prefix: 'ret', ordersPerLocation: 0 });
    const ids = venues.map((v) => v.id);
    // Old rows (40 days) and as many young ones (1 day), spread over the venues; inserted oldest first, as they arrive.
    for (const [days, label] of [[40, 'old'], [1, 'young']] as const) {
      const at = new Date(Date.now() - days * 86_400_000);
      await prisma.$executeRaw`INSERT INTO processed_requests (location_id, dialect, rpc_id, method, response, created_at)
        SELECT (${ids}::uuid[])[1 + g % ${venueCount}::int], 'epos-data', ${label} || '-' || g, 'RecordOrderPaymentByIdV1', '{"jsonrpc":"2.0","result":{}}'::jsonb, ${at}
        FROM generate_series(1, ${rows}::int) g`;
      await prisma.$executeRaw`INSERT INTO outbox_events (location_id, event_type, entity_type, entity_id, payload, state, next_attempt_at, created_at, sent_at)
        SELECT (${ids}::uuid[])[1 + g % ${venueCount}::int], 'OrderUpdated', 'order', 'o-' || g, '{}'::jsonb, 'sent', ${at}, ${at}, ${at}
        FROM generate_series(1, ${rows}::int) g`;
      await prisma.$executeRaw`INSERT INTO dojo_events (id, location_id, dojo_account_id, event_id, event_type, payment_intent_id, occurred_at, channel, payload, state, received_at, applied_at)
        SELECT gen_random_uuid(), (${ids}::uuid[])[1 + g % ${venueCount}::int], 'acc-ret', ${label} || '-' || g, 'payment_intent.status_updated', 'pi-' || g, ${at}, 'webhook', '{}'::jsonb, 'applied', ${at}, ${at}
        FROM generate_series(1, ${rows}::int) g`;
      await prisma.$executeRaw`INSERT INTO venue_feed (location_id, kind, entity_type, entity_id, data, created_at)
        SELECT (${ids}::uuid[])[1 + g % ${venueCount}::int], 'payment.recorded', 'payment', 'p-' || g, '{"paidAmount":1000}'::jsonb, ${at}
        FROM generate_series(1, ${rows}::int) g`;
    }
    await prisma.$executeRawUnsafe('VACUUM ANALYZE processed_requests, outbox_events, dojo_events, venue_feed');
    console.log(`Postgres at ${new URL(stack.databaseUrl).host} (${stack.postgresProvider}); ${rows} old and ${rows} young rows in each of four tables over ${venueCount} venues; batches of ${batchSize}`);

    const times = new Map<RetainedRecord, number[]>();
    const prune = new PruneExpiredRecords(timed(retentionRepositories(prisma), times), DEFAULT_RETENTION, { batchSize, pauseMs: 0 }, createLogger('bench', 'warn'));
    const removed = new Map<RetainedRecord, number>();
    const t0 = performance.now();
    let passes = 0;
    for (;;) {
      passes++;
      const pass = await prune.runPass();
      for (const r of RETAINED_RECORDS) removed.set(r, (removed.get(r) ?? 0) + pass.removed[r]);
      if (pass.complete) break;
    }
    const wallS = (performance.now() - t0) / 1000;
    console.log(`${passes} pass(es), ${wallS.toFixed(1)} s in all`);
    console.log('record                        removed    rows/s   batches   batch p50 ms   batch max ms');
    for (const r of RETAINED_RECORDS) {
      const t = (times.get(r) ?? []).sort((a, b) => a - b);
      const busy = t.reduce((s, x) => s + x, 0) / 1000;
      const n = removed.get(r) ?? 0;
      console.log(
        `${r.padEnd(28)} ${String(n).padStart(8)} ${(busy > 0 ? Math.round(n / busy) : 0).toString().padStart(9)} ${String(t.length).padStart(9)} ${(t.length ? percentile(t, 50) : 0).toFixed(2).padStart(14)} ${(t.length ? t[t.length - 1]! : 0).toFixed(2).padStart(14)}`,
      );
    }
    const young = await prisma.$queryRaw<{ n: bigint }[]>`SELECT (SELECT count(*) FROM processed_requests) + (SELECT count(*) FROM outbox_events)
      + (SELECT count(*) FROM dojo_events) + (SELECT count(*) FROM venue_feed) AS n`;
    const left = Number(young[0]!.n);
    console.log(`rows left: ${left} (the young ones: ${4 * rows}) ${left === 4 * rows ? 'ok' : 'MISMATCH'}`);
    await prisma.$disconnect();
  } finally {
    await dropDatabase(url, name).catch(() => undefined);
    await stack.stop();
  }
}

void main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
