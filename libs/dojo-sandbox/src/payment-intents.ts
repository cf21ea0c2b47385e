import { randomBytes } from 'node:crypto';
import { validatePaymentIntentBody } from '@app/contracts';
import type { PaymentIntentSchema } from '@app/contracts';
import { SandboxInputError } from './accounts';

/** A payment intent as the sandbox keeps it (the fields of dojo-api-openapi.json PaymentIntent it serves). */
export interface SandboxPaymentIntent {
  id: string;
  accountId: string;
  status: 'Created' | 'Authorized' | 'Captured' | 'Reversed' | 'Refunded' | 'Canceled';
  captureMode: 'Auto' | 'Manual';
  amount: { value: number; currencyCode: string };
  tipsAmount: { value: number; currencyCode: string } | null;
  tipsAllowed: boolean;
  refundedAmount: number;
  /** What was captured, tips included (the refund ceiling). */
  capturedAmount: number;
  /** Its captures, as Dojo's PaymentIntent.captures (CaptureDetails: amount without tips, tipsAmount). */
  captures: SandboxCapture[];
  reference: string;
  description: string | null;
  metadata: Record<string, string>;
  createdAt: string;
  updatedAt: string;
  /** The checkout card that paid it, last four digits. */
  cardLast4?: string;
}

/** One capture of an intent (dojo-api-openapi.json CaptureDetails). */
export interface SandboxCapture {
  id: string;
  amount: number;
  tipsAmount: number | null;
  status: 'Successful';
  createdAt: string;
}

/** A Dojo-style refusal of a call on an intent (409, or 404 for an unknown intent). */
export class IntentStateError extends Error {
  constructor(
    readonly status: 404 | 409,
    message: string,
  ) {
    super(message);
    this.name = 'IntentStateError';
  }
}

/**
 * The sandbox's test cards (any future expiry, any CVC):
 * - 4242 4242 4242 4242 succeeds (Authorized, then Captured unless captureMode is Manual);
 * - 4000 0000 0000 0002 is declined (the intent stays Created, no event);
 * - 4000 0000 0000 3220 is authorized only: it needs a manual capture (POST /payment-intents/{id}/captures).
 */
export const TEST_CARDS = {
  success: '4242424242424242',
  declined: '4000000000000002',
  manualCapture: '4000000000003220',
} as const;

export type CardOutcome = 'success' | 'declined' | 'manualCapture' | 'unknown';

export function cardOutcome(cardNumber: string): CardOutcome {
  const digits = cardNumber.replace(/[\s-]/g, '');
  for (const [k, v] of Object.entries(TEST_CARDS)) if (v === digits) return k as CardOutcome;
  return 'unknown';
}

const newId = (prefix: string) => `${prefix}${randomBytes(16).toString('base64url')}`;

function requireBody(schema: PaymentIntentSchema, body: unknown): void {
  const v = validatePaymentIntentBody(schema, body);
  if (!v.ok) throw new SandboxInputError(`${v.field} ${v.reason}`, { [v.field]: [v.reason] });
}

/** The status changes a call caused, in the order Dojo reports them (the caller sends the events). */
export type StatusChanges = SandboxPaymentIntent['status'][];

/**
 * Dojo's payment intents for the sandbox: create (bodies validated against
 * dojo-api-openapi.json, the idempotencyKey honoured), read, cancel, capture,
 * tips, refund (once per idempotencyKey), reversal, and the checkout's payment
 * with the test cards. Each change returns the statuses it went through.
 */
export class PaymentIntentStore {
  private readonly intents = new Map<string, SandboxPaymentIntent>();
  private readonly byKey = new Map<string, string>();
  private readonly refunds = new Map<string, { refundId: string; paymentIntentId: string; amount: number; refundReason: string | null }>();
  /** Every capture asked of an intent (POST /payment-intents/{id}/captures, or a direct call), refused ones too, in order. */
  readonly captureRequests: Array<{ accountId: string; paymentIntentId: string; body: unknown }> = [];

