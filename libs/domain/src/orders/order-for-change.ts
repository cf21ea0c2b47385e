import { EposError } from '@app/contracts';
import { Prisma } from '@app/db';
import type { ExecContext, MutationPlan } from '../rpc/exec-context';
import type { Tx } from '../shared/tx';
import { posEventInsertCte, venueFeedInsertCte } from '../shared/write-sql';
import type { FeedKind } from '../shared/venue-feed';
import type { OrderWithRelations } from './order-mapper';
import { jsonValue, orderJsonByIdSql, OrderJson, orderRowFromJson } from './order-sql';
import { lockOrderRowIfExists } from './order-store';

/**
 * What a change to one order (lock, payment, cancellation) reads once it holds
 * the order's row lock, in one statement: the order with items and payments,
 * its lock row (live or expired), the transaction's now() as stored in a
 * timestamptz(3) column, and optionally more (`extra`, pairs of key and value
 * SQL inside json_build_object).
 */
export interface OrderForChange {
  order: OrderWithRelations | null;
  lock: { lockId: string; expiresAt: Date } | null;
  /** now() of the transaction, rounded as Postgres stores it in a timestamptz(3) column. */
  dbNow: Date;
  extra: Record<string, unknown>;
}

interface Raw {
  order: OrderJson | null;
  lock: { lock_id: string; expires_at: string } | null;
  db_now: string;
  [k: string]: unknown;
}

export function orderForChangeSql(locationId: string, orderId: string, extra: Prisma.Sql = Prisma.empty): Prisma.Sql {
  return Prisma.sql`json_build_object('order', ${orderJsonByIdSql(locationId, orderId)},
    'lock', (SELECT json_build_object('lock_id', l.lock_id, 'expires_at', l.expires_at) FROM order_locks l
              WHERE l.location_id = ${locationId}::uuid AND l.order_id = ${orderId}),
    'db_now', now()::timestamptz(3)${extra})`;
}

function parse(raw: unknown): OrderForChange {
  const r = jsonValue<Raw>(raw);
  const { order, lock, db_now, ...extra } = r;
  return {
    order: order ? orderRowFromJson(order) : null,
    lock: lock ? { lockId: lock.lock_id, expiresAt: new Date(lock.expires_at) } : null,
    dbNow: new Date(db_now),
    extra,
  };
}

/** The plan for a use-case that changes one order: lock its row, then read it with orderForChangeSql. */
export function orderChangePlan(locationId: string, orderId: string, opts: { advisoryKeys?: string[]; extra?: Prisma.Sql } = {}): MutationPlan {
  return { advisoryKeys: opts.advisoryKeys, orderId, read: orderForChangeSql(locationId, orderId, opts.extra) };
}

/**
 * The order under its row lock, as read by the dispatcher for the use-case's
 * plan, or (when the use-case runs on its own) locked and read here in two
 * round trips. NotFound when the order does not exist at this location.
 */
export async function lockedOrderForChange(ctx: ExecContext, orderId: string, extra?: Prisma.Sql): Promise<OrderForChange & { order: OrderWithRelations }> {
  let found: OrderForChange;
  if (ctx.planned) {
    found = parse(ctx.planned.pre);
  } else {
    const row = await lockOrderRowIfExists(ctx.db, ctx.locationId, orderId);
    if (!row) throw EposError.notFound('order', orderId);
    found = await readOrderForChange(ctx.db, ctx.locationId, orderId, extra);
  }
  if (!found.order) throw EposError.notFound('order', orderId);
  return found as OrderForChange & { order: OrderWithRelations };
}

export async function readOrderForChange(db: Tx, locationId: string, orderId: string, extra?: Prisma.Sql): Promise<OrderForChange> {
  const rows = await db.$queryRaw<{ pre: unknown }[]>`SELECT ${orderForChangeSql(locationId, orderId, extra)} AS pre`;
  return parse(rows[0]!.pre);
}

/** publishOrderChange's two inserts (venue feed entry + OrderUpdated POS event) as CTEs. */
export function publishOrderChangeCtes(locationId: string, orderId: string, kind: FeedKind, data: unknown): Prisma.Sql[] {
  return [
    venueFeedInsertCte('feed', locationId, kind, 'order', orderId, data),
    posEventInsertCte('outbox', locationId, 'OrderUpdated', orderId, { orderId }),
  ];
}
