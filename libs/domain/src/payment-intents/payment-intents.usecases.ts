import { randomUUID } from 'node:crypto';
import type { DojoPaymentIntent } from '@app/dojo-client';
import { DojoApiError } from '@app/dojo-client';
import { DomainError, isUniqueViolation } from '../admin/errors';
import { capturedAmountOf, checkoutUrl, decideIntentAmount } from '../core/rules';
import { counterRepo } from '../repositories/counter.repository';
import { ordersRepo } from '../repositories/orders.repository';
import type { PaymentIntentOperationRow, PaymentIntentRow } from '../repositories/payment-intents.repository';
import { DOJO_CALL_STALE_MS, paymentIntentsRepo } from '../repositories/payment-intents.repository';
import { runInTransaction } from '../repositories/unit-of-work';
import { VENUE_WAIT_BOUND_MS } from '../repositories/venue-store';
import { advanceIntentNow, settleKnownRefund } from '../events/event-effects';
import { assertOrderEditableByVenue } from '../locks/order-lock-guard';
import { checkoutQr } from './checkout-qr';
import type { PaymentIntentDeps } from './ports';
import { requestHash } from '../shared/request-hash';

/** A payment intent as the venue API answers it (money in minor units). */
export interface PaymentIntentView {
  id: string;
  orderId: string;
  status: string;
  amount: number;
  tipsAmount: number;
  refundedAmount: number;
  currency: string;
  captureMode: string;
  tipsAllowed: boolean;
  checkoutUrl: string | null;
  /** Why a captured payment could not be recorded on the order (the venue refunds it). */
  settlementNote: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface CreatedPaymentIntentView extends PaymentIntentView {
  qr: { svg: string; pngDataUrl: string } | null;
}

function view(r: PaymentIntentRow): PaymentIntentView {
  return {
    id: r.paymentIntentId ?? r.id,
    orderId: r.orderId,
    status: r.status,
    amount: Number(r.amount),
    tipsAmount: Number(r.tipsAmount),
    refundedAmount: Number(r.refundedAmount),
    currency: r.currency,
    captureMode: r.captureMode,
    tipsAllowed: r.tipsAllowed,
    checkoutUrl: r.checkoutUrl,
    settlementNote: r.settlementNote,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

async function withQr(r: PaymentIntentRow): Promise<CreatedPaymentIntentView> {
  return { ...view(r), qr: r.checkoutUrl ? await checkoutQr(r.checkoutUrl) : null };
}

/**
 * A claim still Creating after this long was left by a process that died
 * while Dojo was called (the create call is not retried and times out after
 * DOJO_TIMEOUT_MS, at most 120 s): it is dropped so it neither blocks the key
 * nor counts against what the order may still ask for.
 */
const CLAIM_STALE_MS = DOJO_CALL_STALE_MS;

export interface CreatePaymentIntentCommand {
  orderId: string;
  idempotencyKey: string;
  /** Minor units; absent: what is outstanding and not yet in open intents. */
  amount?: bigint;
  tipsAllowed: boolean;
  captureMode: 'Auto' | 'Manual';
  description?: string;
}

/**
 * CreatePaymentIntent: an online payment for an order (all that is left, or a
 * part), created at Dojo with the order as reference and the order's
 * currency; answers the checkout link and its QR code. Once per idempotency
 * key: the key is claimed with the order row locked (so two intents never
 * over-ask the outstanding amount), then Dojo is called, then the claim is
 * completed; a repeat of the key answers the same intent, a reuse with
 * another request is 409, and a failed Dojo call frees the key (so does a
 * claim left Creating by a process that died, after CLAIM_STALE_MS).
 */
export class CreatePaymentIntent {
  constructor(private readonly d: PaymentIntentDeps) {}

  async execute(locationId: string, cmd: CreatePaymentIntentCommand): Promise<CreatedPaymentIntentView> {
    const hash = requestHash({ o: cmd.orderId, a: cmd.amount ?? null, t: cmd.tipsAllowed, c: cmd.captureMode, d: cmd.description ?? null });
    const claimed = await runInTransaction(this.d.prisma, async (tx) => {
      const intents = paymentIntentsRepo(tx);
      const orders = ordersRepo(tx);
      const locked = await orders.lockRowIfExists(locationId, cmd.orderId);
      if (locked) await intents.dropStaleClaims(locationId, cmd.orderId, new Date(Date.now() - CLAIM_STALE_MS));
      const existing = await intents.findByKey(locationId, cmd.idempotencyKey);
      if (existing) return { existing };
      if (!locked) throw DomainError.notFound('order', cmd.orderId);
      // A card machine at the table holds Dojo's lock while it takes payment: a checkout link now could charge the bill twice.
      assertOrderEditableByVenue(await orders.findLock(locationId, cmd.orderId), cmd.orderId);
      const order = await orders.find(locationId, cmd.orderId);
      if (!order) throw DomainError.notFound('order', cmd.orderId);
      const decision = decideIntentAmount(order, await intents.openAmount(locationId, cmd.orderId), cmd.amount, await counterRepo(tx).openSaleAmount(locationId, cmd.orderId));
      if (decision.kind === 'invalid') throw DomainError.invalid([{ field: 'amount', reason: decision.reason }]);
      if (decision.kind === 'refuse') throw DomainError.conflict(decision.reason);
      const row = await intents.claim({
        locationId,
        id: randomUUID(),
        orderId: cmd.orderId,
        idempotencyKey: cmd.idempotencyKey,
        requestHash: hash,
        amount: decision.amount,
        tipsAmount: 0n,
        currency: order.currency,
        captureMode: cmd.captureMode,
        tipsAllowed: cmd.tipsAllowed,
        status: 'Creating',
      });
      return { row };
    }, { waitBoundMs: VENUE_WAIT_BOUND_MS }).catch((err: unknown) => {
      if (isUniqueViolation(err)) throw DomainError.conflict(`idempotency key ${JSON.stringify(cmd.idempotencyKey)} is being used by another request; retry it`);
      throw err;
    });

    if (claimed.existing) {
      const e = claimed.existing;
      if (e.requestHash !== hash || e.orderId !== cmd.orderId) {
        throw DomainError.conflict(`idempotency key ${JSON.stringify(cmd.idempotencyKey)} was used for another request`);
      }
      if (e.status === 'Creating') throw DomainError.conflict('this payment intent is still being created at Dojo; retry with the same idempotency key');
      return withQr(e);
    }
    const row = claimed.row;
    const log = this.d.log.child({ locationId, orderId: cmd.orderId, idempotencyKey: cmd.idempotencyKey });
    let pi: DojoPaymentIntent;
    try {
      const creds = await this.d.credentials.forLocation(locationId);
      pi = await this.d.dojo.createPaymentIntent(
        creds,
        {
          amount: { value: Number(row.amount), currencyCode: row.currency },
          reference: cmd.orderId.slice(0, 60),
          ...(cmd.description ? { description: cmd.description } : {}),
          captureMode: cmd.captureMode,
          ...(cmd.captureMode === 'Manual' ? { autoExpireAction: 'Release' as const, autoExpireIn: '6.00:00:00' } : {}),
          config: { payment: { tipsAllowed: cmd.tipsAllowed } },
          metadata: { orderId: cmd.orderId.slice(0, 128), eposIntentId: row.id },
        },
        cmd.idempotencyKey,
      );
    } catch (err) {
      // The key is freed so the venue may retry it; a Dojo intent created despite the error is never paid through us (no link was handed out).
      await paymentIntentsRepo(this.d.prisma).dropClaim(locationId, row.id);
      log.warn({ err: (err as Error).message }, 'Dojo did not create the payment intent');
      throw err;
    }
    const done = await paymentIntentsRepo(this.d.prisma).completeCreate(locationId, row.id, {
      paymentIntentId: pi.id,
      status: pi.status ?? 'Created',
      checkoutUrl: checkoutUrl(this.d.checkoutBase, pi.id),
      nextCheckAt: new Date(Date.now() + this.d.firstCheckAfterMs),
    });
    log.info({ paymentIntentId: pi.id, amount: Number(row.amount) }, 'payment intent created');
    return withQr(done);
  }
}

/** ListOrderPaymentIntents: the order's intents with their statuses, oldest first; NotFound for another venue's order. */
export class ListOrderPaymentIntents {
  constructor(private readonly d: PaymentIntentDeps) {}

  async execute(locationId: string, orderId: string): Promise<{ items: PaymentIntentView[] }> {
    const order = await ordersRepo(this.d.prisma).find(locationId, orderId);
    if (!order) throw DomainError.notFound('order', orderId);
    const rows = await paymentIntentsRepo(this.d.prisma).listForOrder(locationId, orderId);
    return { items: rows.filter((r) => r.paymentIntentId !== null).map(view) };
  }
}

/** GetPaymentIntent: one intent of the venue (with its QR code), NotFound for another venue's. */
export class GetPaymentIntent {
  constructor(private readonly d: PaymentIntentDeps) {}

  async execute(locationId: string, paymentIntentId: string): Promise<CreatedPaymentIntentView> {
    return withQr(await requireIntent(this.d, locationId, paymentIntentId));
  }
}

async function requireIntent(d: PaymentIntentDeps, locationId: string, paymentIntentId: string): Promise<PaymentIntentRow> {
  const row = await paymentIntentsRepo(d.prisma).findByDojoId(locationId, paymentIntentId);
  if (!row) throw DomainError.notFound('payment intent', paymentIntentId);
  return row;
}

/** After an action the reconciler looks at the intent soon, so a lost event is recovered. */
async function watch(d: PaymentIntentDeps, r: PaymentIntentRow): Promise<PaymentIntentRow> {
  await paymentIntentsRepo(d.prisma).scheduleCheck(r.locationId, r.paymentIntentId!, new Date(Date.now() + d.firstCheckAfterMs), 0);
  return (await paymentIntentsRepo(d.prisma).findByDojoId(r.locationId, r.paymentIntentId!))!;
}

/**
 * Dojo's 4xx answer to an action as a 409 with Dojo's status (the intent's state at Dojo does not allow it). The
 * POS is told only that status: Dojo's path and answer go to the log, as for any failed Dojo call of the venue API.
 */
async function atDojo<T>(d: PaymentIntentDeps, at: { locationId: string; paymentIntentId: string }, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof DojoApiError && err.status >= 400 && err.status < 500 && err.status !== 401 && err.status !== 429) {
      d.log.warn({ ...at, err: err.message, dojoStatus: err.status }, 'Dojo refused an action on a payment intent');
      throw DomainError.conflict(`Dojo refused: it answered with HTTP ${err.status}`, { dojoStatus: err.status });
    }
    throw err;
  }
}

/**
 * CancelPaymentIntent: cancels an intent nobody has paid yet (Created). Once
 * Dojo accepted the cancel the intent is Canceled at once (advanceIntentNow:
 * the events' forward-only step, under the intent's lock), so the answer says
 * Canceled and its amount no longer counts against the order (a new intent
 * may ask for it straight away); Dojo's Canceled event then changes nothing.
 */
export class CancelPaymentIntent {
  constructor(private readonly d: PaymentIntentDeps) {}

