import { Prisma } from '@app/db';
import type { Tx } from '../shared/tx';
import { constrained } from './constraint-violation';

/** One online payment intent of an order (payment_intents). Money in minor units. */
export interface PaymentIntentRow {
  locationId: string;
  id: string;
  paymentIntentId: string | null;
  orderId: string;
  idempotencyKey: string;
  requestHash: string;
  amount: bigint;
  tipsAmount: bigint;
  currency: string;
  captureMode: string;
  tipsAllowed: boolean;
  status: string;
  checkoutUrl: string | null;
  refundedAmount: bigint;
  /** What Dojo reported captured of it (without tips), null while not known; see core/rules capturedAmountOf. */
  capturedAmount: bigint | null;
  settlementNote: string | null;
  nextCheckAt: Date | null;
  checkAttempts: number;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * A call to Dojo that has not answered after this long never will: a create or a capture is sent once and times out
 * after DOJO_TIMEOUT_MS, at most 120 s. A claim older than this was left by a call that ended without an answer (or a
 * process that died during it).
 */
export const DOJO_CALL_STALE_MS = 180_000;

export interface PaymentIntentOperationRow {
  locationId: string;
  idempotencyKey: string;
  paymentIntentId: string;
  kind: string;
  requestHash: string;
  amount: bigint | null;
  reason: string | null;
  dojoRef: string | null;
  /** Claimed before Dojo was called and not completed yet (a capture in flight, or one whose answer never came). */
  pending: boolean;
  createdAt: Date;
}

/** The statuses in which an intent may still take money (they count against what is outstanding). */
export const OPEN_INTENT_STATUSES = ['Creating', 'Created', 'Authorized'] as const;

/**
 * payment_intents and payment_intent_operations: the only code that reads or
 * writes them. Location first, as every repository.
 */
export class PaymentIntentsRepository {
  constructor(private readonly db: Tx) {}

  findByKey(locationId: string, idempotencyKey: string): Promise<PaymentIntentRow | null> {
    return this.db.paymentIntent.findUnique({ where: { locationId_idempotencyKey: { locationId, idempotencyKey } } });
  }

  async findByDojoId(locationId: string, paymentIntentId: string): Promise<PaymentIntentRow | null> {
    const rows = await this.db.$queryRaw<PaymentIntentRow[]>(PaymentIntentsRepository.findByDojoIdSql(locationId, paymentIntentId));
    return rows[0] ?? null;
  }

  /** findByDojoId's statement, for a caller that sends it together with others (event-effects lockAndLoadEvents). */
  static findByDojoIdSql(locationId: string, paymentIntentId: string): Prisma.Sql {
    return Prisma.sql`
      SELECT location_id::text AS "locationId", id::text AS id, payment_intent_id AS "paymentIntentId", order_id AS "orderId",
             idempotency_key AS "idempotencyKey", request_hash AS "requestHash", amount, tips_amount AS "tipsAmount", currency,
             capture_mode AS "captureMode", tips_allowed AS "tipsAllowed", status, checkout_url AS "checkoutUrl",
             refunded_amount AS "refundedAmount", captured_amount AS "capturedAmount", settlement_note AS "settlementNote", next_check_at AS "nextCheckAt",
             check_attempts AS "checkAttempts", created_at AS "createdAt", updated_at AS "updatedAt"
        FROM payment_intents WHERE location_id = ${locationId}::uuid AND payment_intent_id = ${paymentIntentId}`;
  }

  /** How many intents the order has, of any status, for a caller that sends it together with others (VenueStore.openOrderEdit); its rows: sql-tx countOf. */
  static countForOrderSql(locationId: string, orderId: string): Prisma.Sql {
    return Prisma.sql`SELECT count(*)::int AS n FROM payment_intents WHERE location_id = ${locationId}::uuid AND order_id = ${orderId}`;
  }

