import type { DojoEventPayload } from '@app/contracts';
import { StepCheckError } from './flow-context';
import type { FlowDefinition } from './flow-definition';
import { ACCOUNT_PARAM, textParam } from './flow-definition';

/** The payment-intent events of one card payment, in the order Dojo emits them. */
export function paymentIntentEvents(accountId: string, paymentIntentId: string, newId: (p: string) => string): [DojoEventPayload, DojoEventPayload, DojoEventPayload] {
  const at = (i: number) => new Date(Date.now() + i).toISOString();
  const ev = (i: number, event: string, paymentStatus: string): DojoEventPayload => ({
    id: newId('evt_'),
    event,
    accountId,
    createdAt: at(i),
    data: { paymentIntentId, paymentStatus, captureMode: 'Auto' },
  });
  return [ev(0, 'payment_intent.created', 'Created'), ev(1, 'payment_intent.status_updated', 'Authorized'), ev(2, 'payment_intent.status_updated', 'Captured')];
}

/**
 * Events: payment-intent events by webhook (signed, dojo-signature) and over the
 * socket (HandleEventV1), each channel at least once: duplicates by default,
 * out of order on request or when the misbehaviour switch is on.
 */
export const eventsFlow: FlowDefinition = {
  name: 'events',
  description: 'payment_intent.created / status_updated (Authorized, Captured) by signed webhook and HandleEventV1, with duplicates',
  headers: { dojoRequestingProduct: 'Events' },
  params: [
    ACCOUNT_PARAM,
    { name: 'paymentIntentId', type: 'string', required: false, description: 'Payment intent the events are about (generated when empty)' },
    { name: 'channels', type: 'string', required: false, description: 'webhook, socket, both, or auto (webhook when the account has targets)', default: 'auto' },
    { name: 'duplicates', type: 'boolean', required: false, description: 'Send the first event again on every channel', default: 'true' },
    { name: 'outOfOrder', type: 'boolean', required: false, description: 'Send Captured before Authorized', default: 'false' },
  ],
  async run(ctx, p) {
    const { webhooks, misbehaviour } = ctx.deps;
    const paymentIntentId = textParam(p, 'paymentIntentId') ?? ctx.newId('pi_sandbox_');
    const events = paymentIntentEvents(ctx.accountId, paymentIntentId, (x) => ctx.newId(x));
    if (p.outOfOrder === true || misbehaviour.webhooksOutOfOrder) [events[1], events[2]] = [events[2], events[1]];
    const sequence = [...events];
    if (p.duplicates !== false) sequence.push(events[0]);
    const channels = textParam(p, 'channels') ?? 'auto';
    const hasTargets = webhooks.targets(ctx.accountId, 'payment_intent.created').length > 0;
    const viaWebhook = channels === 'webhook' || channels === 'both' || (channels === 'auto' && hasTargets);
    const viaSocket = channels === 'socket' || channels === 'both' || channels === 'auto';
    if (channels === 'auto' && !hasTargets) ctx.note('webhook', `no webhook subscription or webhookUrl for ${ctx.accountId}; events go over the socket only`);

    const seen = new Set<string>();
    for (const e of sequence) {
      const label = `${e.event} ${e.data.paymentStatus}${seen.has(e.id) ? ' (duplicate)' : ''}`;
      seen.add(e.id);
      if (viaWebhook) {
        const times = misbehaviour.duplicateWebhooks ? 2 : 1;
        await ctx.task(`webhook ${label}`, async () => {
          const out = [];
          for (let i = 0; i < times; i++) out.push(...(await webhooks.deliver(e)));
          if (out.length === 0) throw new StepCheckError(`no webhook target for ${ctx.accountId} and ${e.event}`);
          const bad = out.filter((d) => d.status === null || d.status < 200 || d.status >= 300);
          const [firstBad] = bad;
          if (firstBad) throw new StepCheckError(`webhook to ${firstBad.url} answered ${firstBad.status ?? firstBad.error}`);
          const attempts = Math.max(...out.map((d) => d.attempt));
          return { value: out, summary: `delivered ${e.id} signed to ${out.length} target(s)${times > 1 ? ' (twice)' : ''}${attempts > 1 ? `, after ${attempts} attempts` : ''}` };
        });
      }
      if (viaSocket) {
        await ctx.rpc<Record<string, never>>({
          name: `HandleEventV1 ${label}`,
          method: 'HandleEventV1',
          params: { ...e },
          summary: () => `EPOS acknowledged ${e.id} (${e.data.paymentStatus})`,
        });
      }
    }
  },
};