  async execute(locationId: string, paymentIntentId: string): Promise<PaymentIntentView> {
    const r = await requireIntent(this.d, locationId, paymentIntentId);
    if (r.status === 'Canceled') return view(r);
    if (r.status !== 'Created') throw DomainError.conflict(`payment intent ${paymentIntentId} is ${r.status}; only an unpaid (Created) intent can be canceled`);
    const creds = await this.d.credentials.forLocation(locationId);
    await atDojo(this.d, { locationId, paymentIntentId }, () => this.d.dojo.cancelPaymentIntent(creds, paymentIntentId));
    const now = await runInTransaction(this.d.prisma, (tx) => advanceIntentNow(tx, locationId, paymentIntentId, 'Canceled'), { maxWait: 10_000, timeout: 30_000 });
    return view(now ?? r);
  }
}

export interface CaptureCommand {
  idempotencyKey: string;
  /** Minor units; absent: the whole intent. */
  amount?: bigint;
}

/** An action asked once per venue idempotency key: a repeat answers what the first did, a reuse with another request is 409. */
async function once(
  d: PaymentIntentDeps,
  locationId: string,
  paymentIntentId: string,
  key: string,
  kind: string,
  request: unknown,
): Promise<'new' | 'replay'> {
  const op = await paymentIntentsRepo(d.prisma).findOperation(locationId, key);
  if (!op) return 'new';
  assertSameOperation(op, paymentIntentId, key, kind, request);
  if (op.pending) {
    throw DomainError.conflict(
      `the ${kind} with idempotency key ${JSON.stringify(key)} was sent to Dojo and its answer is not known yet (in progress, or Dojo did not answer); ` +
        "the intent's status shows whether it was taken",
    );
  }
  return 'replay';
}

/** A stored operation of the key is this request (kind, intent and body), else 409. */
function assertSameOperation(op: PaymentIntentOperationRow, paymentIntentId: string, key: string, kind: string, request: unknown): void {
  if (op.kind !== kind || op.paymentIntentId !== paymentIntentId || op.requestHash !== requestHash(request)) {
    throw DomainError.conflict(`idempotency key ${JSON.stringify(key)} was used for another request`);
  }
}

/** An operation's stored row (payment_intent_operations) from what a use-case knows of it. */
function operationRow(row: { locationId: string; key: string; paymentIntentId: string; kind: string; request: unknown; amount: bigint | null; reason: string | null }) {
  return {
    locationId: row.locationId,
    idempotencyKey: row.key,
    paymentIntentId: row.paymentIntentId,
    kind: row.kind,
    requestHash: requestHash(row.request),
    amount: row.amount,
    reason: row.reason,
  };
}

/**
 * Claims the key of an operation before Dojo is called (a pending row; see CapturePaymentIntent and
 * RefundPaymentIntent). 'replay' when the key was completed meanwhile; another request with the key, or one
 * still pending, is 409 (once).
 */
async function claimOp(
  d: PaymentIntentDeps,
  row: { locationId: string; key: string; paymentIntentId: string; kind: string; request: unknown; amount: bigint | null; reason?: string },
): Promise<'new' | 'replay'> {
  for (let attempt = 1; ; attempt++) {
    try {
      await paymentIntentsRepo(d.prisma).claimOperation(operationRow({ ...row, reason: row.reason ?? null }));
      return 'new';
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      // Another request took the key since our first look: answered as a repeat of it, unless its claim was freed
      // meanwhile (Dojo refused it), when this one claims the key again rather than call Dojo without a claim.
      if ((await once(d, row.locationId, row.paymentIntentId, row.key, row.kind, row.request)) === 'replay') return 'replay';
      if (attempt >= 3) throw DomainError.conflict(`the ${row.kind} with idempotency key ${JSON.stringify(row.key)} is changing; retry it`, { error: 'retry' });
    }
  }
}

/**
 * Whether a failed call may still have been carried out by Dojo: no answer (a network error or timeout, status 0)
 * or a 5xx. Any other failure is definite: Dojo answered that it did not do it (4xx), or it was never sent.
 */
function outcomeUnknown(err: unknown): boolean {
  return err instanceof DojoApiError && (err.status === 0 || err.status >= 500);
}

/**
 * CapturePaymentIntent: captures an Authorized intent (all of it by default, or
 * a part), whatever its capture mode: a Manual intent, or an Auto one left
 * Authorized by a card that needs a capture (Dojo's capture endpoint takes any
 * intent not yet refunded or reversed). Once per idempotency key, claimed
 * before Dojo is called: Dojo's captures endpoint documents no idempotency
 * key, so the claim is what keeps a concurrent or repeated request with the
 * key from sending a second capture (it answers 409 while the first is at
 * Dojo, then the first one's result). A claim Dojo refused is freed; one whose
 * answer never came stays (409 for its key) and the reconciler reads the
 * intent soon, whose status shows whether Dojo took it.
 */
export class CapturePaymentIntent {
  constructor(private readonly d: PaymentIntentDeps) {}

