import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SecretBox } from '@app/db';
import type { TestDatabase } from '@app/testing';
import { TEST_ENCRYPTION_KEY } from '@app/testing';
import type { DojoStandIn } from './support/dojo-stand-in';
import type { AdminStand } from './support/admin-stand';
import { newSoftwareHouse, startAdminStand } from './support/admin-stand';
import type { Api } from './support/helpers';
import { sandboxKey } from './support/helpers';

/**
 * POST /v1/locations/{id}/webhook-subscription against a Dojo stand-in that, like Dojo, makes a new subscription per
 * POST /webhooks: never more than one POST per call, a subscription made behind a lost answer found and stored.
 */
describe('webhook subscription with Dojo', () => {
  let db: TestDatabase;
  let dojo: DojoStandIn;
  let api: Api;
  let softwareHouseId: string;
  const hookUrl = 'https://hooks.example.com/dojo';
  const posts = (key: string) => dojo.find((r) => r.method === 'POST' && r.path === '/webhooks' && r.headers.authorization === `Basic ${key}`);

  let stand: AdminStand;

  before(async () => {
    stand = await startAdminStand('webhooksub');
    ({ db, dojo, api } = stand);
    softwareHouseId = await newSoftwareHouse(api, 'Hooks Ltd');
  });

  after(async () => {
    await stand?.close();
  });

  const onboard = async (apiKey: string, extra: Record<string, unknown> = {}) => {
    const res = await api('POST', '/v1/locations', {
      body: { name: 'The Hook', softwareHouseId, dojoAccountId: `acc${Math.random().toString(36).slice(2)}`, apiKey, ...extra },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body as { id: string };
  };

  it('posts once when Dojo made the subscription but the answer was lost, and stores that subscription\'s secret', async () => {
    const key = sandboxKey();
    const loc = await onboard(key);
    // Dojo makes it, then the answer fails (a 503 from a proxy after the fact, say).
    const stop = dojo.respond((r) => (r.method === 'POST' && r.path === '/webhooks' ? (dojo.subscribe(r), { status: 503, body: { title: 'unavailable' } }) : undefined));
    const res = await api('POST', `/v1/locations/${loc.id}/webhook-subscription`, { body: { url: hookUrl } });
    stop();
    assert.equal(posts(key).length, 1, 'POST /webhooks is never sent twice: each one makes a subscription');
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const made = dojo.subscriptions.filter((s) => s.url === hookUrl).at(-1)!;
    assert.equal(res.body.subscriptionId, made.id);
    assert.equal(res.body.adopted, true);
    const rows = await db.prisma.webhookSecret.findMany({ where: { locationId: loc.id } });
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.dojoSubscriptionId, made.id);
    assert.equal(new SecretBox(TEST_ENCRYPTION_KEY).decrypt(rows[0]!.secretCiphertext, `webhook-secret:${rows[0]!.id}`), made.secrets[0]!.value);

    // Subscribing again makes a new subscription (the stored one is not taken twice).
    const again = await api('POST', `/v1/locations/${loc.id}/webhook-subscription`, { body: { url: hookUrl } });
    assert.equal(again.status, 201, JSON.stringify(again.body));
    assert.equal(again.body.adopted, false);
    assert.notEqual(again.body.subscriptionId, made.id);
    assert.equal(posts(key).length, 2);
  });

  it('answers 502 after one POST when Dojo failed and made nothing, and a later call posts again', async () => {
    const key = sandboxKey();
    const loc = await onboard(key);
    const stop = dojo.respond((r) => (r.method === 'POST' && r.path === '/webhooks' ? { status: 500, body: { title: 'boom' } } : undefined));
    const res = await api('POST', `/v1/locations/${loc.id}/webhook-subscription`, { body: { url: hookUrl } });
    stop();
    assert.equal(res.status, 502, JSON.stringify(res.body));
    assert.equal(res.body.dojoStatus, 500);
    assert.equal(posts(key).length, 1);
    assert.equal(await db.prisma.webhookSecret.count({ where: { locationId: loc.id } }), 0);
    const ok = await api('POST', `/v1/locations/${loc.id}/webhook-subscription`, { body: { url: hookUrl } });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.equal(posts(key).length, 2);
    assert.equal(await db.prisma.webhookSecret.count({ where: { locationId: loc.id, dojoSubscriptionId: ok.body.subscriptionId } }), 1);
  });

  it('refuses with 400 a location whose secret is not a Dojo API key, and sends Dojo nothing', async () => {
    const tablesKey = 'tables-key-0123456789';
    const tables = await onboard(tablesKey, { protocol: 'dojo-tables' });
    const connectToken = 'connect-token-0123456789';
    const pat = await onboard(connectToken, { protocol: 'connect-pat', connectPat: { hostAddress: 'venue-host', installerId: 'inst-1' } });
    for (const loc of [tables, pat]) {
      const res = await api('POST', `/v1/locations/${loc.id}/webhook-subscription`, { body: { url: hookUrl } });
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.deepEqual(res.body.fields.map((f: { field: string }) => f.field), ['protocol']);
    }
    const leaked = dojo.find((r) => [tablesKey, connectToken].some((k) => String(r.headers.authorization ?? '').includes(k)));
    assert.deepEqual(leaked.map((r) => `${r.method} ${r.path}`), []);
    assert.equal(await db.prisma.webhookSecret.count({ where: { locationId: { in: [tables.id, pat.id] } } }), 0);
  });
});
