import type { CounterEvent, CounterTransactionView } from '@app/contracts';
import { StepCheckError } from './flow-context';
import type { FlowContext } from './flow-context';
import type { FlowDefinition } from './flow-definition';
import { ACCOUNT_PARAM, textParam } from './flow-definition';
import type { SseEvent } from './venue-events';
import { VenueEventStream } from './venue-events';

type Json = Record<string, any>;

/** How long the flow reads on after a transaction ended, for the terminal's last notifications. */
const TAIL_MS = 1_500;

const pounds = (minor: number, currency: string) => `${(minor / 100).toFixed(2)} ${currency}`;

/** A terminal's notification as a person at the counter would read it. */
const SAYS: Record<string, string> = {
  TRANSACTION_STARTED: 'the terminal starts the transaction',
  PRESENT_CARD: 'present the card',
  INSERT_CARD: 'insert the card',
  PLEASE_WAIT: 'please wait',
  PIN_ENTRY: 'the customer enters the PIN',
  CONNECTING: 'connecting to the bank',
  CONNECTION_MADE: 'connected to the bank',
  REQUEST_SENT: 'authorisation requested',
  APPROVED: 'approved',
  DECLINED: 'declined',
  DECLINED_BY_CARD: 'declined by the card',
  SIGNATURE_VERIFICATION: 'the customer signs the receipt',
  SIGNATURE_VERIFICATION_IN_PROGRESS: 'waiting for the signature check',
  SIGNATURE_VERIFICATION_PROCESS_COMPLETED: 'signature accepted',
  SIGNATURE_VERIFICATION_PROCESS_COULD_NOT_BE_COMPLETED: 'signature refused',
  SIGNATURE_VERIFICATION_TIMEOUT: 'the signature check timed out',
  ATTEMPTING_CANCEL: 'trying to cancel',
  CANCELLING: 'cancelling',
  UNABLE_TO_CANCEL: 'too late to cancel',
  REMOVE_CARD: 'remove the card',
  TRANSACTION_FINISHED: 'the terminal has finished',
};

/** The venue API as a POS calls it: bearer token, JSON, an Idempotency-Key where given. */
function venueClient(ctx: FlowContext, p: Record<string, unknown>) {
  const base = `${textParam(p, 'venueApi')!.replace(/\/+$/, '')}/venue/v1/locations/${encodeURIComponent(textParam(p, 'locationId')!)}`;
  const auth = { authorization: `Bearer ${textParam(p, 'venueToken')!}` };
  const call = async (method: string, path: string, body?: unknown, key?: string): Promise<{ status: number; body: Json }> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(key ? { 'idempotency-key': key } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: ctx.timeout(15_000),
    });
    const json = (await res.json().catch(() => ({}))) as Json;
    if (!res.ok) throw new StepCheckError(`${method} ${path} answered ${res.status}: ${JSON.stringify(json).slice(0, 300)}`);
    return { status: res.status, body: json };
  };
  return { base, auth, call };
}

/** A counter order the POS puts through the venue API (a collection order, one line). */
function counterOrder(id: string, amount: number, currency: string): Json {
  const money = { value: amount, currencyCode: currency };
  return {
    id,
    status: 'Accepted',
    details: { orderType: 'Collection', collection: { asap: true } },
    items: [{ name: 'Counter sale', plu: 'CTR', quantity: 1, amountPerItem: money }],
    totalAmount: money,
    payable: true,
    displayName: `Counter ${id.slice(-6)}`,
  };
}

/**
 * Follows one counter transaction on the venue's event stream until it ends,
 * printing each notification as a transcript line and answering a signature
 * request through the venue API (`accept`).
 */
