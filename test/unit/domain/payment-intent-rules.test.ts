import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { capturedAmountOf, checkoutUrl, decideIntentAmount, dojoCapturedAmount, intentStatusAdvances, isFinalIntentStatus, nextCheckDelayMs, paymentStatusToApply, settlementOf } from '@app/domain/core/rules';

const order = (o: Partial<{ status: string; totalAmount: bigint; paidAmount: bigint; payable: boolean }> = {}) => ({
  id: 'o1', status: 'Accepted', currency: 'GBP', totalAmount: 5000n, paidAmount: 0n, payable: true, ...o,
});

describe('payment intent rules', () => {
  it('asks for what is outstanding minus the open intents, or a part of it', () => {
    assert.deepEqual(decideIntentAmount(order(), 0n, undefined), { kind: 'accept', amount: 5000n });
    assert.deepEqual(decideIntentAmount(order({ paidAmount: 1000n }), 1500n, undefined), { kind: 'accept', amount: 2500n });
    // Counter sales still running hold their part too.
    assert.deepEqual(decideIntentAmount(order({ paidAmount: 1000n }), 1500n, undefined, 500n), { kind: 'accept', amount: 2000n });
    assert.deepEqual(decideIntentAmount(order(), 0n, undefined, 5000n), { kind: 'refuse', reason: 'counter sales still running already cover the 5000 outstanding on order o1' });
    assert.match((decideIntentAmount(order(), 1000n, 4001n, 1000n) as { reason: string }).reason, /more than the 3000 left .*1000 in open intents, 1000 in counter sales still running/);
    assert.deepEqual(decideIntentAmount(order(), 2000n, 3000n), { kind: 'accept', amount: 3000n });
    assert.equal(decideIntentAmount(order(), 2000n, 3001n).kind, 'refuse');
    assert.match((decideIntentAmount(order(), 5000n, undefined) as { reason: string }).reason, /already cover/);
    assert.equal(decideIntentAmount(order(), 0n, 0n).kind, 'invalid');
    assert.equal(decideIntentAmount(order(), 0n, -5n).kind, 'invalid');
  });

  it('refuses closed and non-payable orders', () => {
    assert.match((decideIntentAmount(order({ status: 'Finalized' }), 0n, undefined) as { reason: string }).reason, /Finalized/);
    assert.match((decideIntentAmount(order({ status: 'Canceled' }), 0n, 100n) as { reason: string }).reason, /Canceled/);
    assert.match((decideIntentAmount(order({ payable: false }), 0n, undefined) as { reason: string }).reason, /not payable/);
  });

  it('moves statuses only forward and knows the final ones', () => {
    assert.equal(intentStatusAdvances('Creating', 'Created'), true);
    assert.equal(intentStatusAdvances('Created', 'Captured'), true);
    assert.equal(intentStatusAdvances('Captured', 'Authorized'), false);
    assert.equal(intentStatusAdvances('Captured', 'Refunded'), true);
    assert.equal(intentStatusAdvances('Refunded', 'Canceled'), false);
    assert.equal(intentStatusAdvances('Created', 'Bogus'), false);
    assert.deepEqual(['Created', 'Authorized', 'Captured', 'Reversed', 'Refunded', 'Canceled'].map(isFinalIntentStatus), [false, false, false, true, true, true]);
  });

  it('records a payment for Captured (and Refunded, which implies a capture) only when none is recorded', () => {
    assert.equal(settlementOf('Captured', false), 'record');
    assert.equal(settlementOf('Refunded', false), 'record');
    assert.equal(settlementOf('Captured', true), 'none');
    for (const s of ['Created', 'Authorized', 'Reversed', 'Canceled']) assert.equal(settlementOf(s, false), 'none');
  });

  it("lets an intent already undone win over a late event on its payment, once; otherwise the event's status", () => {
    // The Reversed (or Canceled) was applied before the payment existed: a late Captured records it, the intent's status undoes it.
    assert.equal(paymentStatusToApply('Captured', 'Reversed', null), 'Reversed');
    assert.equal(paymentStatusToApply('Captured', 'Canceled', null), 'Canceled');
    assert.equal(paymentStatusToApply(undefined, 'Reversed', 'Captured'), 'Reversed');
    assert.equal(paymentStatusToApply('Captured', 'Refunded', null), 'Refunded');
    // The payment shows an undo already, or the intent is not undone: the event's status (or none).
    assert.equal(paymentStatusToApply('Refunded', 'Refunded', 'Refunded'), 'Refunded');
    assert.equal(paymentStatusToApply(undefined, 'Reversed', 'Reversed'), undefined);
    assert.equal(paymentStatusToApply('Captured', 'Captured', null), 'Captured');
    assert.equal(paymentStatusToApply('Reversed', 'Captured', 'Captured'), 'Reversed');
    assert.equal(paymentStatusToApply(undefined, 'Authorized', null), undefined);
  });

  it('backs off the reconciler by doubling, capped', () => {
    assert.deepEqual([0, 1, 2, 3, 10, 100].map((n) => nextCheckDelayMs(n, 1000, 60_000)), [1000, 2000, 4000, 8000, 60_000, 60_000]);
  });

  it("takes what was captured from Dojo's report, else the venue API's captures, else the whole intent; never more than the intent", () => {
    assert.equal(capturedAmountOf({ amount: 3000n, capturedAmount: 1800n }, 2000n), 1800n, "Dojo's report first");
    assert.equal(capturedAmountOf({ amount: 3000n, capturedAmount: null }, 1800n), 1800n, "the venue API's captures next");
    assert.equal(capturedAmountOf({ amount: 3000n, capturedAmount: null }, 0n), 3000n, 'nothing known: the whole intent');
    assert.equal(capturedAmountOf({ amount: 3000n, capturedAmount: 0n }, 0n), 3000n);
    assert.equal(capturedAmountOf({ amount: 3000n, capturedAmount: 3500n }, 0n), 3000n, 'capped at the intent');
    assert.equal(capturedAmountOf({ amount: 3000n, capturedAmount: null }, 4000n), 3000n);
  });

  it("adds up Dojo's successful captures (CaptureDetails), null when the answer does not say", () => {
    assert.equal(dojoCapturedAmount([{ amount: 1800, tipsAmount: 200, status: 'Successful' }]), 1800n, 'tips are not the amount');
    assert.equal(dojoCapturedAmount([{ amount: 1000, status: 'Successful' }, { amount: 500, status: 'Successful' }, { amount: 700, status: 'Declined' }]), 1500n);
    assert.equal(dojoCapturedAmount(undefined), null);
    assert.equal(dojoCapturedAmount(null), null);
    assert.equal(dojoCapturedAmount([]), null);
    assert.equal(dojoCapturedAmount([{ amount: 900, status: 'Failed' }, { amount: 1.5, status: 'Successful' }, null, 'x']), null);
  });

  it('builds the checkout link', () => {
    assert.equal(checkoutUrl('https://pay.dojo.tech/checkout', 'pi_sandbox_x1'), 'https://pay.dojo.tech/checkout/pi_sandbox_x1');
    assert.equal(checkoutUrl('http://127.0.0.1:4010/checkout/', 'pi_a'), 'http://127.0.0.1:4010/checkout/pi_a');
  });
});