  create(accountId: string, body: unknown, idempotencyKey: string | undefined): SandboxPaymentIntent {
    requireBody('CreatePaymentIntentRequest', body);
    const keyed = idempotencyKey ? this.byKey.get(`${accountId}:${idempotencyKey}`) : undefined;
    if (keyed) return this.intents.get(keyed)!;
    const b = body as {
      amount: { value: number; currencyCode: string };
      reference: string;
      description?: string | null;
      captureMode?: 'Auto' | 'Manual';
      tipsAmount?: { value: number; currencyCode: string } | null;
      config?: { payment?: { tipsAllowed?: boolean } | null } | null;
      metadata?: Record<string, string> | null;
    };
    if (b.amount.value <= 0) throw new SandboxInputError('amount.value must be positive', { 'amount.value': ['must be positive'] });
    const now = new Date().toISOString();
    const pi: SandboxPaymentIntent = {
      id: newId('pi_sandbox_'),
      accountId,
      status: 'Created',
      captureMode: b.captureMode ?? 'Auto',
      amount: { ...b.amount },
      tipsAmount: b.tipsAmount ?? null,
      tipsAllowed: b.config?.payment?.tipsAllowed === true,
      refundedAmount: 0,
      capturedAmount: 0,
      captures: [],
      reference: b.reference,
      description: b.description ?? null,
      metadata: b.metadata ?? {},
      createdAt: now,
      updatedAt: now,
    };
    this.intents.set(pi.id, pi);
    if (idempotencyKey) this.byKey.set(`${accountId}:${idempotencyKey}`, pi.id);
    return pi;
  }

  /** The intent of this account (404 for another account's, as Dojo scopes by key). */
  get(accountId: string, id: string): SandboxPaymentIntent {
    const pi = this.intents.get(id);
    if (!pi || pi.accountId !== accountId) throw new IntentStateError(404, `payment intent ${id} not found`);
    return pi;
  }

  /** The checkout page's read: any account's intent by id (the id is the secret of the link). */
  forCheckout(id: string): SandboxPaymentIntent | undefined {
    return this.intents.get(id);
  }

  cancel(accountId: string, id: string): StatusChanges {
    const pi = this.get(accountId, id);
    if (pi.status === 'Canceled') return [];
    if (pi.status !== 'Created') throw new IntentStateError(409, `payment intent ${id} is ${pi.status}; only a Created intent can be canceled`);
    return this.move(pi, 'Canceled');
  }

  capture(accountId: string, id: string, body: unknown): { captureId: string; changes: StatusChanges } {
    this.captureRequests.push({ accountId, paymentIntentId: id, body });
    requireBody('CreateCaptureRequest', body);
    const pi = this.get(accountId, id);
    if (pi.status !== 'Authorized') throw new IntentStateError(409, `payment intent ${id} is ${pi.status}; only an Authorized intent can be captured`);
    const b = body as { amount: number; tipsAmount?: number | null };
    if (b.amount <= 0 || b.amount > pi.amount.value) throw new IntentStateError(409, `capture amount ${b.amount} is not within 1..${pi.amount.value}`);
    if (typeof b.tipsAmount === 'number' && b.tipsAmount > 0) pi.tipsAmount = { value: b.tipsAmount, currencyCode: pi.amount.currencyCode };
    pi.capturedAmount = b.amount + (pi.tipsAmount?.value ?? 0);
    const captureId = this.addCapture(pi, b.amount);
    return { captureId, changes: this.move(pi, 'Captured') };
  }

  setTips(accountId: string, id: string, body: unknown): SandboxPaymentIntent {
    requireBody('SetTipsAmountRequest', body);
    const pi = this.get(accountId, id);
    if (!pi.tipsAllowed) throw new IntentStateError(409, `payment intent ${id} does not allow tips`);
    if (pi.status !== 'Created' && pi.status !== 'Authorized') throw new IntentStateError(409, `payment intent ${id} is ${pi.status}; tips can change only before capture`);
    const t = (body as { tipsAmount: { value: number; currencyCode: string } }).tipsAmount;
    if (t.currencyCode !== pi.amount.currencyCode) throw new SandboxInputError('tipsAmount.currencyCode must be the intent currency', { 'tipsAmount.currencyCode': ['must be ' + pi.amount.currencyCode] });
    pi.tipsAmount = { ...t };
    pi.updatedAt = new Date().toISOString();
    return pi;
  }

