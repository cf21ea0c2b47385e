import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import type { PrismaClient } from '@app/db';
import { Prisma } from '@app/db';
import { CounterRepository } from '@app/domain/repositories/counter.repository';
import { DeadLettersRepository } from '@app/domain/repositories/dead-letters.repository';
import { VenueFeedRepository } from '@app/domain/repositories/venue-feed.repository';
import { retentionRepositories } from '@app/domain/retention';
import type { Tx } from '@app/domain/shared/tx';
import type { TestDatabase } from '@app/testing';
import { createTestDatabase } from '@app/testing';

/** A stand-in for Prisma that keeps the statements a repository sends (and answers none): they are explained below. */
function recorder(): { db: Tx & PrismaClient; statements: Prisma.Sql[] } {
  const statements: Prisma.Sql[] = [];
  const $queryRaw = (first: TemplateStringsArray | Prisma.Sql, ...values: unknown[]) => {
    statements.push(first instanceof Prisma.Sql ? first : Prisma.sql(first, ...values));
    return Promise.resolve([]);
  };
  const $executeRaw = (first: TemplateStringsArray | Prisma.Sql, ...values: unknown[]) => {
    statements.push(first instanceof Prisma.Sql ? first : Prisma.sql(first, ...values));
    return Promise.resolve(0);
  };
  return { db: { $queryRaw, $executeRaw } as unknown as Tx & PrismaClient, statements };
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

function scans(node: PlanNode, out: string[] = []): string[] {
  if (node['Relation Name']) out.push(`${node['Node Type']} on ${node['Relation Name']}`);
  for (const child of node.Plans ?? []) scans(child, out);
  return out;
}

/**
 * The reads whose tables lost an index nothing read (migration 20261204000000), and retention's batches, are served by an index:
 * explained with sequential scans disabled, a read that no index can serve still plans a Seq Scan on its table.
 */
describe('the reads of the append tables use their indexes', () => {
  let db: TestDatabase;
  let pg: Client;
  const location = '7d4a4f5e-0c8e-4f0e-9b8e-2f6f0c2b9a11';
  const transaction = '0b6a1c1e-5d8e-4a55-8f0e-6e5c4c3b2a10';

  before(async () => {
    db = await createTestDatabase('reads-use-indexes');
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    await pg.query('SET enable_seqscan = off');
  });

  after(async () => {
    await pg?.end();
    await db?.drop();
  });

  async function tableScans(statements: Prisma.Sql[], tables: string[]): Promise<string[]> {
    assert.ok(statements.length > 0, 'the repository sent no statement');
    const found: string[] = [];
    for (const s of statements) {
      const values = s.values.map((v) => (typeof v === 'bigint' ? v.toString() : v));
      const { rows } = await pg.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(`EXPLAIN (FORMAT JSON) ${s.text}`, values);
      found.push(...scans(rows[0]!['QUERY PLAN'][0].Plan).filter((n) => tables.some((t) => n.endsWith(` on ${t}`))));
    }
    return found;
  }

  it('the venue feed, read after a cursor', async () => {
    const r = recorder();
    await new VenueFeedRepository(r.db).readAfter(location, { tx: 10n, id: 20n }, 100);
    const found = await tableScans(r.statements, ['venue_feed']);
    assert.ok(found.length > 0, 'venue_feed is not read');
    assert.deepEqual(found.filter((n) => n.startsWith('Seq Scan')), [], found.join(', '));
  });

  it("the counter's event stream: its head, the events after a cursor and a transaction's events", async () => {
    const r = recorder();
    const repo = new CounterRepository(r.db);
    await repo.head(location);
    await repo.eventsAfter(location, { tx: 10n, id: 20n }, 100);
    await repo.eventsOf(location, transaction);
    const found = await tableScans(r.statements, ['counter_events']);
    assert.ok(found.length >= 3, found.join(', '));
    assert.deepEqual(found.filter((n) => n.startsWith('Seq Scan')), [], found.join(', '));
  });

  it("retention's batches find their rows by index on every table they prune (the venue feed's by its BRIN index)", async () => {
    const r = recorder();
    const repos = retentionRepositories(r.db);
    const before = new Date('2026-11-01T00:00:00.000Z');
    await repos.requests.deleteStoredBefore(before, 1000);
    await repos.outbox.deleteSentBefore(before, 1000);
    await repos.outbox.deleteDiscardedBefore(before, 1000);
    await repos.events.deleteAppliedBefore(before, 1000);
    await repos.events.deleteDiscardedBefore(before, 1000);
    await repos.events.discardPendingPaymentBefore(before, 1000, 'retention');
    await repos.feed.deleteBefore(before, 1000);
    const found = await tableScans(r.statements, ['processed_requests', 'outbox_events', 'dojo_events', 'venue_feed']);
    for (const t of ['processed_requests', 'outbox_events', 'dojo_events', 'venue_feed']) assert.ok(found.some((n) => n.endsWith(` on ${t}`)), `${t}: ${found.join(', ')}`);
    assert.deepEqual(found.filter((n) => n.startsWith('Seq Scan')), [], found.join(', '));
  });

  it('the dead letters, listed for a venue since a time and in all', async () => {
    const r = recorder();
    const repo = new DeadLettersRepository(r.db);
    await repo.list({ limit: 50 });
    await repo.list({ limit: 50, locationId: location, since: new Date('2026-11-30T00:00:00.000Z') });
    const found = await tableScans(r.statements, ['dojo_events', 'outbox_events']);
    assert.ok(found.some((n) => n.endsWith(' on dojo_events')) && found.some((n) => n.endsWith(' on outbox_events')), found.join(', '));
    assert.deepEqual(found.filter((n) => n.startsWith('Seq Scan')), [], found.join(', '));
  });
});