  /** The order's intents, oldest first. */
  listForOrder(locationId: string, orderId: string): Promise<PaymentIntentRow[]> {
    return this.db.paymentIntent.findMany({ where: { locationId, orderId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
  }

  /**
   * A claim left `Creating` longer than DOJO_CALL_STALE_MS (its process died while Dojo was called; nothing ends it
   * but the next creation's dropStaleClaims) no longer counts: its link was never handed out, and counting it would
   * refuse Dojo's cancel and hold up the venue's total for ever.
   */
  /** openAmount's statement, for a caller that sends it together with others (VenueStore.readMoneyInFlight); its rows: openAmountOf. */
  static openAmountSql(locationId: string, orderId: string): Prisma.Sql {
    return Prisma.sql`
      SELECT sum(amount)::bigint AS s FROM payment_intents
      WHERE location_id = ${locationId}::uuid AND order_id = ${orderId} AND status IN (${Prisma.join([...OPEN_INTENT_STATUSES])})
        AND (status <> 'Creating' OR created_at >= now() - ${`${DOJO_CALL_STALE_MS} milliseconds`}::interval)`;
  }

  /** The amount in openAmountSql's rows (0 when no intent is open). */
  static openAmountOf(rows: unknown): bigint {
    const s = (rows as { s: bigint | string | null }[])[0]?.s;
    return s === null || s === undefined ? 0n : BigInt(s);
  }

  /** What the order's open intents (not yet paid, not canceled; a stale claim not counted: openAmountSql) may still take. */
  async openAmount(locationId: string, orderId: string): Promise<bigint> {
    return PaymentIntentsRepository.openAmountOf(await this.db.$queryRaw(PaymentIntentsRepository.openAmountSql(locationId, orderId)));
  }

  /** Claims the idempotency key before Dojo is called (status Creating); a key taken meanwhile is a ConstraintViolation. */
  claim(row: Omit<PaymentIntentRow, 'createdAt' | 'updatedAt' | 'refundedAmount' | 'capturedAmount' | 'settlementNote' | 'checkAttempts' | 'nextCheckAt' | 'paymentIntentId' | 'checkoutUrl'>): Promise<PaymentIntentRow> {
    return constrained(() => this.db.paymentIntent.create({ data: { ...row } }));
  }

  /** Dojo created it: its id, status and checkout URL; the reconciler first looks at it at `nextCheckAt`. */
  async completeCreate(locationId: string, id: string, data: { paymentIntentId: string; status: string; checkoutUrl: string; nextCheckAt: Date }): Promise<PaymentIntentRow> {
    return this.db.paymentIntent.update({ where: { locationId_id: { locationId, id } }, data });
  }

  /** Claims of the order still Creating since before `before` (the process died while Dojo was called): dropped, so they stop counting. */
  async dropStaleClaims(locationId: string, orderId: string, before: Date): Promise<number> {
    const r = await this.db.paymentIntent.deleteMany({ where: { locationId, orderId, status: 'Creating', createdAt: { lt: before } } });
    return r.count;
  }

  /** Dojo refused or could not be reached: the claim is dropped, so the same key may be tried again. */
  async dropClaim(locationId: string, id: string): Promise<void> {
    await this.db.paymentIntent.deleteMany({ where: { locationId, id, status: 'Creating' } });
  }

  async setStatus(locationId: string, paymentIntentId: string, data: { status: string; nextCheckAt?: Date | null; settlementNote?: string | null; checkAttempts?: number }): Promise<void> {
    await this.db.paymentIntent.update({ where: { locationId_paymentIntentId: { locationId, paymentIntentId } }, data });
  }

  async setTips(locationId: string, paymentIntentId: string, tipsAmount: bigint): Promise<void> {
    await this.db.paymentIntent.update({ where: { locationId_paymentIntentId: { locationId, paymentIntentId } }, data: { tipsAmount } });
  }

  /**
   * What is known refunded of the intent (cumulative: Dojo's refundedAmount,
   * or the sum of the venue API's refunds), kept only when it is more than
   * the row has: never lowered, so repeated or late reads change nothing.
   */
  async raiseRefunded(locationId: string, paymentIntentId: string, refundedAmount: bigint): Promise<void> {
    await this.db.paymentIntent.updateMany({ where: { locationId, paymentIntentId, refundedAmount: { lt: refundedAmount } }, data: { refundedAmount } });
  }

  /**
   * What Dojo reports captured of the intent (cumulative: its successful
   * captures), kept only when more than the row has: never lowered, so a
   * repeated or late read changes nothing.
   */
  async raiseCaptured(locationId: string, paymentIntentId: string, capturedAmount: bigint): Promise<void> {
    await this.db.paymentIntent.updateMany({
      where: { locationId, paymentIntentId, OR: [{ capturedAmount: null }, { capturedAmount: { lt: capturedAmount } }] },
      data: { capturedAmount },
    });
  }

  /** The intent's next look by the reconciler from now on (an action through the venue API watches it again). */
  async scheduleCheck(locationId: string, paymentIntentId: string, nextCheckAt: Date | null, checkAttempts: number): Promise<void> {
    await this.db.paymentIntent.update({ where: { locationId_paymentIntentId: { locationId, paymentIntentId } }, data: { nextCheckAt, checkAttempts } });
  }

  /**
   * The reconciler's next look at an intent it claimed (claimDueAcrossLocations), written only while its
   * next_check_at is still the claim's (`claimedUntil`): a watch the venue API set meanwhile, or an event that ended
   * the watch, stands. False when it did not.
   */
  async rescheduleClaimed(locationId: string, paymentIntentId: string, claimedUntil: Date, nextCheckAt: Date | null, checkAttempts: number): Promise<boolean> {
    const r = await this.db.paymentIntent.updateMany({ where: { locationId, paymentIntentId, nextCheckAt: claimedUntil }, data: { nextCheckAt, checkAttempts } });
    return r.count > 0;
  }

  /**
   * Claims intents due for the reconciler, across every location (oldest due first, at most `limit`): their
   * next_check_at moves to `until` in the same statement, rows another run holds skipped (FOR UPDATE SKIP LOCKED),
   * so replicas running the reconciler at once read different intents, and an intent whose run died is due again
   * at `until`. Each row comes with that claimed next_check_at (for rescheduleClaimed) and its location's Dojo account.
   */
  async claimDueAcrossLocations(now: Date, limit: number, until: Date): Promise<(PaymentIntentRow & { dojoAccountId: string })[]> {
    return this.db.$queryRaw<(PaymentIntentRow & { dojoAccountId: string })[]>(Prisma.sql`
      WITH due AS (
        SELECT location_id, id FROM payment_intents
         WHERE next_check_at <= ${now} AND payment_intent_id IS NOT NULL
         ORDER BY next_check_at LIMIT ${limit}
           FOR UPDATE SKIP LOCKED)
      UPDATE payment_intents p SET next_check_at = ${until}
        FROM due, locations l
       WHERE p.location_id = due.location_id AND p.id = due.id AND l.id = p.location_id
      RETURNING p.location_id::text AS "locationId", p.id::text AS id, p.payment_intent_id AS "paymentIntentId", p.order_id AS "orderId",
             p.idempotency_key AS "idempotencyKey", p.request_hash AS "requestHash", p.amount, p.tips_amount AS "tipsAmount", p.currency,
             p.capture_mode AS "captureMode", p.tips_allowed AS "tipsAllowed", p.status, p.checkout_url AS "checkoutUrl",
             p.refunded_amount AS "refundedAmount", p.captured_amount AS "capturedAmount", p.settlement_note AS "settlementNote", p.next_check_at AS "nextCheckAt",
             p.check_attempts AS "checkAttempts", p.created_at AS "createdAt", p.updated_at AS "updatedAt", l.dojo_account_id AS "dojoAccountId"`);
  }

  findOperation(locationId: string, idempotencyKey: string): Promise<PaymentIntentOperationRow | null> {
    return this.db.paymentIntentOperation.findUnique({ where: { locationId_idempotencyKey: { locationId, idempotencyKey } } });
  }

  /**
   * What the venue API's captures of the intent took, 0 when none; raw SQL, so it runs on an events transaction on pg.
   * A claim still in flight counts: this is read only once the intent is Captured, and a claim Dojo refused is
   * deleted, so a pending one still at Dojo is (but for a capture made elsewhere at the same moment) the capture Dojo
   * took, whose answer is not recorded yet: its Captured event may come first. A claim pending longer than a call to
   * Dojo can last (DOJO_CALL_STALE_MS) is one whose answer never came: whether Dojo took it is unknown, so it is not
   * counted (a capture sent again under another key would otherwise count twice). Never more than the whole-intent
   * fallback.
   */
  async sumCaptureOperations(locationId: string, paymentIntentId: string): Promise<bigint> {
    const rows = await this.db.$queryRaw<{ sum: bigint | null }[]>(Prisma.sql`
      SELECT sum(amount)::bigint AS sum FROM payment_intent_operations
       WHERE location_id = ${locationId}::uuid AND payment_intent_id = ${paymentIntentId} AND kind = 'capture'
         AND (NOT pending OR created_at > now() - make_interval(secs => ${DOJO_CALL_STALE_MS / 1000}))`);
    return BigInt(rows[0]?.sum ?? 0n);
  }

  sumRefundedOperations(locationId: string, paymentIntentId: string): Promise<bigint> {
    return this.db.paymentIntentOperation
      .aggregate({ where: { locationId, paymentIntentId, kind: 'refund', pending: false }, _sum: { amount: true } })
      .then((r) => r._sum.amount ?? 0n);
  }

  /** Claims an operation's key before Dojo is called (pending); a unique violation when the key is taken. */
  async claimOperation(row: Omit<PaymentIntentOperationRow, 'createdAt' | 'pending' | 'dojoRef'>): Promise<void> {
    await constrained(() => this.db.paymentIntentOperation.create({ data: { ...row, dojoRef: null, pending: true } }));
  }

  /**
   * Completes a claim once Dojo accepted the operation. The row is written again when its claim is gone: a request
   * that re-sent a pending refund under its key may be answered after the first sender, refused, freed the claim;
   * what Dojo accepted is recorded all the same and the key stays bound. A claim of the key by another request
   * (another body) is left as it is.
   */
  async completeOperation(row: Omit<PaymentIntentOperationRow, 'createdAt' | 'pending' | 'dojoRef'>, dojoRef: string | null): Promise<void> {
    await this.db.$executeRaw`
      INSERT INTO payment_intent_operations (location_id, idempotency_key, payment_intent_id, kind, request_hash, amount, reason, dojo_ref, pending)
      VALUES (${row.locationId}::uuid, ${row.idempotencyKey}, ${row.paymentIntentId}, ${row.kind}, ${row.requestHash}, ${row.amount}, ${row.reason}, ${dojoRef}, false)
      ON CONFLICT (location_id, idempotency_key) DO UPDATE SET pending = false, dojo_ref = EXCLUDED.dojo_ref
       WHERE payment_intent_operations.pending AND payment_intent_operations.request_hash = EXCLUDED.request_hash
         AND payment_intent_operations.kind = EXCLUDED.kind AND payment_intent_operations.payment_intent_id = EXCLUDED.payment_intent_id`;
  }

  /** Frees a claim's key after Dojo refused the operation (or it was never sent). */
  async dropOperationClaim(locationId: string, idempotencyKey: string): Promise<void> {
    await this.db.paymentIntentOperation.deleteMany({ where: { locationId, idempotencyKey, pending: true } });
  }
}

export const paymentIntentsRepo = (db: Tx) => new PaymentIntentsRepository(db);