  async execute(locationId: string, paymentIntentId: string, cmd: CaptureCommand): Promise<PaymentIntentView> {
    const r = await requireIntent(this.d, locationId, paymentIntentId);
    const request = { amount: cmd.amount ?? null };
    if ((await once(this.d, locationId, paymentIntentId, cmd.idempotencyKey, 'capture', request)) === 'replay') return view(r);
    if (r.status !== 'Authorized') throw DomainError.conflict(`payment intent ${paymentIntentId} is ${r.status}; only an Authorized intent can be captured`);
    const amount = cmd.amount ?? r.amount;
    if (amount <= 0n || amount > r.amount) throw DomainError.invalid([{ field: 'amount', reason: `must be from 1 to ${r.amount}` }]);
    const claim = { locationId, key: cmd.idempotencyKey, paymentIntentId, kind: 'capture', request, amount };
    if ((await claimOp(this.d, claim)) === 'replay') return view(await requireIntent(this.d, locationId, paymentIntentId));
    const intents = paymentIntentsRepo(this.d.prisma);
    let res: { captureId?: string | null };
    try {
      const creds = await this.d.credentials.forLocation(locationId);
      res = await atDojo(this.d, { locationId, paymentIntentId }, () => this.d.dojo.capturePaymentIntent(creds, paymentIntentId, { amount: Number(amount), tipsAmount: Number(r.tipsAmount) }, cmd.idempotencyKey));
    } catch (err) {
      if (!outcomeUnknown(err)) {
        // Dojo refused it (or it was never sent): nothing was captured, the key is free for a retry.
        await intents.dropOperationClaim(locationId, cmd.idempotencyKey);
        throw err;
      }
      // Dojo may have taken it: the claim stays, so the key is never sent again, and the reconciler looks soon.
      this.d.log.warn({ locationId, paymentIntentId, idempotencyKey: cmd.idempotencyKey, err: (err as Error).message }, "Dojo's answer to a capture did not come; its key stays claimed");
      await watch(this.d, r).catch(() => undefined);
      throw err;
    }
    await intents.completeOperation(operationRow({ ...claim, reason: null }), res.captureId ?? null);
    return view(await watch(this.d, r));
  }
}

/** ChangePaymentIntentTips: sets the tips of an intent that allows them and is not captured yet (Dojo's rule). */
export class ChangePaymentIntentTips {
  constructor(private readonly d: PaymentIntentDeps) {}

