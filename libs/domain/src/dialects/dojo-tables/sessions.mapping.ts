import type { Logger } from '@app/common';
import type { TablesBill, TablesFullBill, TablesParams, TableSession } from '@app/contracts';
import { requestTerminalId, requestWaiterId } from '@app/contracts';
import type { Bill, FindSessions, GetSession, LockOrder, Order, RecordPayment, SessionWithTable, TableSessions, UnlockOrder } from '../../core/commands';
import { DomainRefusal } from '../../core/refusal';
import { tableSessionId, terminalLockRef, type TerminalLockNames } from '../../core/rules';
import type { RequestSettings } from '../../rpc/dialect';
import type { Tx } from '../../shared/tx';
import { TablesError } from './errors';
import { sessionOrders } from './session-orders';
import { listFilter, tablesBill, tablesFullBill, tableSession } from './wire.mapping';

const SOURCE = 'dojo-tables' as const;

type P<M extends keyof TablesParams> = TablesParams[M];
/** Params of a method naming one session, with the order it names once resolved (undefined: no such session). */
type Resolved<T> = T & { orderId?: string };

/** The order a session id names (the Tables API names sessions by UUID: core/rules tableSessionId). */
async function resolveSession<T extends { sessionId: string }>(db: Tx, locationId: string, params: T): Promise<Resolved<T>> {
  return { ...params, orderId: (await sessionOrders.orderIdOf(db, locationId, params.sessionId)) ?? undefined };
}

function orderIdOf(p: Resolved<{ sessionId: string }>): string {
  if (p.orderId === undefined) throw DomainRefusal.notFound('session', p.sessionId);
  return p.orderId;
}

const enforced = (req: RequestSettings): boolean => req.settings.enforceWaiterId === true;

/**
 * Waiter-id enforcement (a per-location setting, dojoTables.enforceWaiterId): when on, a single-session request
 * must carry a waiter id (else WAITER_INCORRECT_WAITER_ID), and the use-case refuses another waiter's order. The
 * Tables API's waiter ids are integers: the id goes to the core as its digits ("1"), which match the venue's "1"
 * and "001" (core/rules isWaiterAllowed) but never a venue id that is not digits ("w-amy").
 */
function waiterFor(req: RequestSettings, waiterId: number | undefined): string | undefined {
  if (!enforced(req)) return undefined;
  if (waiterId === undefined) throw new TablesError('WAITER_INCORRECT_WAITER_ID', 'no waiter id was given, and this venue enforces waiter ids');
  return String(waiterId);
}

/**
 * List methods under enforcement: the waiter's sessions (and sessions without a waiter); without a waiter id,
 * nothing (protocols.md 1.7: "List methods apply the same filter or return empty sets").
 */
function listWaiter(req: RequestSettings, params: Parameters<typeof requestWaiterId>[0]): { waiterId?: string; none?: true } {
  if (!enforced(req)) return {};
  const w = requestWaiterId(params);
  return w === undefined ? { none: true } : { waiterId: String(w) };
}

/**
 * The lock a terminal takes: one per terminal id (requestorInfo.cardMachineRequestorInfo.terminalId), so a second
 * terminal's LockSession is SESSION_ALREADY_LOCKED while the first one's retry is idempotent, and the same
 * terminal's RecordPayment and UnlockSession name the lock it holds. A request that names no terminal (Dojo's
 * example sends `terminalId: []`; a consumer device has none) takes the lock `dojo-tables`, which no terminal's
 * name (`dojo-tables:<id>`, the id never empty) can equal.
 */
export function tablesLockRef(terminalId: string | undefined): string {
  return terminalLockRef(tablesLockNames(terminalId));
}

function tablesLockNames(terminalId: string | undefined): TerminalLockNames {
  return { prefix: `${SOURCE}:`, unnamed: SOURCE, ...(terminalId !== undefined ? { terminalId } : {}) };
}

const byId = (tables: TableSessions['tables']) => new Map(tables.map((t) => [t.id, t]));

export const listSessions = {
  toCommand(p: P<'ListSessions'>, _now: Date, req: RequestSettings): FindSessions {
    const w = listWaiter(req, p);
    const tableNames = listFilter(p.tableNames);
    return {
      filter: {
        ...(p.isFinished != null ? { finished: p.isFinished } : {}),
        ...(p.hasTable != null ? { hasTable: p.hasTable } : {}),
        ...(p.isPayable != null ? { payable: p.isPayable } : {}),
        ...(tableNames !== undefined ? { tableNames } : {}),
        ...(w.waiterId !== undefined ? { waiterId: w.waiterId } : {}),
        ...(w.none ? { orderIds: [] } : {}),
      },
    };
  },
  toWire(r: TableSessions): { sessions: TableSession[] } {
    const tables = byId(r.tables);
    const sessions = r.orders.map((o) =>
      tableSession(o, o.tableId === null ? null : (tables.get(o.tableId) ?? null), o.partyId === null ? null : (r.partyCovers.get(o.partyId) ?? null)),
    );
    sessionOrders.learn(r.orders.map((o, i) => ({ locationId: o.locationId, sessionId: sessions[i]!.id, orderId: o.id })));
    return { sessions };
  },
};

