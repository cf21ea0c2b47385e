import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { RunningApp } from '@app/common';
import { ALL_CAPABILITIES } from '@app/contracts';
import { DojoSandbox } from '@app/dojo-sandbox';
import type { Fixtures, LocationFixture, TestDatabase} from '@app/testing';
import { appEnv, createTestDatabase, fixtures, testRedisUrl, uniquePrefix, waitFor } from '@app/testing';
import { startAdmin } from '../../../apps/admin/src/main';
import { startGateway } from '../../../apps/gateway/src/main';
import { startWorker } from '../../../apps/worker/src/main';
import { launchChromium, skipWithoutChromium } from '../../support/browser';
import { CuttableProxy } from '../../support/cuttable-proxy';

const TOKEN = 'operator-token-console-browser-01';
const ARTIFACTS = join(process.cwd(), '.epos-relay', 'artifacts');
const noChromium = skipWithoutChromium('the console browser test');

/**
 * The operator console in a real browser (Debian's chromium driven by
 * playwright-core, headless) against the admin, gateway and worker apps and the
 * Dojo sandbox: sign-in, the live fleet with a dark venue, a connected venue's
 * recent requests with their latencies, a keyboard-only path to the dark venue,
 * a reconnect once its key is accepted (the state turns open without a reload),
 * and a dead Dojo event replayed (skipped while the dead-letter API is absent).
 */