  async execute(locationId: string, paymentIntentId: string, tipsAmount: bigint): Promise<PaymentIntentView> {
    const r = await requireIntent(this.d, locationId, paymentIntentId);
    if (!r.tipsAllowed) throw DomainError.conflict(`payment intent ${paymentIntentId} was created without tips`);
    if (r.status !== 'Created' && r.status !== 'Authorized') throw DomainError.conflict(`payment intent ${paymentIntentId} is ${r.status}; tips can change only before it is captured`);
    const creds = await this.d.credentials.forLocation(locationId);
    await atDojo(this.d, { locationId, paymentIntentId }, () => this.d.dojo.setPaymentIntentTips(creds, paymentIntentId, { value: Number(tipsAmount), currencyCode: r.currency }));
    await paymentIntentsRepo(this.d.prisma).setTips(locationId, paymentIntentId, tipsAmount);
    return view((await paymentIntentsRepo(this.d.prisma).findByDojoId(locationId, paymentIntentId))!);
  }
}

export interface RefundCommand {
  idempotencyKey: string;
  /** Minor units; absent: all that is not refunded yet. */
  amount?: bigint;
  reason: string;
}

/**
 * RefundPaymentIntent: refunds a Captured intent in full or in part, once per
 * idempotency key (sent to Dojo as its idempotencyKey), up to what was
 * captured of it (core/rules capturedAmountOf: a capture may take part of the
 * intent) plus its tips, less what is refunded already; more is refused
 * before Dojo is called. The key is claimed (a pending operation with the
 * intent and amount) before Dojo is called, so a reuse of it for another
 * intent or amount is 409 even when the first answer was lost; a claim Dojo
 * refused is freed, one whose answer never came stays and is sent again under
 * the same key by a retry (Dojo answers it with the same refund), and the
 * reconciler reads the intent soon. Once Dojo accepted it,
 * the intent's refunded amount (cumulative) is applied to its payment at once
 * (settleKnownRefund): a partial refund makes the order payable for the
 * refunded amount, a full one undoes the payment. Dojo's Refunded status event
 * then finds it applied (the refunded amount only grows: counted once). A
 * repeat of the key settles again what the refunds recorded, so a refund Dojo
 * accepted whose settlement failed comes off the order when the client retries.
 */
export class RefundPaymentIntent {
  constructor(private readonly d: PaymentIntentDeps) {}

