import { isCurrencyCode } from './money';
import { isValidMinorAmount } from './payments';

/** A party's fields the rules below look at (the times as parsed, the deposit in Dojo's PartyDeposit shape as given). */
export interface PartyContent {
  startTime: Date;
  expectedEndTime: Date | null;
  endTime: Date | null;
  deposit: Record<string, unknown> | null;
}

/**
 * What is wrong with a party's content, one problem per field (none: it may be stored): it cannot end, or be
 * expected to end, before it starts, and its deposit is money like any other amount, a non-negative integer of minor
 * units in an ISO 4217 currency.
 */
export function partyContentProblems(p: PartyContent): { field: string; reason: string }[] {
  const problems: { field: string; reason: string }[] = [];
  const start = p.startTime.getTime();
  if (p.endTime && p.endTime.getTime() < start) problems.push({ field: 'endTime', reason: 'must not be before startTime' });
  if (p.expectedEndTime && p.expectedEndTime.getTime() < start) problems.push({ field: 'expectedEndTime', reason: 'must not be before startTime' });
  const total = p.deposit?.totalAmount as { value?: unknown; currencyCode?: unknown } | undefined;
  if (total) {
    if (typeof total.value !== 'number' || !isValidMinorAmount(total.value)) {
      problems.push({ field: 'deposit.totalAmount.value', reason: 'must be a non-negative integer of minor units' });
    }
    if (!isCurrencyCode(total.currencyCode)) {
      problems.push({ field: 'deposit.totalAmount.currencyCode', reason: 'must be an ISO 4217 code such as GBP (three capital letters)' });
    }
  }
  return problems;
}

/**
 * The fields of a stored party that a venue's replace (a PUT over the row) leaves as they are, whatever its body says:
 * - `guestRequests`, always: the guest's own requests (dietary needs), which Dojo sets (CreatePartyV1, UpdatePartyV1)
 *   and Dojo's contract says the EPOS partner may not edit. A POS that sends back the party it read, or an older copy
 *   of it, so never overwrites what the guest changed meanwhile. A create takes the body's.
 * - `deposit`, when the body has none: the deposit Dojo took for the party stays on it through a replace that leaves
 *   it out (a body that has one replaces it).
 */
export function partyFieldsKeptByVenueReplace(body: { deposit?: unknown }): ('guestRequests' | 'deposit')[] {
  return body.deposit === undefined || body.deposit === null ? ['guestRequests', 'deposit'] : ['guestRequests'];
}