async function follow(
  ctx: FlowContext,
  stream: VenueEventStream,
  venue: ReturnType<typeof venueClient>,
  tx: CounterTransactionView,
  accept: boolean,
  startedAt: number,
): Promise<{ view: CounterTransactionView; signature: boolean }> {
  const at = () => `+${((performance.now() - startedAt) / 1000).toFixed(2)} s`;
  let signature = false;
  let finished = false;
  let ended: CounterTransactionView | undefined;
  const until = Date.now() + 90_000;
  for (;;) {
    // Once the transaction has ended, the terminal's last notifications may still be on their way (they can be
    // stored after the result): read on briefly, until the terminal says it has finished.
    if (ended && finished) return { view: ended, signature };
    let e: SseEvent;
    try {
      e = await stream.next(ended ? TAIL_MS : Math.max(1, until - Date.now()));
    } catch (err) {
      if (ended) return { view: ended, signature };
      return ctx.task<never>('event stream', () => Promise.reject(new StepCheckError(`${(err as Error).message} (transaction ${tx.id} not finished)`)));
    }
    if (typeof e.data !== 'object' || e.data === null) continue;
    const ev = e.data as CounterEvent;
    const d = ev.data as Json;
    // A notification is tied to the transaction running on its terminal; one stored after the result is only the terminal's.
    const ours = ev.transactionId === tx.id || (e.event === 'transaction' && d.id === tx.id) || (e.event === 'notification' && !ev.transactionId && ev.tid === tx.tid);
    if (!ours) continue;
    if (e.event === 'notification') {
      const value = String(d.notificationValue);
      if (value === 'TRANSACTION_FINISHED') finished = true;
      ctx.note(`  ${ev.tid ?? tx.tid}  ${value}`, `${at()}  ${SAYS[value] ?? value.toLowerCase().replace(/_/g, ' ')}`);
    } else if (e.event === 'signature.requested') {
      signature = true;
      ctx.note('  signature.requested', `${at()}  the terminal asks the POS to check the signature (answer by ${String(d.answerBy).slice(11, 19)}Z, default ${d.default})`);
      await ctx.task(`answer the signature (venue API)`, async () => {
        const r = await venue.call('POST', `/terminal-transactions/${tx.id}/signature`, { accepted: accept });
        if (r.body.accepted !== accept || r.body.by !== 'pos') throw new StepCheckError(`the answer was recorded as ${JSON.stringify(r.body)}`);
        return { value: r.body, summary: `${accept ? 'accepted' : 'refused'} by the POS` };
      });
    } else if (e.event === 'signature.answered') {
      ctx.note('  signature.answered', `${at()}  ${d.accepted ? 'accepted' : 'refused'} by ${d.by}`);
    } else if (e.event === 'transaction') {
      const view = d as CounterTransactionView;
      ctx.note(`  transaction ${view.state}`, `${at()}  ${view.result ?? view.failure ?? ''}${view.message ? ` (${view.message})` : ''}`.trimEnd());
      if (view.state === 'finished' || view.state === 'failed') ended = view;
    }
  }
}

/**
 * Pay at counter, as a venue's POS runs it through epos-relay's venue API:
 * list the terminals, hold the event stream open, start a sale against a
 * payable order with an Idempotency-Key and retry it (the same transaction;
 * the terminal runs it once), print every notification as it happens, answer
 * the terminal's signature request, see the order paid, read the receipt;
 * refund part of the sale on another terminal and see it come off the
 * payment and the order; then a declined sale on another order, which
 * records nothing.
 */