const oneSession = <M extends 'GetSession' | 'GetBillItems' | 'GetFullBill'>() => ({
  resolve: (db: Tx, locationId: string, p: P<M>) => resolveSession(db, locationId, p),
  toCommand(p: Resolved<P<M>>, _now: Date, req: RequestSettings): GetSession {
    const waiterId = waiterFor(req, requestWaiterId(p));
    return { orderId: orderIdOf(p), ...(waiterId !== undefined ? { waiterId } : {}) };
  },
});

export const getSession = {
  ...oneSession<'GetSession'>(),
  toWire: (r: SessionWithTable): { session: TableSession } => ({ session: tableSession(r.order, r.table, r.covers) }),
};

/** A canceled or failed order has no bill to show or print; a finalized one keeps its bill. */
const hasBill = (order: Order): boolean => order.status !== 'Canceled' && order.status !== 'Failed';

/** The order's bill for GetBillItems and GetFullBill: BILL_NO_SUCH_BILL when it has none (hasBill). */
function requireBill(order: Order): Order {
  if (!hasBill(order)) {
    throw new TablesError('BILL_NO_SUCH_BILL', `session ${tableSessionId(order.locationId, order.id)} was ${order.status.toLowerCase()}; it has no bill`);
  }
  return order;
}

export const getBillItems = {
  ...oneSession<'GetBillItems'>(),
  toWire: (order: Order): { billItems: TablesBill } => ({ billItems: tablesBill(requireBill(order)) }),
};

export const getFullBill = {
  ...oneSession<'GetFullBill'>(),
  toWire: (b: Bill, log: Logger): { fullBill: TablesFullBill } => {
    requireBill(b.order);
    return { fullBill: tablesFullBill(b, log) };
  },
};

export const listBillItems = {
  async resolve(db: Tx, locationId: string, p: P<'ListBillItems'>): Promise<P<'ListBillItems'> & { orderIds?: string[] }> {
    const sessionIds = listFilter(p.sessionIds);
    if (sessionIds === undefined) return p;
    // Unknown session ids are left out: the list answers what exists (no error code applies).
    return { ...p, orderIds: await sessionOrders.orderIdsOf(db, locationId, sessionIds) };
  },
  toCommand(p: P<'ListBillItems'> & { orderIds?: string[] }, _now: Date, req: RequestSettings): FindSessions {
    const w = listWaiter(req, p);
    return {
      filter: {
        ...(p.orderIds !== undefined ? { orderIds: p.orderIds } : {}),
        ...(w.waiterId !== undefined ? { waiterId: w.waiterId } : {}),
        ...(w.none ? { orderIds: [] } : {}),
      },
    };
  },
  /** The bills of the sessions that have one (hasBill): the sessions GetBillItems answers with a bill. */
  toWire: (r: TableSessions): { billItems: TablesBill[] } => {
    const orders = r.orders.filter(hasBill);
    const billItems = orders.map(tablesBill);
    sessionOrders.learn(orders.map((o, i) => ({ locationId: o.locationId, sessionId: billItems[i]!.sessionId, orderId: o.id })));
    return { billItems };
  },
};

/**
 * LockSession: the same order lock EPOS Data's CreateOrderLock takes (so a lock in one dialect blocks the other),
 * for `lockTtlMs` (the protocol has no expiry; see README "Tables API locks"), answered with the bill as locked.
 * A LockSession that names no terminal is never a renewal: two devices that name none would otherwise share one
 * lock, both charge the bill and release each other's lock (payments must be sequential under a lock,
 * protocols.md 1.5). Any live lock answers it SESSION_ALREADY_LOCKED; its own retry (the same request id) is
 * answered from processed_requests.
 */
export const lockSession = (lockTtlMs: number) => ({
  resolve: (db: Tx, locationId: string, p: P<'LockSession'>) => resolveSession(db, locationId, p),
  toCommand(p: Resolved<P<'LockSession'>>, now: Date, req: RequestSettings): LockOrder {
    const waiterId = waiterFor(req, requestWaiterId(p));
    const terminalId = requestTerminalId(p);
    return {
      orderId: orderIdOf(p),
      lockRef: tablesLockRef(terminalId),
      expiresAt: new Date(now.getTime() + lockTtlMs),
      source: SOURCE,
      ...(waiterId !== undefined ? { waiterId } : {}),
      ...(terminalId === undefined ? { unnamed: true } : {}),
    };
  },
  toWire: (order: Order): { billItems: TablesBill } => ({ billItems: tablesBill(order) }),
});

/**
 * UnlockSession: releases the terminal's lock (or a lock either side took without naming the terminal);
 * SESSION_NOT_LOCKED when there is none, SESSION_UNABLE_TO_UNLOCK when another terminal or EPOS Data holds it.
 */
