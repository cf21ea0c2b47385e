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
