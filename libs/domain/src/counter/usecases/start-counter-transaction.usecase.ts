import { isUuid } from '@app/common';
import { randomUUID } from 'node:crypto';
import type { CounterKind, CounterTransactionView } from '@app/contracts';
import { ConnectPac } from '@app/contracts';
import { DomainError, isUniqueViolation } from '../../admin/errors';
import { counterRefundRefusal, counterSaleRefusal } from '../../core/rules';
import { assertOrderEditableByVenue } from '../../locks/order-lock-guard';
import type { CounterTransactionRow } from '../../repositories/counter.repository';
import { counterRepo } from '../../repositories/counter.repository';
import { LocationsRepository } from '../../repositories/locations.repository';
import { ordersRepo } from '../../repositories/orders.repository';
import { paymentIntentsRepo } from '../../repositories/payment-intents.repository';
import { runInTransaction } from '../../repositories/unit-of-work';
import { VENUE_WAIT_BOUND_MS } from '../../repositories/venue-store';
import type { CounterDeps } from '../ports';
import { counterEventOf, counterView } from '../view';
import { requestHash } from '../../shared/request-hash';

export interface StartCounterTransactionCommand {
  idempotencyKey: string;
  kind: CounterKind;
  tid: string;
  /** Minor units; sale and refund only. */
  amount?: bigint;
  amountCashback?: bigint;
  /** Default: the location's. */
  currency?: string;
  /** A sale against the venue's order: recorded on it once SUCCESSFUL. */
  orderId?: string;
  /** A refund of an earlier counter sale recorded on an order (its transaction id): applied to that payment once SUCCESSFUL. */
  refundOf?: string;
}

/** How long an accepted command may wait for a gateway by default (COUNTER_ACCEPT_TTL_MS). */
export const COUNTER_ACCEPT_TTL_DEFAULT_MS = 60_000;

/** The location's PAC link, or 404 counter_not_configured. */
export async function requireCounterLink(d: CounterDeps, locationId: string) {
  const link = await new LocationsRepository(d.prisma).counterLink(locationId);
  if (!link) throw new DomainError('not_found', 'this location has no pay-at-counter link (connect-pac protocol or counter link)', [], { error: 'counter_not_configured' });
  return link;
}

function checkAmounts(cmd: StartCounterTransactionCommand): void {
  const fields: { field: string; reason: string }[] = [];
  if (cmd.kind === 'duplicate') {
    if (cmd.amount !== undefined || cmd.amountCashback !== undefined || cmd.orderId !== undefined || cmd.refundOf !== undefined) {
      fields.push({ field: 'kind', reason: 'a duplicate takes no amount, cashback, order or sale to refund' });
    }
  } else {
    if (cmd.amount === undefined || cmd.amount < 1n || cmd.amount > BigInt(ConnectPac.PAC_MAX_AMOUNT)) fields.push({ field: 'amount', reason: `must be 1 to ${ConnectPac.PAC_MAX_AMOUNT} minor units` });
    if (cmd.amountCashback !== undefined) {
      if (cmd.kind !== 'sale') fields.push({ field: 'amountCashback', reason: 'only a sale takes cashback' });
      else if (cmd.amountCashback < 0n || cmd.amountCashback > BigInt(ConnectPac.PAC_MAX_CASHBACK)) fields.push({ field: 'amountCashback', reason: `must be 0 to ${ConnectPac.PAC_MAX_CASHBACK} minor units` });
    }
    if (cmd.orderId !== undefined && cmd.kind !== 'sale') fields.push({ field: 'orderId', reason: 'only a sale is taken against an order (a refund names the sale it refunds: refundOf)' });
    if (cmd.refundOf !== undefined && cmd.kind !== 'refund') fields.push({ field: 'refundOf', reason: 'only a refund names a sale to refund' });
    else if (cmd.refundOf !== undefined && !isUuid(cmd.refundOf)) fields.push({ field: 'refundOf', reason: "must be a counter sale's transaction id" });
  }
  if (fields.length) throw DomainError.invalid(fields);
}

/**
 * StartCounterTransaction (venue API): a sale, refund or duplicate on a
 * terminal, written as `accepted` before the POS gets its 202, so it is never
 * lost; the owning gateway claims it (TakeCounterWork) and is woken at once.
 * Once per idempotency key: the same key with the same request answers the
 * same transaction (`created: false`), with another request 422
 * idempotency_key_reused. A sale against an order is checked under the
 * order's row lock: the order exists at the location (404), is payable, in the
 * currency, and the amount fits in what is outstanding net of the counter
 * sales still running against it (409). A refund of an earlier counter sale
 * (`refundOf`) is checked under that sale's order row lock: the sale exists at
 * the location (404), took money and was recorded on its order, and the amount
 * fits in what is left to refund of that payment net of the refunds still
 * running against it (409 not_refundable: core/rules counterRefundRefusal).
 * It must be claimed within COUNTER_ACCEPT_TTL_MS or it fails `not_sent`.
 */
