import { Body, Controller, Get, Header, HttpCode, Inject, Param, Post, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { DojoSandbox } from '../dojo-sandbox';
import type { SandboxPaymentIntent } from '../payment-intents';
import { IntentStateError, TEST_CARDS } from '../payment-intents';
import { SANDBOX } from './token';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const money = (v: number, ccy: string) => `${(v / 100).toFixed(2)} ${esc(ccy)}`;
const CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'";

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><style>
body{font-family:system-ui,sans-serif;max-width:28rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
h1{font-size:1.3rem}.amount{font-size:2rem;font-weight:600}label{display:block;margin:.8rem 0 .2rem}
input{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}button{margin-top:1rem;width:100%;padding:.7rem;font-size:1.05rem;background:#0a5;color:#fff;border:0;border-radius:4px}
.sandbox{background:#fd0;padding:.2rem .5rem;font-weight:600;display:inline-block}.cards{font-size:.85rem;color:#555}[role=status]{font-size:1.2rem;font-weight:600}
</style></head><body><p class="sandbox">Sandbox</p>${body}</body></html>`;
}

function checkoutForm(pi: SandboxPaymentIntent): string {
  const tips = pi.tipsAllowed
    ? `<label for="tips">Tip (in pence, optional)</label><input id="tips" name="tips" inputmode="numeric" pattern="[0-9]*" value="">`
    : '';
  return page(
    `Pay ${pi.reference}`,
    `<h1>Pay ${esc(pi.reference)}</h1><p class="amount" data-testid="amount">${money(pi.amount.value, pi.amount.currencyCode)}</p>
<form method="post" action="/checkout/${esc(pi.id)}/pay">
<label for="card">Card number</label><input id="card" name="cardNumber" autocomplete="cc-number" required>
<label for="expiry">Expiry (MM/YY)</label><input id="expiry" name="expiry" value="12/30" required>
<label for="cvc">CVC</label><input id="cvc" name="cvc" value="123" required>${tips}
<button type="submit">Pay ${money(pi.amount.value, pi.amount.currencyCode)}</button></form>
<p class="cards">Test cards: ${TEST_CARDS.success} succeeds, ${TEST_CARDS.declined} is declined, ${TEST_CARDS.manualCapture} needs a manual capture.</p>`,
  );
}

/**
 * The prebuilt checkout page of the sandbox (Dojo's is
 * https://pay.dojo.tech/checkout/<id>): a person opens the link, pays with a
 * test card, and the sandbox sends the signed webhooks and HandleEventV1
 * events as Dojo would.
 */
@Controller('checkout')
export class CheckoutController {
  constructor(@Inject(SANDBOX) private readonly sim: DojoSandbox) {}

  @Get(':id')
  @Header('content-security-policy', CSP)
  @Header('content-type', 'text/html; charset=utf-8')
  show(@Param('id') id: string, @Res() res: Response): void {
    const pi = this.sim.paymentIntents.forCheckout(id);
    if (!pi) {
      res.status(404).send(page('Not found', '<h1>This payment link is not valid</h1>'));
      return;
    }
    if (pi.status !== 'Created') {
      res.status(200).send(page('Paid', `<h1>${esc(pi.reference)}</h1><p role="status">This payment is ${esc(pi.status)}.</p>`));
      return;
    }
    res.status(200).send(checkoutForm(pi));
  }

  @Post(':id/pay')
  @HttpCode(200)
  @Header('content-security-policy', CSP)
  @Header('content-type', 'text/html; charset=utf-8')
  pay(@Param('id') id: string, @Body() body: unknown, @Res() res: Response): void {
    const b = (body && typeof body === 'object' ? body : {}) as { cardNumber?: unknown; tips?: unknown };
    const card = typeof b.cardNumber === 'string' ? b.cardNumber : '';
    const tipsText = typeof b.tips === 'string' ? b.tips.trim() : typeof b.tips === 'number' ? String(b.tips) : '';
    const tips = tipsText === '' ? undefined : Number(tipsText);
    if (tips !== undefined && (!Number.isSafeInteger(tips) || tips < 0)) {
      res.status(400).send(page('Invalid tip', '<p role="status">The tip must be a whole number of pence.</p>'));
      return;
    }
    try {
      const r = this.sim.paymentIntents.pay(id, card, tips);
      this.sim.emitIntentEvents(r.intent, r.changes);
      const text =
        r.outcome === 'declined'
          ? 'Payment declined. Try another card.'
          : r.outcome === 'unknown'
            ? 'This card is not a sandbox test card. Payment declined.'
            : r.intent.status === 'Captured'
              ? 'Payment successful.'
              : 'Payment authorized; the venue will capture it.';
      res.status(200).send(page('Payment', `<h1>${esc(r.intent.reference)}</h1><p role="status" data-outcome="${r.outcome}">${text}</p>`));
    } catch (err) {
      if (!(err instanceof IntentStateError)) throw err;
      res.status(err.status).send(page('Payment', `<p role="status">${esc(err.message)}</p>`));
    }
  }
}
