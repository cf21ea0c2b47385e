/**
 * A use-case or rule refusing a command, in venue terms and free of any
 * dialect: each dialect maps the kind (and the message) to its own error
 * codes in one function (EPOS Data: dialects/epos-data/errors.ts
 * `eposErrorOf`). The message is written for the integrator reading the
 * answer and is sent as is by the dialects that carry free text.
 */
export type RefusalKind =
  /** The object the command names does not exist at this location. */
  | 'not_found'
  /** The command is valid but the object's state does not allow it (closed order, lock held by another, payment mismatch). */
  | 'conflict'
  /** The command itself is not acceptable (bad amounts, times, references). */
  | 'invalid';

/**
 * Why a conflict happened, for dialects whose wire tells these cases apart (the Tables API's
 * SESSION_ALREADY_LOCKED, SESSION_NOT_LOCKED, PAYMENT_ALREADY_RECORDED, WAITER_INCORRECT_WAITER_ID);
 * dialects that do not, ignore it.
 */
export type RefusalReason =
  /** A live lock is held by someone else. */
  | 'lock_held'
  /** The command needs the caller's own live lock and there is none. */
  | 'not_locked'
  /** The payment reference is recorded already with the same values (a replay, refused). */
  | 'already_recorded'
  /** The payment reference is recorded already with other values: this payment is not recorded. */
  | 'reference_reused'
  /** Waiter ids are enforced and the order belongs to another waiter. */
  | 'wrong_waiter'
  /** The order is closed (Canceled, Finalized, Failed). */
  | 'closed';

export class DomainRefusal extends Error {
  /** The conflict's cause, when a dialect may need it. */
  reason?: RefusalReason;

  constructor(
    readonly kind: RefusalKind,
    message: string,
    /** The command's field the refusal is about, when there is one. */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'DomainRefusal';
  }

  /** `<what> "<id>" was not found at this location`. */
  static notFound(what: string, id: string): DomainRefusal {
    return new DomainRefusal('not_found', `${what} ${JSON.stringify(id)} was not found at this location`);
  }
  static conflict(message: string, reason?: RefusalReason): DomainRefusal {
    const r = new DomainRefusal('conflict', message);
    if (reason) r.reason = reason;
    return r;
  }
  static invalid(message: string, field?: string): DomainRefusal {
    return new DomainRefusal('invalid', message, field);
  }
}