  async execute(locationId: string, paymentIntentId: string, cmd: RefundCommand): Promise<PaymentIntentView> {
    const r = await requireIntent(this.d, locationId, paymentIntentId);
    const request = { amount: cmd.amount ?? null, reason: cmd.reason };
    const intents = paymentIntentsRepo(this.d.prisma);
    const key = cmd.idempotencyKey;
    const op = await intents.findOperation(locationId, key);
    if (op) assertSameOperation(op, paymentIntentId, key, 'refund', request);
    if (op && !op.pending) return this.replay(locationId, paymentIntentId);
    let amount: bigint;
    if (op) {
      // Claimed, its answer not known (lost, or still coming): sent again under its key, which Dojo answers with the
      // same refund (or makes it, if the first never arrived). Not checked against what is left: it may be in it.
      amount = op.amount!;
    } else {
      if (r.status !== 'Captured' && r.status !== 'Refunded') throw DomainError.conflict(`payment intent ${paymentIntentId} is ${r.status}; only a Captured intent can be refunded`);
      const captured = capturedAmountOf(r, r.capturedAmount === null ? await intents.sumCaptureOperations(locationId, paymentIntentId) : 0n);
      const left = captured + r.tipsAmount - r.refundedAmount;
      amount = cmd.amount ?? left;
      if (amount <= 0n || amount > left) throw DomainError.invalid([{ field: 'amount', reason: `must be from 1 to ${left} (what is not refunded yet)` }]);
    }
    const claim = { locationId, key, paymentIntentId, kind: 'refund', request, amount, reason: cmd.reason };
    // Claimed before Dojo is called, so the key stays bound to this intent and amount whatever Dojo answers.
    if (!op && (await claimOp(this.d, claim)) === 'replay') return this.replay(locationId, paymentIntentId);
    let res: { refundId?: string | null; paymentIntentId?: string | null };
    try {
      const creds = await this.d.credentials.forLocation(locationId);
      res = await atDojo(this.d, { locationId, paymentIntentId }, () => this.d.dojo.refundPaymentIntent(creds, paymentIntentId, { amount: Number(amount), refundReason: cmd.reason }, key));
    } catch (err) {
      if (!outcomeUnknown(err)) {
        // Dojo refused it (or it was never sent): the key is free again. A claim sent again stays (its first send may still be at Dojo).
        if (!op) await intents.dropOperationClaim(locationId, key);
        throw err;
      }
      // Dojo may have refunded: the claim stays (a retry of the key sends it again), and the reconciler reads the intent soon.
      this.d.log.warn({ locationId, paymentIntentId, idempotencyKey: key, err: (err as Error).message }, "Dojo's answer to a refund did not come; its key stays claimed");
      await watch(this.d, r).catch(() => undefined);
      throw err;
    }
    if (res.paymentIntentId && res.paymentIntentId !== paymentIntentId) {
      // Dojo answered with a refund of another intent made under this key (outside the venue API): nothing was refunded here.
      if (!op) await intents.dropOperationClaim(locationId, key);
      throw DomainError.conflict(`idempotency key ${JSON.stringify(key)} was used at Dojo for a refund of another payment intent`);
    }
    await intents.completeOperation(operationRow(claim), res.refundId ?? null);
    await settleRecordedRefunds(this.d, locationId, paymentIntentId);
    return view(await watch(this.d, r));
  }

