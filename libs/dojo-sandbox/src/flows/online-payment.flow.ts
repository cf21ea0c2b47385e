import type { Models } from '@app/contracts';
import { contractValidator } from '@app/contracts';
import { TEST_CARDS } from '../payment-intents';
import { money, StepCheckError } from './flow-context';
import type { FlowContext } from './flow-context';
import type { FlowDefinition } from './flow-definition';
import { ACCOUNT_PARAM, textParam } from './flow-definition';

type Order = Models.Order;

/** An order read back whose amounts can be compared: Dojo relies on id, totalAmount, paidAmount and payable being present. */
type ReadOrder = Order & { totalAmount: Models.Money; paidAmount: Models.Money };

/**
 * Reads the order as Dojo sees it (GetOrderByIdV1) until `done` holds, for at most `ms`. Each reply is validated
 * against the contract; a violation, an error reply, another order's id, or an order without its amounts or
 * `payable`, fails the step at once.
 */
async function orderUntil(ctx: FlowContext, orderId: string, name: string, done: (o: ReadOrder) => string | undefined, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  let last: Order | undefined;
  await ctx.task(
    name,
    async () => {
      for (;;) {
        const reply = await ctx.deps.hub.call(ctx.accountId, 'GetOrderByIdV1', { orderId, headers: ctx.headers }, { timeoutMs: ctx.deps.callTimeoutMs });
        const v = contractValidator().validateResponse('GetOrderByIdV1', reply);
        if (!v.ok) throw new StepCheckError(`GetOrderByIdV1 response breaks the contract: ${v.field} ${v.reason}`);
        const error = (reply as { error?: { errorType: string; debugMessage?: string } }).error;
        if (error) throw new StepCheckError(`GetOrderByIdV1 returned ${error.errorType}${error.debugMessage ? `: ${error.debugMessage}` : ''}`);
        last = (reply as { result?: Order }).result;
        if (last) {
          if (last.id !== orderId) throw new StepCheckError(`asked for order ${orderId}, got ${last.id ?? 'one without an id'}`);
          const missing = [
            typeof last.totalAmount?.value !== 'number' && 'totalAmount',
            typeof last.paidAmount?.value !== 'number' && 'paidAmount',
            typeof last.payable !== 'boolean' && 'payable',
          ].filter(Boolean);
          if (missing.length) throw new StepCheckError(`order ${orderId} has no ${missing.join(', no ')}`);
        }
        const summary = last ? done(last as ReadOrder) : undefined;
        if (summary) return { value: last, summary };
        if (Date.now() > until) throw new StepCheckError(`order ${orderId} did not get there within ${ms / 1000} s (paid ${money(last?.paidAmount)}, payable ${String(last?.payable)})`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    'GetOrderByIdV1',
  );
}

/**
 * Online payment: the venue creates a payment intent for an order through
 * epos-relay's venue API, a guest pays it at the sandbox's checkout page with
 * a test card, the events settle it on the order (paid, as Dojo reads it),
 * the venue refunds half, and the order is payable for that half (paid the other).
 */
export const onlinePaymentFlow: FlowDefinition = {
  name: 'online-payment',
  description: "Venue API payment intent for an order, paid at the checkout with a test card, seen paid over the socket; half refunded, payable for that half",
  headers: { dojoRequestingProduct: 'OnlinePayments' },
  params: [
    ACCOUNT_PARAM,
    { name: 'venueApi', type: 'string', required: true, description: "epos-relay's admin base URL, e.g. http://127.0.0.1:3000" },
    { name: 'locationId', type: 'string', required: true, description: "epos-relay's location id of the account" },
    { name: 'venueToken', type: 'string', required: true, description: 'A venue API token of the location (not shown in the flow result)' },
    { name: 'orderId', type: 'string', required: false, description: 'The order to pay (default: the first payable order)' },
    { name: 'paymentIntentId', type: 'string', required: false, description: 'Pay this existing intent (e.g. the one npm start printed) instead of creating one' },
  ],
  async run(ctx, p) {
    const base = `${textParam(p, 'venueApi')!.replace(/\/+$/, '')}/venue/v1/locations/${encodeURIComponent(textParam(p, 'locationId')!)}`;
    const auth = { authorization: `Bearer ${textParam(p, 'venueToken')!}` };
    const venue = async (method: string, path: string, body?: unknown, key?: string) => {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { ...auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(key ? { 'idempotency-key': key } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: ctx.timeout(15_000),
      });
      const json = (await res.json().catch(() => undefined)) as Record<string, any> | undefined;
      if (!res.ok) throw new StepCheckError(`${method} ${path} answered ${res.status}: ${JSON.stringify(json)}`);
      return json!;
    };

    const existing = textParam(p, 'paymentIntentId');
    const shown = existing
      ? await ctx.task('read payment intent (venue API)', async () => {
          const pi = await venue('GET', `/payment-intents/${encodeURIComponent(existing)}`);
          return { value: pi, summary: `${pi.id} for order ${pi.orderId}: ${pi.status}` };
        })
      : undefined;
    let given = shown ? String(shown.orderId) : textParam(p, 'orderId');
    if (!given) {
      const found = await ctx.rpc<{ data: Order[] }>({
        method: 'SearchOrdersV1',
        params: { payableOnly: true },
        summary: (r) => {
          const first = r.data.find((o) => o.payable !== false && o.id);
          if (!first) throw new StepCheckError('no payable order at this venue');
          return `${r.data.length} payable order(s); paying ${first.id}`;
        },
      });
      given = found.data.find((o) => o.payable !== false && o.id)?.id;
    }
    const orderId = given ?? '';
    const intent = shown ?? await ctx.task('create payment intent (venue API)', async () => {
      const pi = await venue('POST', `/orders/${encodeURIComponent(orderId)}/payment-intents`, { tipsAllowed: true }, ctx.newId('flow-'));
      return { value: pi, summary: `${pi.id} for ${money({ value: pi.amount, currencyCode: pi.currency })}: ${pi.checkoutUrl}` };
    });
    await ctx.task('pay at the checkout page', async () => {
      const res = await fetch(`${intent.checkoutUrl}/pay`, {
        method: 'POST',
        body: new URLSearchParams({ cardNumber: TEST_CARDS.success, expiry: '12/30', cvc: '123' }),
        signal: ctx.timeout(15_000),
      });
      const text = await res.text();
      if (!res.ok || !/Payment successful/.test(text)) throw new StepCheckError(`the checkout answered ${res.status}: ${text.replace(/<[^>]+>/g, ' ').slice(0, 200)}`);
      return { value: undefined, summary: `paid with test card ${TEST_CARDS.success.slice(-4)}` };
    });
    await orderUntil(ctx, orderId, 'order paid (GetOrderByIdV1)', (o) =>
      o.payable === false && o.paidAmount.value === o.totalAmount.value ? `paid ${money(o.paidAmount)} of ${money(o.totalAmount)}; not payable` : undefined,
    );
    const half = Math.floor(Number(intent.amount) / 2);
    await ctx.task('refund half (venue API)', async () => {
      const r = await venue('POST', `/payment-intents/${encodeURIComponent(String(intent.id))}/refunds`, { amount: half, reason: 'online-payment flow' }, ctx.newId('flow-'));
      return { value: r, summary: `refunded ${money({ value: half, currencyCode: intent.currency })}` };
    });
    await orderUntil(ctx, orderId, 'order payable for the refunded half (GetOrderByIdV1)', (o) =>
      o.payable === true && o.paidAmount.value === o.totalAmount.value - half
        ? `payable for the refunded half: paid ${money(o.paidAmount)} of ${money(o.totalAmount)}`
        : undefined,
    );
  },
};