describe('operator console in a browser', { skip: noChromium }, () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let sim: DojoSandbox;
  let admin: RunningApp;
  let worker: RunningApp;
  let gateway: RunningApp;
  let browser: Browser;
  let page: Page;
  let alpha: LocationFixture;
  let dark: LocationFixture;
  let closed: LocationFixture;
  let shDojoId: string;
  /** The admin's way to Redis (the gateway and worker go direct), cut to play an outage the admin sees. */
  let proxy: CuttableProxy;
  const pageErrors: string[] = [];

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${admin.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as any };
  };
  const row = (name: string) => page.locator('#fleet-table tbody tr', { has: page.getByRole('link', { name, exact: true }) });
  const summary = (field: string) => page.locator(`#location-summary dd[data-field="${field}"]`);

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    db = await createTestDatabase('console');
    fx = fixtures(db.prisma);
    sim = await DojoSandbox.start({ port: 0, pingIntervalMs: 1_000 });
    const sh = await fx.softwareHouse();
    shDojoId = sh.dojoSoftwareHouseId;
    alpha = await fx.location({ softwareHouseId: sh.id, name: 'Alpha Arms' });
    dark = await fx.location({ softwareHouseId: sh.id, name: 'Dark Tavern' });
    closed = await fx.location({ softwareHouseId: sh.id, name: 'Closed Cellar', enabled: false });
    await db.prisma.location.updateMany({ data: { registrationState: 'registered', capabilities: ALL_CAPABILITIES } });
    // Dojo knows Alpha's key (capabilities registered) but not Dark Tavern's: its handshake is refused (401).
    sim.addAccount({ apiKey: alpha.apiKey, softwareHouseId: shDojoId, accountId: alpha.dojoAccountId, capabilities: ALL_CAPABILITIES });
    const env = appEnv(db, {
      QUEUE_PREFIX: uniquePrefix('console'),
      ADMIN_OPERATOR_TOKENS: TOKEN,
      DOJO_WS_URL: sim.wsUrl,
      DOJO_API_URL: sim.url,
      GATEWAY_PING_INTERVAL_MS: '1000',
      GATEWAY_AUTH_BACKOFF_MS: '60000', // a refused venue stays dark until the operator acts
      GATEWAY_LEASE_TTL_MS: '2000',
    });
    proxy = await new CuttableProxy().start(new URL(testRedisUrl()));
    admin = await startAdmin({ ...env, REDIS_URL: `redis://127.0.0.1:${proxy.port}` });
    worker = await startWorker(env);
    gateway = await startGateway(env);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      // The browser logs every 4xx it fetched (the refused sign-in, a 404 from an absent route); those are expected.
      if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) pageErrors.push(`console: ${m.text()}`);
    });
    page.setDefaultTimeout(15_000);
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await gateway?.close().catch(() => undefined);
    await worker?.close().catch(() => undefined);
    await admin?.close().catch(() => undefined);
    await sim?.close().catch(() => undefined);
    await proxy?.cut().catch(() => undefined);
    await db?.drop();
  });

  it('signs in with a token typed into the form, never putting it in the URL', async () => {
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    await page.goto(`${admin.url}/console`);
    await page.getByLabel('Operator token').fill('not-the-operator-token-at-all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That operator token is not valid.').waitFor();
    await page.getByLabel('Operator token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Fleet', level: 2 }).waitFor();
    assert.equal(await page.evaluate("sessionStorage.getItem('epos-relay.console.token')"), TOKEN);
    assert.ok(requested.every((u) => !u.includes(TOKEN)), 'no request URL carries the token');
    assert.equal(await page.getByLabel('Operator token').inputValue(), '', 'the field is cleared');
  });

  it('shows the fleet live: the connected venue open, the refused one dark, filters by state', async () => {
    await waitFor(async () => (await row('Alpha Arms').getAttribute('data-state')) === 'open', 'Alpha Arms open in the fleet', 20_000);
    await waitFor(async () => (await row('Dark Tavern').getAttribute('data-state')) === 'auth_failed', 'Dark Tavern auth_failed', 20_000);
    const alphaCells = await row('Alpha Arms').locator('td').allTextContents();
    assert.equal(alphaCells[1], alpha.dojoAccountId);
    assert.equal(alphaCells[2], 'epos-data');
    assert.match(alphaCells[4] ?? '', /\S/, 'an owning replica is shown');
    await page.getByLabel('Connection state').selectOption('dark');
    const names = await page.locator('#fleet-table tbody tr td:first-child').allTextContents();
    assert.deepEqual(names, ['Closed Cellar', 'Dark Tavern']);
    await page.getByLabel('Connection state').selectOption('');
    // Search by Dojo account.
    await page.getByLabel('Search name or Dojo account').fill(dark.dojoAccountId);
    assert.deepEqual(await page.locator('#fleet-table tbody tr td:first-child').allTextContents(), ['Dark Tavern']);
    await page.getByLabel('Search name or Dojo account').fill('');
    // Markup a screen reader and a keyboard can use: landmarks, one h1, named controls, captioned tables with header cells.
    const audit = await page.evaluate<Record<string, unknown>>(`(() => {
      const named = (e) => (e.labels && e.labels.length > 0) || e.getAttribute('aria-label') || (e.tagName === 'BUTTON' && e.textContent.trim());
      return {
        banner: document.querySelectorAll('header[role=banner], body > header').length,
        main: document.querySelectorAll('main').length,
        h1: document.querySelectorAll('h1').length,
        unnamed: [...document.querySelectorAll('input, select, button')].filter((e) => !named(e)).map((e) => e.outerHTML),
        tablesWithoutCaption: [...document.querySelectorAll('table')].filter((t) => !t.caption).length,
        headerCellsWithoutScope: document.querySelectorAll('thead th:not([scope=col])').length,
        positiveTabindex: document.querySelectorAll('[tabindex]:not([tabindex="-1"]):not([tabindex="0"])').length,
      };
    })()`);
    assert.deepEqual(audit, { banner: 1, main: 1, h1: 1, unnamed: [], tablesWithoutCaption: 0, headerCellsWithoutScope: 0, positiveTabindex: 0 });
    await page.screenshot({ path: join(ARTIFACTS, 'console-fleet.png'), fullPage: true });
  });

  it('while the admin cannot read the live states (Redis away) the page says it is not live and shows them unknown; live again after', async () => {
    assert.equal(await page.locator('#live').textContent(), 'Live');
    await proxy.cut();
    try {
      await page.locator('#live', { hasText: /^Not live: connection states cannot be read/ }).waitFor();
      await waitFor(async () => (await row('Alpha Arms').getAttribute('data-state')) === 'unknown', 'Alpha Arms unknown, not open', 10_000);
      assert.equal(await page.locator('#updated').textContent(), '', 'no "updated" time while not live');
    } finally {
      await proxy.restore();
    }
    await page.locator('#live', { hasText: /^Live$/ }).waitFor({ timeout: 20_000 });
    await waitFor(async () => (await row('Alpha Arms').getAttribute('data-state')) === 'open', 'Alpha Arms open again', 20_000);
  });

  it("lists a connected venue's last requests with their latencies and outcomes", async () => {
    const order = await fx.order(alpha.id, { tableId: undefined });
    for (let i = 0; i < 3; i++) {
      const r = await sim.call(alpha.dojoAccountId, 'SearchOrdersV1', { payableOnly: true });
      assert.ok(!('error' in r), JSON.stringify(r));
    }
    const ok = await sim.call(alpha.dojoAccountId, 'GetOrderByIdV1', { orderId: order.id });
    assert.ok(!('error' in ok), JSON.stringify(ok));
    const missing = await sim.call(alpha.dojoAccountId, 'GetOrderByIdV1', { orderId: 'no-such-order' });
    assert.ok('error' in missing, 'an unknown order is an error');
    const recorded = await waitFor(async () => {
      const r = await api('GET', `/v1/locations/${alpha.id}/requests`);
      return r.body?.items?.length >= 5 ? r.body : undefined;
    }, 'five requests recorded');
    assert.equal(recorded.errorsLast5m, 1);

    await row('Alpha Arms').getByRole('link').click();
    await page.getByRole('heading', { name: 'Alpha Arms', level: 2 }).waitFor();
    const rows = page.locator('#requests-table tbody tr');
    await waitFor(async () => (await rows.count()) >= 5, 'requests in the table');
    const cells = await Promise.all((await rows.all()).map((r) => r.locator('td').allTextContents()));
    const methods = cells.map((c) => c[1]);
    assert.equal(methods.filter((m) => m === 'SearchOrdersV1').length, 3);
    assert.equal(methods.filter((m) => m === 'GetOrderByIdV1').length, 2);
    for (const c of cells) assert.match(c[3] ?? '', /^\d+ ms$/, `latency shown: ${c[3]}`);
    const failed = cells.filter((c) => c[4] === 'error');
    assert.equal(failed.length, 1);
    assert.equal(failed[0]?.[5], 'NotFound');
    assert.match(await page.locator('#requests-note').textContent() ?? '', /1 error\(s\) in the last 5 minutes/);
    assert.equal((await summary('Connection state').textContent())?.trim(), 'open');
    await page.screenshot({ path: join(ARTIFACTS, 'console-location.png'), fullPage: true });
  });

  it('keyboard only: Tab to the search box, type, Enter, and Enter again opens the dark venue', async () => {
    await db.prisma.outboxEvent.createMany({
      data: Array.from({ length: 60 }, (_, i) => ({ locationId: dark.id, eventType: 'OrderUpdated', entityType: 'order', entityId: `dark-${i}`, payload: {} })),
    });
    await page.goto(`${admin.url}/console#/`);
    await page.getByRole('heading', { name: 'Fleet', level: 2 }).waitFor();
    await waitFor(async () => (await page.locator('#fleet-table tbody tr').count()) === 3, 'fleet loaded');
    let tabs = 0;
    while ((await page.evaluate('document.activeElement && document.activeElement.id')) !== 'search') {
      assert.ok(++tabs <= 10, 'the search box is reached within ten Tab presses');
      await page.keyboard.press('Tab');
    }
    await page.keyboard.type('dark');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate('document.activeElement && document.activeElement.textContent'), 'Dark Tavern', 'focus moved to the first match');
    assert.equal(await page.locator('#fleet-table tbody tr').count(), 1);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Dark Tavern', level: 2 }).waitFor();
    assert.equal(await page.evaluate('document.activeElement && document.activeElement.id'), 'location-title', 'focus moves to the page heading');
    assert.equal((await summary('Connection state').textContent())?.trim(), 'auth_failed');
    assert.match((await summary('Last error').textContent()) ?? '', /401/);
    // Its outbox, newest first, 50 at a time: the keyboard reaches "Show more".
    await waitFor(async () => (await page.locator('#outbox-table tbody tr').count()) === 50, 'the first 50 outbox rows');
    assert.equal(await page.locator('#outbox-table tbody tr td:nth-child(3)').first().textContent(), 'order dark-59');
    await page.getByRole('button', { name: 'Show more outbox events' }).focus();
    await page.keyboard.press('Enter');
    await waitFor(async () => (await page.locator('#outbox-table tbody tr').count()) === 60, 'all 60 outbox rows');
    assert.equal(await page.getByRole('button', { name: 'Show more outbox events' }).isHidden(), true, 'nothing more to show');
  });

  it('reconnect now, once Dojo accepts the key: the state turns open live, without a reload', async () => {
    await page.evaluate('window.__noReload = true');
    sim.addAccount({ apiKey: dark.apiKey, softwareHouseId: shDojoId, accountId: dark.dojoAccountId, capabilities: ALL_CAPABILITIES });
    const asked = Date.now();
    await page.getByRole('button', { name: 'Reconnect now' }).click();
    await page.getByText(/Reconnect requested \(1 gateway replica/).waitFor();
    await waitFor(async () => (await summary('Connection state').textContent())?.trim() === 'open', 'Dark Tavern open on the page', 15_000);
    assert.ok(Date.now() - asked < 10_000, `open ${Date.now() - asked} ms after the click (auth backoff was 60 s)`);
    assert.equal(await page.evaluate('window.__noReload'), true, 'no reload');
    assert.equal(sim.connectionsFor(dark.dojoAccountId), 1);
    // The fleet agrees.
    await page.getByRole('link', { name: /Back to the fleet/ }).click();
    await waitFor(async () => (await row('Dark Tavern').getAttribute('data-state')) === 'open', 'open in the fleet');
  });

  it('enables a disabled venue, rotates its key (shown once, never again) and disables it, each seen live', async () => {
    await page.getByLabel('Search name or Dojo account').fill(''); // the keyboard step's filter is still set
    await row('Closed Cellar').getByRole('link').click();
    await page.getByRole('heading', { name: 'Closed Cellar', level: 2 }).waitFor();
    await waitFor(async () => (await summary('Connection state').textContent())?.trim() === 'disabled', 'disabled');
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.getByText('Location enabled.').waitFor();
    // Dojo does not know its key: it goes dark, live.
    await waitFor(async () => (await summary('Connection state').textContent())?.trim() === 'auth_failed', 'auth_failed after enabling', 15_000);

    const newKey = `sk_sandbox_console_${Date.now().toString(36)}_rotated`;
    sim.addAccount({ apiKey: newKey, softwareHouseId: shDojoId, accountId: closed.dojoAccountId, capabilities: ALL_CAPABILITIES });
    await page.getByLabel('New Dojo API key').fill(newKey);
    await page.getByRole('button', { name: 'Rotate key' }).click();
    await page.getByText(`Key rotated; it ends in …${newKey.slice(-4)}`).waitFor();
    assert.equal(await page.getByLabel('New Dojo API key').inputValue(), '', 'the field is cleared');
    assert.ok(!(await page.content()).includes(newKey), 'the key is nowhere on the page');
    assert.equal((await summary('API key').textContent())?.trim(), `…${newKey.slice(-4)}`);
    await waitFor(async () => (await summary('Connection state').textContent())?.trim() === 'open', 'open with the new key', 15_000);

    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByText('Location disabled.').waitFor();
    await waitFor(async () => (await summary('Connection state').textContent())?.trim() === 'disabled', 'disabled again, live', 15_000);
    await waitFor(() => sim.connectionsFor(closed.dojoAccountId) === 0, 'its socket closed at Dojo');
    await page.getByRole('link', { name: /Back to the fleet/ }).click();
  });

  it('replays a dead Dojo event and sees it applied', async (t) => {
    const probe = await api('GET', `/v1/dead-letters?locationId=${alpha.id}`);
    if (probe.status === 404) {
      // The page says so instead of failing.
      await page.goto(`${admin.url}/console#/locations/${alpha.id}`);
      await page.getByText('Dead letters unavailable').waitFor();
      t.skip('the dead-letter API (GET /v1/dead-letters) answers 404 here: the replay step runs once it is merged');
      return;
    }
    assert.equal(probe.status, 200, JSON.stringify(probe.body));
    // A Dojo event for a recorded payment, applied, then made dead as the events worker does after its last attempt.
    const order = await fx.order(alpha.id);
    const { paymentIntentId } = await fx.payment(alpha.id, order.id, { amount: 1000 });
    const sent = await sim.sendPaymentEvent(
      alpha.dojoAccountId,
      { event: 'payment_intent.status_updated', data: { paymentIntentId, paymentStatus: 'Captured' } },
      { webhook: false, socket: true },
    );
    const ev = await waitFor(
      () => db.prisma.dojoEvent.findFirst({ where: { locationId: alpha.id, eventId: sent.event.id, state: 'applied' } }),
      'the event applied',
    );
    await db.prisma.$executeRawUnsafe(
      `UPDATE dojo_events SET state = 'dead', dead_at = now(), attempts = 5, last_error = 'console test: made dead' WHERE id = $1::uuid`,
      ev.id,
    );
    await page.goto(`${admin.url}/console#/locations/${alpha.id}`);
    const deadRow = page.locator(`#dead-table tbody tr[data-dead-id="dojo-event:${ev.id}"]`);
    await deadRow.waitFor();
    await page.locator(`#events-table tbody tr[data-event-id="${sent.event.id}"][data-state="dead"]`).waitFor();
    await deadRow.getByRole('button', { name: /Replay/ }).click();
    await page.getByText('Dead letter requeued.').waitFor();
    await page.locator(`#events-table tbody tr[data-event-id="${sent.event.id}"][data-state="applied"]`).waitFor({ timeout: 20_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'console-dead-letters.png'), fullPage: true });
  });

  it("shows a venue's pay-at-counter link and its last transactions", async () => {
    const counter = await fx.location({ name: 'Counter Corner', enabled: false });
    assert.equal((await api('PUT', `/v1/locations/${counter.id}/counter-link`, { hostAddress: 'corner', installerId: 'inst', token: 'pac_console_9876' })).status, 200);
    await db.prisma.counterTransaction.create({
      data: { id: '6f1f6c3e-6a43-4d5c-9a59-3f4b8a2a0001', locationId: counter.id, idempotencyKey: 'k1', requestHash: 'h', kind: 'sale', tid: 'VT-7', amount: 1250n, currency: 'GBP', state: 'finished', result: 'SUCCESSFUL', expiresAt: new Date() },
    });
    // Older ones in currencies with no and three minor digits: amounts are shown in the currency's own unit.
    const earlier = (s: number) => new Date(Date.now() - s * 1000);
    await db.prisma.counterTransaction.create({
      data: { id: '6f1f6c3e-6a43-4d5c-9a59-3f4b8a2a0002', locationId: counter.id, idempotencyKey: 'k2', requestHash: 'h', kind: 'sale', tid: 'VT-7', amount: 1250n, currency: 'JPY', state: 'finished', result: 'SUCCESSFUL', expiresAt: new Date(), createdAt: earlier(60) },
    });
    await db.prisma.counterTransaction.create({
      data: { id: '6f1f6c3e-6a43-4d5c-9a59-3f4b8a2a0003', locationId: counter.id, idempotencyKey: 'k3', requestHash: 'h', kind: 'sale', tid: 'VT-7', amount: 12345n, currency: 'KWD', state: 'finished', result: 'SUCCESSFUL', expiresAt: new Date(), createdAt: earlier(120) },
    });
    await page.goto(`${admin.url}/console#/locations/${counter.id}`);
    await page.getByRole('heading', { name: 'Pay at counter', level: 3 }).waitFor();
    assert.equal(await page.locator('#counter-summary dd[data-field="Token"]').textContent(), '…9876');
    assert.equal(await page.locator('#counter-summary dd[data-field="Host"]').textContent(), 'corner');
    const cells = await page.locator('#counter-transactions-table tbody tr').first().locator('td').allTextContents();
    assert.deepEqual(cells.slice(1, 7), ['VT-7', 'sale', '12.50 GBP', '—', 'finished', 'SUCCESSFUL']);
    const amounts = await page.locator('#counter-transactions-table tbody tr td:nth-child(4)').allTextContents();
    assert.deepEqual(amounts, ['12.50 GBP', '1250 JPY', '12.345 KWD']);
    await page.goto(`${admin.url}/console#/locations/${alpha.id}`);
    await page.getByRole('heading', { name: 'Alpha Arms', level: 2 }).waitFor();
    assert.equal(await page.locator('#counter-section').isHidden(), true, 'no counter section without a link');
  });

  it('signs out: the token is gone and the live socket is closed', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in', level: 2 }).waitFor();
    assert.equal(await page.evaluate("sessionStorage.getItem('epos-relay.console.token')"), null);
    assert.deepEqual(pageErrors, [], 'no script errors on the page');
  });

  it("its content security policy lets the page open sockets to the admin's own origin only", async () => {
    // The console's own socket worked above (the fleet went live); one to another origin is refused by the policy.
    const other = await browser.newPage();
    try {
      await other.goto(`${admin.url}/console`);
      const elsewhere = admin.url.replace(/^http:\/\/127\.0\.0\.1/, 'ws://localhost') + '/console/ws';
      assert.notEqual(elsewhere, admin.url.replace(/^http/, 'ws') + '/console/ws', 'another origin');
      // A string: the tests are compiled without the DOM's types.
      const blocked = await other.evaluate<string | null>(`new Promise((resolve) => {
        document.addEventListener('securitypolicyviolation', (e) => resolve(e.violatedDirective + ' ' + e.blockedURI));
        try { new WebSocket(${JSON.stringify(elsewhere)}); } catch { /* some engines throw as well */ }
        setTimeout(() => resolve(null), 3000);
      })`);
      assert.match(blocked ?? 'not blocked', /^connect-src /);
    } finally {
      await other.close();
    }
  });
});