  /**
   * A repeat of a refund Dojo accepted. The first run may have failed after its operation row committed and before
   * the order was settled; a further partial refund brings no status event, so nothing else would take it off the
   * order. The retry settles what the refunds recorded: idempotent (the refunded amount only grows), a no-op when done.
   */
  private async replay(locationId: string, paymentIntentId: string): Promise<PaymentIntentView> {
    await settleRecordedRefunds(this.d, locationId, paymentIntentId);
    return view(await requireIntent(this.d, locationId, paymentIntentId));
  }
}

/**
 * Applies what the venue API's refunds of an intent add up to (its refund
 * operations, each recorded once Dojo accepted it) to the intent and its
 * payment: after a refund, and again on a replay of its key, in case the
 * first run stopped between the operation's row and the order. Idempotent:
 * both amounts only grow.
 */
async function settleRecordedRefunds(d: PaymentIntentDeps, locationId: string, paymentIntentId: string): Promise<void> {
  const intents = paymentIntentsRepo(d.prisma);
  // Cumulative (the sum of the refunds Dojo accepted from us), never added: an event that read Dojo's refundedAmount meanwhile is not counted twice.
  await intents.raiseRefunded(locationId, paymentIntentId, await intents.sumRefundedOperations(locationId, paymentIntentId));
  // Settled on the order now: a second partial refund leaves the status Refunded, so Dojo sends no status event for it.
  await runInTransaction(d.prisma, (tx) => settleKnownRefund(tx, locationId, paymentIntentId), { maxWait: 10_000, timeout: 30_000 });
}

/**
 * ReversePaymentIntent: reverses an Authorized or Captured intent (before settlement), with a reason. Dojo's
 * reversal takes no idempotency key, so the venue's key is claimed before Dojo is called, as a capture's is
 * (CapturePaymentIntent): freed when Dojo refuses it, kept (409 for its key) when Dojo's answer never came. Either
 * failure watches the intent again, so the reconciler reads whether Dojo reversed it (a refusal may be Dojo's
 * answer to an intent already reversed by a call whose answer was lost).
 */
export class ReversePaymentIntent {
  constructor(private readonly d: PaymentIntentDeps) {}

