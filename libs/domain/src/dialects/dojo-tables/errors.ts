import type { TablesErrorCode, TablesErrorResult } from '@app/contracts';
import { DomainRefusal } from '../../core/refusal';

/**
 * A refusal in the Tables API's own words: always answered inside `result` as
 * `{errorCode, errorReason}` (never a JSON-RPC `error`). Thrown by this
 * dialect's mappings (a missing waiter id, bad params) and produced from the
 * core's DomainRefusal by tablesErrorOf.
 */
export class TablesError extends Error {
  constructor(
    readonly errorCode: TablesErrorCode,
    readonly errorReason: string,
  ) {
    super(errorReason);
    this.name = 'TablesError';
  }

  toResult(): TablesErrorResult {
    return { errorCode: this.errorCode, errorReason: this.errorReason };
  }
}

/** The session methods whose "no such object" is SESSION_NO_SUCH_SESSION. */
const noSuch = (method: string): TablesErrorCode => (method === 'GetTable' ? 'TABLE_NO_SUCH_TABLE' : 'SESSION_NO_SUCH_SESSION');

/**
 * The Tables API's answer to a refusal of `method`, in one place (the codes of
 * protocols.md 1.3, per method):
 * - another waiter's order (waiter ids enforced) -> WAITER_INCORRECT_WAITER_ID;
 * - not found -> SESSION_NO_SUCH_SESSION (GetTable: TABLE_NO_SUCH_TABLE);
 * - LockSession: a lock held by another -> SESSION_ALREADY_LOCKED; a finished session -> SESSION_NO_SUCH_SESSION
 *   (there is no payable session of that id any more);
 * - UnlockSession: not locked -> SESSION_NOT_LOCKED; held by another -> SESSION_UNABLE_TO_UNLOCK;
 * - RecordPayment: not locked -> SESSION_NOT_LOCKED; the payment id recorded already with the same amounts ->
 *   PAYMENT_ALREADY_RECORDED; anything else (the id recorded with other amounts, closed, not payable, overpayment,
 *   currency) -> PAYMENT_NOT_RECORDED: Dojo takes PAYMENT_ALREADY_RECORDED as "this payment is on the bill";
 * - other invalid input -> ERROR_PARSE_ERROR.
 */
export function tablesErrorOf(err: unknown, method = ''): TablesError | undefined {
  if (err instanceof TablesError) return err;
  if (!(err instanceof DomainRefusal)) return undefined;
  const reason = err.message;
  if (err.reason === 'wrong_waiter') return new TablesError('WAITER_INCORRECT_WAITER_ID', reason);
  if (err.kind === 'not_found') return new TablesError(noSuch(method), reason);
  switch (method) {
    case 'LockSession':
      return new TablesError(err.reason === 'closed' ? 'SESSION_NO_SUCH_SESSION' : err.reason === 'lock_held' ? 'SESSION_ALREADY_LOCKED' : 'ERROR_PARSE_ERROR', reason);
    case 'UnlockSession':
      return new TablesError(err.reason === 'not_locked' ? 'SESSION_NOT_LOCKED' : err.kind === 'invalid' ? 'ERROR_PARSE_ERROR' : 'SESSION_UNABLE_TO_UNLOCK', reason);
    case 'RecordPayment':
      if (err.reason === 'not_locked') return new TablesError('SESSION_NOT_LOCKED', reason);
      if (err.reason === 'already_recorded') return new TablesError('PAYMENT_ALREADY_RECORDED', reason);
      return new TablesError('PAYMENT_NOT_RECORDED', reason);
    default:
      return new TablesError(err.kind === 'invalid' ? 'ERROR_PARSE_ERROR' : 'ERROR_INTERNAL_POS_ERROR', reason);
  }
}
