import type { EposMethod } from '@app/contracts';
import type { LoadMethod, LoadOptions, LoadReport } from '@app/dojo-sandbox';
import type { Platform } from '../lib/platform';
import { PAYMENT_AMOUNT } from '../lib/seed';

/**
 * What one card machine at a venue does, over and over: look for bills, open
 * one, lock it, record a payment under the lock, unlock; plus extra searches
 * and reads. 8 steps: 3/8 SearchOrdersV1, 2/8 GetOrderByIdV1 and 1/8 each of
 * CreateOrderLockV1, RecordOrderPaymentByIdV1, DeleteOrderLockV1. Every cycle
 * uses the next of the venue's orders and a fresh lock id, so locks are
 * released and venues never conflict with each other.
 */
export const MIX_STEPS: EposMethod[] = [
  'SearchOrdersV1',
  'GetOrderByIdV1',
  'CreateOrderLockV1',
  'RecordOrderPaymentByIdV1',
  'DeleteOrderLockV1',
  'SearchOrdersV1',
  'GetOrderByIdV1',
  'SearchOrdersV1',
];

export function paymentMix(ordersPerLocation: number, tag: string): NonNullable<LoadOptions['script']> {
  return (accountId, k0) => {
    // Venues start at different steps of the cycle (by their number), so at any moment the
    // requests in flight are the mix above rather than every venue locking at once.
    const offset = Number(/(\d+)$/.exec(accountId)?.[1] ?? 0) % MIX_STEPS.length;
    const k = k0 + offset;
    const cycle = Math.floor(k / MIX_STEPS.length);
    const step = MIX_STEPS[k % MIX_STEPS.length]!;
    // A venue that starts after the lock step (offset 3 or 4) searches instead of paying or unlocking a lock it
    // never took. Only those two steps are replaced: a venue starting at or before the lock step takes it, so even a
    // short run (4 requests per venue at 200/s over 500 venues) has the mix above, mutations included.
    const method: EposMethod = cycle === 0 && offset > 2 && k % MIX_STEPS.length <= 4 ? 'SearchOrdersV1' : step;
    const orderId = `ord_${cycle % ordersPerLocation}`;
    const lockId = `lk_${tag}_${cycle}`;
    switch (method) {
      case 'SearchOrdersV1':
        return { method, params: { payableOnly: true } };
      case 'GetOrderByIdV1':
        return { method, params: { orderId } };
      case 'CreateOrderLockV1':
        return { method, params: { orderId, lockId, expiry: new Date(Date.now() + 120_000).toISOString() } };
      case 'RecordOrderPaymentByIdV1':
        return {
          method,
          params: { orderId, lockId, paymentIntentId: `pi_${tag}_${accountId}_${cycle}`, paidAmount: { value: PAYMENT_AMOUNT, currencyCode: 'GBP' } },
        };
      default:
        return { method, params: { orderId, lockId } };
    }
  };
}

let runs = 0;

/** Runs the mix at a fixed offered rate over the accounts; clears leftover locks first. */
export async function runMix(
  p: Platform,
  accountIds: string[],
  ratePerSec: number,
  durationMs: number,
  o: { ordersPerLocation: number; timeoutMs?: number; maxInFlight?: number },
): Promise<LoadReport & { loadGenCpu: number }> {
  return runScript(p, accountIds, ratePerSec, durationMs, (tag) => paymentMix(o.ordersPerLocation, tag), o);
}

/** Runs a load script at a fixed offered rate over the accounts; clears leftover locks first; measures the load generator's CPU. */
async function runScript(
  p: Platform,
  accountIds: string[],
  ratePerSec: number,
  durationMs: number,
  script: (tag: string) => NonNullable<LoadOptions['script']>,
  o: { timeoutMs?: number; maxInFlight?: number },
): Promise<LoadReport & { loadGenCpu: number }> {
  await p.prisma.$executeRawUnsafe('DELETE FROM order_locks');
  const tag = `${Date.now().toString(36)}${++runs}`;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const report = await p.sandbox!.load({
    accountIds,
    ratePerSec,
    durationMs,
    script: script(tag),
    timeoutMs: o.timeoutMs ?? 10_000,
    maxInFlight: o.maxInFlight ?? 20_000,
  });
  const c = process.cpuUsage(cpu0);
  const loadGenCpu = Math.round(((c.user + c.system) / 1000 / (performance.now() - t0)) * 1000) / 1000;
  return { ...report, loadGenCpu };
}

/**
 * The same card machine over Dojo's legacy Tables API: 3/8 ListSessions (the table's payable sessions), 2/8
 * GetBillItems, and 1/8 each of LockSession, RecordPayment, UnlockSession, on the venue's orders in turn (session
 * ids from core/rules tableSessionId), one terminal per venue so locks never conflict.
 */
export const TABLES_MIX_STEPS: LoadMethod[] = [
  'ListSessions', 'GetBillItems', 'LockSession', 'RecordPayment', 'UnlockSession', 'ListSessions', 'GetBillItems', 'ListSessions',
];

export function tablesPaymentMix(ordersPerLocation: number, tag: string, sessionOf: (accountId: string, orderId: string) => string): NonNullable<LoadOptions['script']> {
  return (accountId, k0) => {
    const offset = Number(/(\d+)$/.exec(accountId)?.[1] ?? 0) % TABLES_MIX_STEPS.length;
    const k = k0 + offset;
    const cycle = Math.floor(k / TABLES_MIX_STEPS.length);
    const step = TABLES_MIX_STEPS[k % TABLES_MIX_STEPS.length]!;
    // As paymentMix: a venue starting after the lock step lists sessions instead of paying or unlocking.
    const method: LoadMethod = cycle === 0 && offset > 2 && k % TABLES_MIX_STEPS.length <= 4 ? 'ListSessions' : step;
    const sessionId = sessionOf(accountId, `ord_${cycle % ordersPerLocation}`);
    switch (method) {
      case 'ListSessions':
        return { method, params: { isFinished: false, hasTable: true, isPayable: true, tableNames: ['Table 1'] } };
      case 'RecordPayment':
        return {
          method,
          params: {
            payment: {
              id: `${tag}-${accountId}-${cycle}`, sessionId, baseAmount: PAYMENT_AMOUNT, tipsAmount: 0, currency: 'GBP', paymentSuccessful: true,
              attemptedAt: new Date().toISOString(), methodDetails: { method: 'PAYMENT_METHOD_CARD_PRESENT' },
            },
          },
        };
      default:
        return { method, params: { sessionId } };
    }
  };
}

/** Runs the Tables API mix at a fixed offered rate over the accounts; clears leftover locks first. */
export async function runTablesMix(
  p: Platform,
  accountIds: string[],
  ratePerSec: number,
  durationMs: number,
  o: { ordersPerLocation: number; sessionOf: (accountId: string, orderId: string) => string; timeoutMs?: number },
): Promise<LoadReport & { loadGenCpu: number }> {
  return runScript(p, accountIds, ratePerSec, durationMs, (tag) => tablesPaymentMix(o.ordersPerLocation, tag, o.sessionOf), o);
}