  async execute(locationId: string, paymentIntentId: string, cmd: { idempotencyKey: string; reason: string }): Promise<PaymentIntentView> {
    const r = await requireIntent(this.d, locationId, paymentIntentId);
    const request = { reason: cmd.reason };
    const key = cmd.idempotencyKey;
    if ((await once(this.d, locationId, paymentIntentId, key, 'reversal', request)) === 'replay') return view(r);
    if (r.status !== 'Authorized' && r.status !== 'Captured') throw DomainError.conflict(`payment intent ${paymentIntentId} is ${r.status}; only an Authorized or Captured intent can be reversed`);
    const claim = { locationId, key, paymentIntentId, kind: 'reversal', request, amount: null, reason: cmd.reason };
    if ((await claimOp(this.d, claim)) === 'replay') {
      return view(await requireIntent(this.d, locationId, paymentIntentId));
    }
    const intents = paymentIntentsRepo(this.d.prisma);
    let res: { reversalId?: string | null };
    try {
      const creds = await this.d.credentials.forLocation(locationId);
      res = await atDojo(this.d, { locationId, paymentIntentId }, () => this.d.dojo.reversePaymentIntent(creds, paymentIntentId, key));
    } catch (err) {
      if (!outcomeUnknown(err)) {
        await intents.dropOperationClaim(locationId, key);
      } else {
        this.d.log.warn({ locationId, paymentIntentId, idempotencyKey: key, err: (err as Error).message }, "Dojo's answer to a reversal did not come; its key stays claimed");
      }
      await watch(this.d, r).catch(() => undefined);
      throw err;
    }
    await intents.completeOperation(operationRow(claim), res.reversalId ?? null);
    return view(await watch(this.d, r));
  }
}
