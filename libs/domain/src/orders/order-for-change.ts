import { EposError } from '@app/contracts';
import { Prisma } from '@app/db';
import type { ExecContext, MutationPlan } from '../rpc/exec-context';
import { posEventInsertCte, venueFeedInsertCte } from '../shared/write-sql';
import type { FeedKind } from '../shared/venue-feed';
import type { OrderWithRelations } from './order-mapper';
import { jsonValue, orderJsonByIdSql, OrderJson, orderRowFromJson } from './order-sql';

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
 * The order under its row lock, as RpcDispatcher read it for the use-case's
 * plan (orderChangePlan) once the plan's locks were held: the only way an
 * order change reads its order. NotFound when the order does not exist at
 * this location, or when no plan ran (a plan is made only for a string
 * orderId; the gateway refuses anything else at the edge).
 */
export function lockedOrderForChange(ctx: ExecContext, orderId: string): OrderForChange & { order: OrderWithRelations } {
  const found = ctx.planned ? parse(ctx.planned.pre) : undefined;
  if (!found?.order) throw EposError.notFound('order', orderId);
  return found as OrderForChange & { order: OrderWithRelations };
}

/**
 * Makes a change Dojo made to an order visible to the venue: an entry in the
 * venue feed and an OrderUpdated POS event in the outbox, as CTEs for the
 * change's one statement.
 */
export function publishOrderChangeCtes(locationId: string, orderId: string, kind: FeedKind, data: unknown): Prisma.Sql[] {
  return [
    venueFeedInsertCte('feed', locationId, kind, 'order', orderId, data),
    posEventInsertCte('outbox', locationId, 'OrderUpdated', orderId, { orderId }),
  ];
}
