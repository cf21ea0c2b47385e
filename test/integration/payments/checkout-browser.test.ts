import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import type { RunningApp } from '@app/common';
import { DojoSandbox, TEST_CARDS } from '@app/dojo-sandbox';
import type { TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, fixtures, uniquePrefix, waitFor } from '@app/testing';
import { startAdmin } from '../../../apps/admin/src/main';
import { startWebhook } from '../../../apps/webhook/src/main';
import { startWorker } from '../../../apps/worker/src/main';
import { launchChromium, skipWithoutChromium } from '../../support/browser';

const TOKEN = 'operator-token-checkout-browser-1';
const SECRET = 'whsec_checkout_browser_secret_0001';
const ARTIFACTS = join(process.cwd(), '.epos-relay', 'artifacts');

/**
 * A guest pays an online payment in a real browser (Debian's chromium,
 * headless, driven by playwright-core): the sandbox's checkout page opened
 * from the link the venue API answered, a declined test card, then one that
 * succeeds; the signed webhook settles it and the venue API shows the order paid.
 */
describe('checkout page in a browser', { skip: skipWithoutChromium('the checkout browser test') }, () => {
  let db: TestDatabase;
  let sim: DojoSandbox;
  let admin: RunningApp;
  let worker: RunningApp;
  let webhook: RunningApp;
  let browser: Browser;
  let locationId = '';
  let venueToken = '';

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    db = await createTestDatabase('checkout-browser');
    const fx = fixtures(db.prisma);
    sim = await DojoSandbox.start({ port: 0 });
    const sh = await fx.softwareHouse();
    const loc = await fx.location({ softwareHouseId: sh.id, name: 'Browser Bistro', webhookSecrets: [SECRET] });
    locationId = loc.id;
    const env = appEnv(db, {
      QUEUE_PREFIX: uniquePrefix('checkout'),
      ADMIN_OPERATOR_TOKENS: TOKEN,
      DOJO_API_URL: sim.url,
      DOJO_CHECKOUT_URL: sim.checkoutBase,
      PAYMENT_INTENT_CHECK_AFTER_MS: '600000', // the webhook settles it here, not the reconciler
    });
    webhook = await startWebhook(env);
    sim.addAccount({ apiKey: loc.apiKey, softwareHouseId: sh.dojoSoftwareHouseId, accountId: loc.dojoAccountId, webhookUrl: `${webhook.url}/webhooks/dojo`, webhookSecret: SECRET });
    admin = await startAdmin(env);
    worker = await startWorker(env);
    const res = await fetch(`${admin.url}/v1/locations/${loc.id}/venue-tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'pos' }),
    });
    venueToken = ((await res.json()) as { token: string }).token;
    await fx.order(loc.id, { id: 'ord-browser-1', total: 3150 });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await worker?.close().catch(() => undefined);
    await admin?.close().catch(() => undefined);
    await webhook?.close().catch(() => undefined);
    await sim?.close().catch(() => undefined);
    await db?.drop();
  });

  it('pays with a test card at the checkout page and the venue API shows the order paid', async () => {
    const venue = `${admin.url}/venue/v1/locations/${locationId}`;
    const auth = { authorization: `Bearer ${venueToken}` };
    const created = await fetch(`${venue}/orders/ord-browser-1/payment-intents`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': 'browser-1' },
      body: JSON.stringify({ tipsAllowed: true }),
    });
    assert.equal(created.status, 201);
    const pi = (await created.json()) as { id: string; checkoutUrl: string };

    const page = await browser.newPage();
    page.setDefaultTimeout(15_000);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pi.checkoutUrl);
    await page.getByTestId('amount').getByText('31.50 GBP').waitFor();
    await page.getByLabel('Card number').fill(TEST_CARDS.declined);
    await page.getByRole('button', { name: /^Pay / }).click();
    await page.getByRole('status').getByText('Payment declined').waitFor();

    await page.goto(pi.checkoutUrl);
    await page.getByLabel('Card number').fill(TEST_CARDS.success);
    await page.getByLabel('Tip (in pence, optional)').fill('250');
    await page.getByRole('button', { name: /^Pay / }).click();
    await page.getByRole('status').getByText('Payment successful.').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'checkout-paid.png') });

    const order = await waitFor(
      async () => {
        const o = (await (await fetch(`${venue}/orders/ord-browser-1`, { headers: auth })).json()) as { paidAmount: number; payable: boolean };
        return o.paidAmount === 3150 ? o : undefined;
      },
      'the order paid through the venue API',
      20_000,
    );
    assert.equal(order.payable, false);
    assert.equal((order as unknown as { tipsAmount: number }).tipsAmount, 250, "the guest's tip at the checkout is recorded with the payment");
    assert.deepEqual(errors, []);
    // The page answers a second visit with the intent's state instead of a form.
    await page.goto(pi.checkoutUrl);
    await page.getByRole('status').getByText('This payment is Captured.').waitFor();
  });
});