  refund(accountId: string, id: string, body: unknown, idempotencyKey: string | undefined): { refund: { paymentIntentId: string; refundId: string; refundReason: string | null; notes: null }; changes: StatusChanges } {
    if (!idempotencyKey) throw new SandboxInputError('the idempotencyKey header is required', { idempotencyKey: ['is required'] });
    requireBody('CreateRefundRequest', body);
    const pi = this.get(accountId, id);
    const seen = this.refunds.get(`${accountId}:${idempotencyKey}`);
    if (seen) return { refund: { paymentIntentId: seen.paymentIntentId, refundId: seen.refundId, refundReason: seen.refundReason, notes: null }, changes: [] };
    if (pi.status !== 'Captured' && pi.status !== 'Refunded') throw new IntentStateError(409, `payment intent ${id} is ${pi.status}; only a Captured intent can be refunded`);
    const b = body as { amount: number; refundReason?: string | null };
    const left = pi.capturedAmount - pi.refundedAmount;
    if (b.amount <= 0 || b.amount > left) throw new IntentStateError(409, `refund amount ${b.amount} is not within 1..${left}`);
    pi.refundedAmount += b.amount;
    const r = { refundId: newId('rfnd_'), paymentIntentId: id, amount: b.amount, refundReason: b.refundReason ?? null };
    this.refunds.set(`${accountId}:${idempotencyKey}`, r);
    const changes = pi.status === 'Refunded' ? [] : this.move(pi, 'Refunded');
    pi.updatedAt = new Date().toISOString();
    return { refund: { paymentIntentId: id, refundId: r.refundId, refundReason: r.refundReason, notes: null }, changes };
  }

  reverse(accountId: string, id: string): { reversalId: string; changes: StatusChanges } {
    const pi = this.get(accountId, id);
    if (pi.status !== 'Authorized' && pi.status !== 'Captured') throw new IntentStateError(409, `payment intent ${id} is ${pi.status}; only an Authorized or Captured intent can be reversed`);
    return { reversalId: newId('rvs_'), changes: this.move(pi, 'Reversed') };
  }

  /** The checkout's payment with a test card; tips (minor units) when the intent allows them. */
  pay(id: string, cardNumber: string, tips: number | undefined): { outcome: CardOutcome; changes: StatusChanges; intent: SandboxPaymentIntent } {
    const pi = this.intents.get(id);
    if (!pi) throw new IntentStateError(404, `payment intent ${id} not found`);
    if (pi.status !== 'Created') throw new IntentStateError(409, `payment intent ${id} is ${pi.status}; it cannot be paid`);
    const outcome = cardOutcome(cardNumber);
    if (outcome === 'declined' || outcome === 'unknown') return { outcome, changes: [], intent: pi };
    if (tips !== undefined && tips > 0) {
      if (!pi.tipsAllowed) throw new IntentStateError(409, 'this payment does not take tips');
      pi.tipsAmount = { value: tips, currencyCode: pi.amount.currencyCode };
    }
    pi.cardLast4 = cardNumber.replace(/\D/g, '').slice(-4);
    const changes = this.move(pi, 'Authorized');
    if (outcome === 'success' && pi.captureMode === 'Auto') {
      pi.capturedAmount = pi.amount.value + (pi.tipsAmount?.value ?? 0);
      this.addCapture(pi, pi.amount.value);
      changes.push(...this.move(pi, 'Captured'));
    }
    return { outcome, changes, intent: pi };
  }

  private addCapture(pi: SandboxPaymentIntent, amount: number): string {
    const c: SandboxCapture = { id: newId('cp_'), amount, tipsAmount: pi.tipsAmount?.value ?? null, status: 'Successful', createdAt: new Date().toISOString() };
    pi.captures.push(c);
    return c.id;
  }

  private move(pi: SandboxPaymentIntent, status: SandboxPaymentIntent['status']): StatusChanges {
    pi.status = status;
    pi.updatedAt = new Date().toISOString();
    return [status];
  }
}

/**
 * The PaymentIntent body Dojo answers (dojo-api-openapi.json PaymentIntent, the fields the sandbox keeps), with its
 * `captures` (what each capture took) unless `o.captures` is false (an answer without that field).
 */
export function intentBody(pi: SandboxPaymentIntent, checkoutBase: string, o: { captures?: boolean } = {}) {
  const tips = pi.tipsAmount?.value ?? 0;
  return {
    id: pi.id,
    captureMode: pi.captureMode,
    status: pi.status,
    paymentMethods: ['Card'],
    amount: pi.amount,
    ...(pi.tipsAmount ? { tipsAmount: pi.tipsAmount } : {}),
    totalAmount: { value: pi.amount.value + tips, currencyCode: pi.amount.currencyCode },
    refundedAmount: pi.refundedAmount,
    createdAt: pi.createdAt,
    updatedAt: pi.updatedAt,
    reference: pi.reference,
    description: pi.description ?? '',
    itemLines: [],
    taxLines: [],
    config: { payment: { tipsAllowed: pi.tipsAllowed } },
    metadata: pi.metadata,
    paymentLink: `${checkoutBase}/${pi.id}`,
    terminalSessionHistory: [],
    ...(o.captures === false ? {} : { captures: pi.captures.map((c) => ({ ...c })) }),
  };
}