export const unlockSession = {
  resolve: (db: Tx, locationId: string, p: P<'UnlockSession'>) => resolveSession(db, locationId, p),
  toCommand(p: Resolved<P<'UnlockSession'>>, _now: Date, req: RequestSettings): UnlockOrder {
    const waiterId = waiterFor(req, requestWaiterId(p));
    const terminal = tablesLockNames(requestTerminalId(p));
    return {
      orderId: orderIdOf(p),
      lockRef: terminalLockRef(terminal),
      terminalLock: terminal,
      source: SOURCE,
      mustHold: true,
      ...(waiterId !== undefined ? { waiterId } : {}),
    };
  },
  toWire: (): Record<string, never> => ({}),
};

type PaymentParams = P<'RecordPayment'>;

function paymentTerminalId(p: PaymentParams): string | undefined {
  const fromRequestor = requestTerminalId(p);
  if (fromRequestor) return fromRequestor;
  const details = p.payment.methodDetails as { cardPresentPaymentInfo?: { terminalId?: unknown } } | undefined;
  const t = details?.cardPresentPaymentInfo?.terminalId;
  return typeof t === 'string' && t.length > 0 ? t.slice(0, 64) : undefined;
}

/**
 * A payment's tip, which the docs send as tipsAmount and Dojo's SDK reads as gratuityAmount (protocols.md 1.4); the
 * card was charged by then, so no combination of the two is refused. A field absent or 0 gives way to the other (a
 * serializer writes its default, 0, in the one it does not use); the same amount under both names is one tip (a
 * client filling both for either reader); two different amounts are both tips, added.
 */
export function paymentTip(pay: { tipsAmount?: number | null; gratuityAmount?: number | null }): number {
  const tips = pay.tipsAmount ?? 0;
  const gratuity = pay.gratuityAmount ?? 0;
  return tips === gratuity ? tips : tips + gratuity;
}

const ISO_DATE_TIME = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * A payment's attemptedAt as an instant: an ISO 8601 date-time (UTC when it names no offset; beyond milliseconds cut,
 * as a timestamptz(3) keeps it). Anything else is not a time this platform can compare, and is taken as not stated:
 * it only serves the duplicate check, and refusing a payment the card machine has charged over it would make Dojo
 * refund the guest.
 */
export function paymentAttemptedAt(raw: string | null | undefined): Date | undefined {
  const m = raw ? ISO_DATE_TIME.exec(raw.trim()) : null;
  if (!m) return undefined;
  const zone = m[3] ? m[3].toUpperCase() : 'Z';
  const date = m[1]!;
  const time = m[2]!.replace(/(\.\d{3})\d+$/, '$1');
  const offset = zone === 'Z' ? zone : `${zone.slice(0, 3)}:${zone.length > 3 ? zone.slice(-2) : '00'}`;
  const at = new Date(`${date}T${time}${offset}`);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

/**
 * RecordPayment, through the shared RecordPayment command: needs the terminal's own lock (SESSION_NOT_LOCKED),
 * once per payment id, trimmed (Dojo's own example carries a trailing space; a repeat, with the same amounts and
 * attemptedAt, is PAYMENT_ALREADY_RECORDED and changes nothing, the id again with other amounts or at another
 * attemptedAt PAYMENT_NOT_RECORDED), tips from tipsAmount (the docs) or
 * gratuityAmount (the SDK) as paymentTip reads them, cashback recorded and never counted toward the bill. A failed attempt (paymentSuccessful false) changes nothing
 * and is answered `{}` once the session and its lock are checked.
 */
export const recordPayment = {
  async resolve(db: Tx, locationId: string, p: PaymentParams): Promise<PaymentParams & { orderId?: string }> {
    return { ...p, orderId: (await sessionOrders.orderIdOf(db, locationId, p.payment.sessionId)) ?? undefined };
  },
  toCommand(p: PaymentParams & { orderId?: string }, _now: Date, req: RequestSettings): RecordPayment {
    const pay = p.payment;
    if (p.orderId === undefined) throw DomainRefusal.notFound('session', pay.sessionId);
    const waiterId = waiterFor(req, requestWaiterId(p) ?? (typeof pay.waiterId === 'number' ? pay.waiterId : undefined));
    const paymentRef = pay.id.trim();
    if (paymentRef.length === 0) throw DomainRefusal.invalid('payment.id is empty', 'payment.id');
    const tips = paymentTip(pay);
    const attemptedAt = paymentAttemptedAt(pay.attemptedAt);
    const terminal = tablesLockNames(paymentTerminalId(p));
    return {
      orderId: p.orderId,
      paymentRef,
      amount: BigInt(pay.baseAmount),
      tips: BigInt(tips),
      ...(pay.cashbackAmount ? { cashback: BigInt(pay.cashbackAmount) } : {}),
      currency: pay.currency.toUpperCase(),
      ...(attemptedAt ? { attemptedAt } : {}),
      lockRef: terminalLockRef(terminal),
      // LockSession names the terminal from requestorInfo only; a payment may name it from the card details only,
      // or not at all: a lock they cover is this terminal's (core/rules isTerminalsLock).
      terminalLock: terminal,
      source: SOURCE,
      mustHoldLock: true,
      refuseReplay: true,
      ...(pay.paymentSuccessful ? {} : { attemptFailed: true }),
      ...(waiterId !== undefined ? { waiterId } : {}),
    };
  },
  toWire: (): Record<string, never> => ({}),
};