export class StartCounterTransaction {
  constructor(private readonly d: CounterDeps) {}

  async execute(locationId: string, cmd: StartCounterTransactionCommand): Promise<{ view: CounterTransactionView; created: boolean }> {
    const link = await requireCounterLink(this.d, locationId);
    const currency = cmd.currency ?? link.currency;
    // refundOf joins the hash only when given, so the keys of requests made before it existed keep their hash.
    const hash = requestHash({ k: cmd.kind, t: cmd.tid, a: cmd.amount ?? null, cb: cmd.amountCashback ?? null, c: currency, o: cmd.orderId ?? null, ...(cmd.refundOf !== undefined ? { r: cmd.refundOf } : {}) });
    const replay = (row: CounterTransactionRow) => {
      if (row.requestHash !== hash) {
        throw new DomainError('unprocessable', `idempotency key ${JSON.stringify(cmd.idempotencyKey)} was used for another request`, [], { error: 'idempotency_key_reused', transactionId: row.id });
      }
      return { view: counterView(row), created: false };
    };
    const repo = counterRepo(this.d.prisma);
    const existing = await repo.findByKey(locationId, cmd.idempotencyKey);
    if (existing) return replay(existing);
    checkAmounts(cmd);
    let made: { row: CounterTransactionRow; events: ReturnType<typeof counterEventOf>[] } | { existing: CounterTransactionRow };
    try {
      made = await runInTransaction(this.d.prisma, async (tx) => {
        const counter = counterRepo(tx);
        if (cmd.orderId !== undefined) {
          const orders = ordersRepo(tx);
          if (!(await orders.lockRowIfExists(locationId, cmd.orderId))) throw DomainError.notFound('order', cmd.orderId);
          const again = await counter.findByKey(locationId, cmd.idempotencyKey);
          if (again) return { existing: again };
          // A card machine at the table holds Dojo's lock while it takes payment: a counter sale now could charge the bill twice.
          assertOrderEditableByVenue(await orders.findLock(locationId, cmd.orderId), cmd.orderId);
          const order = await orders.find(locationId, cmd.orderId);
          if (!order) throw DomainError.notFound('order', cmd.orderId);
          const openIntents = await paymentIntentsRepo(tx).openAmount(locationId, cmd.orderId);
          const refused = counterSaleRefusal(order, await counter.openSaleAmount(locationId, cmd.orderId), cmd.amount!, currency, openIntents);
          if (refused) throw DomainError.conflict(refused, { error: 'order_not_payable' });
        }
        let orderId = cmd.orderId ?? null;
        if (cmd.refundOf !== undefined) {
          // The sale's order row first (as a payment's changes take it), then what the sale's payment and refunds are now.
          const sale = await counter.find(locationId, cmd.refundOf);
          if (!sale) throw DomainError.notFound('counter sale', cmd.refundOf);
          if (sale.orderId !== null) await ordersRepo(tx).lockRowIfExists(locationId, sale.orderId);
          const again = await counter.findByKey(locationId, cmd.idempotencyKey);
          if (again) return { existing: again };
          const payment = sale.paymentId === null ? null : await ordersRepo(tx).findPayment(locationId, sale.paymentId);
          const refused = counterRefundRefusal(sale, payment, (await counter.refundsOfSale(locationId, sale.id)).open, cmd.amount!, currency);
          if (refused) throw DomainError.conflict(refused, { error: 'not_refundable' });
          orderId = sale.orderId;
        }
        const row = await counter.insert({
          id: randomUUID(),
          locationId,
          idempotencyKey: cmd.idempotencyKey,
          requestHash: hash,
          kind: cmd.kind,
          tid: cmd.tid,
          amount: cmd.amount ?? null,
          amountCashback: cmd.amountCashback ?? null,
          currency,
          orderId,
          refundOf: cmd.refundOf ?? null,
          expiresAt: new Date(Date.now() + (this.d.acceptTtlMs ?? COUNTER_ACCEPT_TTL_DEFAULT_MS)),
        });
        const events = await counter.appendEvents(locationId, [{ type: 'transaction', transactionId: row.id, tid: row.tid, data: { ...counterView(row) } }]);
        return { row, events: events.map(counterEventOf) };
      }, { waitBoundMs: VENUE_WAIT_BOUND_MS });
    } catch (err) {
      // The same key, committed meanwhile by a concurrent request.
      if (!isUniqueViolation(err)) throw err;
      const again = await repo.findByKey(locationId, cmd.idempotencyKey);
      if (!again) throw err;
      made = { existing: again };
    }
    if ('existing' in made) return replay(made.existing);
    this.d.log.info({ locationId, transactionId: made.row.id, kind: cmd.kind, tid: cmd.tid, amount: cmd.amount, orderId: cmd.orderId }, 'counter transaction accepted');
    await this.d.signals.publishEvents(locationId, made.events);
    await this.d.signals.notifyGateways({ locationId, what: 'work' });
    return { view: counterView(made.row), created: true };
  }
}