export const payAtCounterFlow: FlowDefinition = {
  name: 'pay-at-counter',
  description: 'Connect PAC through the venue API: terminals, event stream, sale against an order (retried), notifications, signature answered, order paid, receipt; part of it refunded; then a decline that records nothing',
  headers: {},
  params: [
    ACCOUNT_PARAM,
    { name: 'venueApi', type: 'string', required: true, description: "epos-relay's admin base URL, e.g. http://127.0.0.1:3000" },
    { name: 'locationId', type: 'string', required: true, description: "epos-relay's location id of the account (its PAC link dials this sandbox's /pac)" },
    { name: 'venueToken', type: 'string', required: true, description: 'A venue API token of the location (not shown in the flow result)' },
    { name: 'tid', type: 'string', required: false, description: 'The terminal of the sale (VT-SIGNATURE always asks for a signature)', default: 'VT-SIGNATURE' },
    { name: 'orderId', type: 'string', required: false, description: 'A payable order to pay in full (default: the flow puts a new counter order through the venue API)' },
    { name: 'amount', type: 'integer', required: false, description: "The new order's amount in minor units (without orderId)", default: '1250' },
  ],
  async run(ctx, p) {
    const venue = venueClient(ctx, p);
    const tid = textParam(p, 'tid') ?? 'VT-SIGNATURE';
    const declineTid = 'VT-DECLINE';
    const refundTid = 'VT-1';

    await ctx.task('terminals (venue API)', async () => {
      const until = Date.now() + 30_000;
      let last: Json;
      for (let refresh = true; ; refresh = false) {
        last = (await venue.call('GET', `/terminals${refresh ? '?refresh=true' : ''}`)).body;
        const list = (last.terminals ?? []) as { tid: string; status: string }[];
        const want = [tid, refundTid, declineTid].map((t) => list.find((x) => x.tid === t));
        if (last.link?.state === 'open' && want.every((x) => x?.status === 'AVAILABLE')) {
          return { value: last, summary: `link open; ${list.length} terminal(s): ${list.map((x) => `${x.tid} ${x.status}`).join(', ')}` };
        }
        const missing = [tid, refundTid, declineTid].filter((t) => !list.some((x) => x.tid === t));
        if (last.link?.state === 'open' && last.observedAt && list.length > 0 && missing.length > 0) {
          throw new StepCheckError(`terminal ${missing.join(' and ')} is not connected (connected: ${list.map((x) => x.tid).join(', ')})`);
        }
        if (Date.now() > until) throw new StepCheckError(`no open PAC link with ${tid}, ${refundTid} and ${declineTid} AVAILABLE within 30 s: ${JSON.stringify(last).slice(0, 300)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    });

    const stream = await ctx.task('open the event stream (SSE)', async () => {
      const s = await VenueEventStream.open(`${venue.base}/terminal-events`, venue.auth);
      if (ctx.signal?.aborted) s.close(); // opened as the sandbox closed: the step has already ended
      return { value: s, summary: 'GET /terminal-events: listening' };
    });
    // The sandbox closing ends the stream, and with it any wait for the terminal's next notification.
    const closeStream = () => stream.close();
    ctx.signal?.addEventListener('abort', closeStream, { once: true });
    try {
      const putOrder = async (amount: number, name: string) =>
        ctx.task(name, async () => {
          const id = ctx.newId('ctr-');
          await venue.call('PUT', `/orders/${id}`, counterOrder(id, amount, 'GBP'));
          const o = (await venue.call('GET', `/orders/${id}`)).body;
          if (o.payable !== true || o.outstandingAmount !== amount) throw new StepCheckError(`order ${id} is not payable for ${amount}: ${JSON.stringify(o).slice(0, 200)}`);
          return { value: { id, amount, currency: String(o.currency ?? 'GBP') }, summary: `order ${id}: ${pounds(amount, 'GBP')} payable` };
        });
      const given = textParam(p, 'orderId');
      const order = given
        ? await ctx.task('order (venue API)', async () => {
            const o = (await venue.call('GET', `/orders/${encodeURIComponent(given)}`)).body;
            const amount = Number(o.outstandingAmount);
            if (o.payable !== true || !(amount > 0)) throw new StepCheckError(`order ${given} is not payable (outstanding ${o.outstandingAmount})`);
            return { value: { id: given, amount, currency: String(o.currency ?? 'GBP') }, summary: `order ${given}: ${pounds(amount, String(o.currency ?? 'GBP'))} outstanding` };
          })
        : await putOrder(Number(p.amount ?? 1250), 'put a counter order (venue API)');

      // The sale, and the POS's retry of it with the same key (e.g. after a network blip).
      const key = ctx.newId('pac-flow-');
      const body = { kind: 'sale', amount: order.amount, orderId: order.id };
      const startedAt = performance.now();
      const tx = await ctx.task(`start a sale on ${tid} (venue API)`, async () => {
        const r = await venue.call('POST', `/terminals/${encodeURIComponent(tid)}/transactions`, body, key);
        if (r.status !== 202) throw new StepCheckError(`expected 202 Accepted, got ${r.status}`);
        const v = r.body as CounterTransactionView;
        return { value: v, summary: `transaction ${v.id}: sale ${pounds(order.amount, v.currency)} for order ${order.id}, ${v.state}` };
      });
      await ctx.task('retry the sale (same Idempotency-Key)', async () => {
        const r = await venue.call('POST', `/terminals/${encodeURIComponent(tid)}/transactions`, body, key);
        if (r.status !== 200 || r.body.id !== tx.id) throw new StepCheckError(`the retry answered ${r.status} with transaction ${r.body.id}, not ${tx.id}`);
        return { value: r.body, summary: `200: the same transaction ${tx.id}` };
      });

      const { view, signature } = await follow(ctx, stream, venue, tx, true, startedAt);
      await ctx.task('sale result', async () => {
        if (view.state !== 'finished' || view.result !== 'SUCCESSFUL') throw new StepCheckError(`the sale ended ${view.state} ${view.result ?? view.failure ?? ''} ${view.message ?? ''}`.trim());
        if (tid === 'VT-SIGNATURE' && !signature) throw new StepCheckError('the terminal never asked for a signature');
        if (!view.paymentId) throw new StepCheckError('no payment recorded on the order');
        const t = view.transaction;
        return { value: view, summary: `SUCCESSFUL ${pounds(t?.amountTotal ?? order.amount, view.currency)}, ${t?.cardSchemeName ?? 'card'} ${t?.primaryAccountNumber?.slice(-4) ?? ''}, auth ${t?.authCode ?? '-'}, ${t?.cardHolderVerificationMethod ?? ''}; payment ${view.paymentId}` };
      });
      const pac = ctx.deps.pac;
      if (pac) {
        await ctx.task('the terminal ran it once (sandbox)', async () => {
          const runs = pac.runs.filter((r) => r.accountId === ctx.accountId && String(r.requestId) === tx.id);
          if (runs.length !== 1) throw new StepCheckError(`the terminal ran transaction ${tx.id} ${runs.length} times`);
          return { value: runs, summary: `1 run on ${runs[0]!.tid} for the two requests` };
        });
      }
      await ctx.task('order paid (venue API)', async () => {
        const o = (await venue.call('GET', `/orders/${encodeURIComponent(order.id)}`)).body;
        const payments = (o.payments ?? []) as Json[];
        const mine = payments.filter((x) => x.paymentIntentId === tx.id || x.id === tx.id || x.id === view.paymentId);
        if (mine.length !== 1) throw new StepCheckError(`order ${order.id} has ${mine.length} payment(s) of transaction ${tx.id}: ${JSON.stringify(payments).slice(0, 300)}`);
        if (o.outstandingAmount !== 0 || o.payable !== false) throw new StepCheckError(`order ${order.id} still owes ${o.outstandingAmount} (payable ${o.payable})`);
        return { value: o, summary: `paid ${pounds(Number(o.paidAmount), order.currency)}; nothing outstanding, not payable` };
      });
      await ctx.task('receipt (venue API)', async () => {
        const r = (await venue.call('GET', `/terminal-transactions/${tx.id}`)).body as CounterTransactionView & { events?: unknown[] };
        const lines = r.receiptLines?.CUSTOMER ?? [];
        if (lines.length === 0) throw new StepCheckError(`transaction ${tx.id} has no customer receipt`);
        const texts = lines.filter((l) => l.type === 'TEXT' && l.value).map((l) => l.value!);
        return { value: r, summary: `customer copy, ${lines.length} lines: ${texts.slice(3, 9).join(' | ')}` };
      });

      // Part of it goes back to the guest: a refund of the sale, on another terminal, comes off its payment and the order.
      const refundAmount = Math.min(250, order.amount);
      const refundedAt = performance.now();
      const refund = await ctx.task(`refund part of the sale on ${refundTid} (venue API)`, async () => {
        const r = await venue.call('POST', `/terminals/${refundTid}/transactions`, { kind: 'refund', amount: refundAmount, refundOf: tx.id }, ctx.newId('pac-flow-'));
        if (r.status !== 202) throw new StepCheckError(`expected 202 Accepted, got ${r.status}: ${JSON.stringify(r.body).slice(0, 200)}`);
        const v = r.body as CounterTransactionView;
        return { value: v, summary: `transaction ${v.id}: refund ${pounds(refundAmount, v.currency)} of sale ${tx.id}` };
      });
      const back = await follow(ctx, stream, venue, refund, true, refundedAt);
      await ctx.task('refund applied to the order (venue API)', async () => {
        if (back.view.result !== 'SUCCESSFUL') throw new StepCheckError(`the refund ended ${back.view.state} ${back.view.result ?? back.view.failure ?? ''} ${back.view.message ?? ''}`.trim());
        if (back.view.paymentId !== tx.id) throw new StepCheckError(`the refund changed payment ${back.view.paymentId ?? 'none'}, not ${tx.id}: ${back.view.message ?? ''}`);
        const o = (await venue.call('GET', `/orders/${encodeURIComponent(order.id)}`)).body;
        const payment = ((o.payments ?? []) as Json[]).find((x) => x.paymentIntentId === tx.id);
        if (payment?.refundedAmount !== refundAmount || o.outstandingAmount !== refundAmount || o.payable !== true) {
          throw new StepCheckError(`order ${order.id} after the refund: ${JSON.stringify(o).slice(0, 300)}`);
        }
        return { value: o, summary: `payment ${tx.id}: ${pounds(refundAmount, order.currency)} refunded; order ${order.id} owes ${pounds(refundAmount, order.currency)} again, payable` };
      });

      // A declined card: the transaction ends DECLINED and the order is untouched.
      const second = await putOrder(900, 'put another counter order (venue API)');
      const declinedAt = performance.now();
      const declined = await ctx.task(`start a sale on ${declineTid} (venue API)`, async () => {
        const r = await venue.call('POST', `/terminals/${declineTid}/transactions`, { kind: 'sale', amount: second.amount, orderId: second.id }, ctx.newId('pac-flow-'));
        const v = r.body as CounterTransactionView;
        return { value: v, summary: `transaction ${v.id}: sale ${pounds(second.amount, v.currency)} for order ${second.id}` };
      });
      const end = await follow(ctx, stream, venue, declined, true, declinedAt);
      await ctx.task('declined, nothing recorded (venue API)', async () => {
        if (end.view.result !== 'DECLINED') throw new StepCheckError(`expected DECLINED, the sale ended ${end.view.state} ${end.view.result ?? end.view.failure ?? ''}`);
        if (end.view.paymentId) throw new StepCheckError(`a declined sale recorded payment ${end.view.paymentId}`);
        const o = (await venue.call('GET', `/orders/${encodeURIComponent(second.id)}`)).body;
        if (Number(o.paidAmount ?? 0) !== 0 || (o.payments ?? []).length !== 0 || o.payable !== true) throw new StepCheckError(`order ${second.id} changed: ${JSON.stringify(o).slice(0, 300)}`);
        return { value: o, summary: `DECLINED (${end.view.transaction?.userMessage ?? 'no message'}); order ${second.id} still owes ${pounds(Number(o.outstandingAmount), second.currency)}` };
      });
    } finally {
      ctx.signal?.removeEventListener('abort', closeStream);
      stream.close();
    }
  },
};
