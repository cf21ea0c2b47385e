/**
 * What a counter transaction that took money does to the order: a sale is
 * recorded as a payment on its order, a refund of a counter sale comes off
 * that sale's payment. Shared by the settle (a SUCCESSFUL outcome) and the
 * venue's resolution of an unknown one (`charged`), inside their transaction
 * and with the counter transaction's row locked.
 */
import type { Logger } from '@app/common';
import type { ConnectPac } from '@app/contracts';
import type { RecordPayment } from '../core/commands';
import { DomainRefusal } from '../core/refusal';
import { applyKnownRefund, lockPaymentIntent } from '../events/event-effects';
import { RecordOrderPayment } from '../payments/usecases/record-order-payment.usecase';
import type { CounterTransactionRow } from '../repositories/counter.repository';
import { counterRepo } from '../repositories/counter.repository';
import { takePlanInTransaction } from '../repositories/unit-of-work';
import type { Tx } from '../shared/tx';

/** What a counter transaction took (minor units): the amount, the tip and the cashback handed out. */
export interface CounterTaken {
  amount: bigint;
  tips: bigint;
  cashback: bigint;
  currency: string;
}

/** What the terminal's final transaction says was taken, the amount asked where it does not say. */
export function takenBy(row: CounterTransactionRow, t: ConnectPac.PacTransaction): CounterTaken {
  return {
    amount: t.amountBase !== undefined ? BigInt(t.amountBase) : row.amount!,
    tips: BigInt(t.amountGratuity ?? 0),
    cashback: BigInt(t.amountCashback ?? 0),
    currency: t.currency ?? row.currency,
  };
}

/**
 * Records a counter sale that took money on its order through the shared
 * RecordOrderPayment command (source connect-pac, payment id = the counter
 * transaction's id): the plan's advisory lock, the order row lock and the
 * plan's read, as RpcDispatcher takes them. Returns the refusal's message
 * when the order cannot take it (closed, paid meanwhile, another currency):
 * nothing is recorded then. Dojo's lock is not checked here: a sale is
 * refused at its start while Dojo holds one, and by now the terminal has
 * charged the card, so it is recorded if the order can take it. Nor is the
 * venue's hold (its POS sent `payable: false`, before or after the sale
 * started): the POS started the sale itself (core/rules isPayableFor).
 */
export async function recordCounterPayment(tx: Tx, row: CounterTransactionRow, taken: CounterTaken, traceId: string, log: Logger): Promise<string | undefined> {
  const cmd: RecordPayment = {
    orderId: row.orderId!,
    paymentRef: row.id,
    amount: taken.amount,
    tips: taken.tips,
    ...(taken.cashback > 0n ? { cashback: taken.cashback } : {}),
    currency: taken.currency,
    source: 'connect-pac',
  };
  const uc = new RecordOrderPayment();
  const plan = uc.plan(row.locationId, cmd);
  const pre = await takePlanInTransaction(tx, row.locationId, plan);
  const ctx = {
    db: tx,
    locationId: row.locationId,
    rpcId: `counter:${row.id}`,
    traceId,
    log: log.child({ orderId: cmd.orderId }),
    now: new Date(),
    planned: { pre },
  };
  try {
    await uc.execute(ctx, cmd);
    return undefined;
  } catch (err) {
    // A refusal is decided before any write, so the caller's transaction goes on; anything else rolls it back.
    if (!(err instanceof DomainRefusal)) throw err;
    ctx.log.warn({ err: err.message }, 'counter sale could not be recorded on its order; refund it on the terminal');
    return err.message;
  }
}

/**
 * Applies a counter refund that ran to the payment of the counter sale it
 * refunds (payment id = the sale's id): the payment's lock first, then what
 * the sale's other refunds that ran add up to (this one is not among them
 * yet), so two refunds of one sale applied at once are added up, never one
 * taken for the other. Returns why it was not applied.
 */
export async function applyCounterRefund(tx: Tx, row: CounterTransactionRow, amount: bigint): Promise<string | undefined> {
  const saleId = row.refundOf!;
  await lockPaymentIntent(tx, row.locationId, saleId);
  const before = await counterRepo(tx).refundsOfSale(row.locationId, saleId);
  return applyKnownRefund(tx, row.locationId, saleId, before.refunded + amount);
}
