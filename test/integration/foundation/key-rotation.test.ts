import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startWebhook } from '../../../apps/webhook/src/main';
import { apiKeyAad, counterTokenAad, SecretBox, webhookSecretAad } from '@app/db';
import { sign } from '@app/domain/events/webhook-signature';
import type { LocationFixture, TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, fixtures, uniquePrefix } from '@app/testing';

const run = promisify(execFile);
const OLD_KEY = 'c3'.repeat(32);
const NEW_KEY = 'd4'.repeat(32);
const SECRET = 'whsec_rotation_test_0001';
const PAC_TOKEN = 'pac_token_rotation_0001';
/** This file runs from <out>/test/integration/foundation. */
const REENCRYPT = join(__dirname, '..', '..', '..', 'scripts', 'reencrypt-secrets.js');

/**
 * Rotating EPOS_RELAY_ENCRYPTION_KEY (docs/operations.md): the apps run with the
 * new key and the old one in EPOS_RELAY_ENCRYPTION_KEYS_OLD, reading old
 * ciphertexts; `npm run secrets:reencrypt` rewrites them under the new key;
 * after that the old key can go.
 */
describe('encryption key rotation with a key ring', () => {
  let db: TestDatabase;
  let loc: LocationFixture;
  const prefix = uniquePrefix('keyrot');

  before(async () => {
    db = await createTestDatabase('keyrot');
    // Everything stored under the old key.
    loc = await fixtures(db.prisma, new SecretBox(OLD_KEY)).location({ webhookSecrets: [SECRET] });
    // A pay-at-counter link beside it, its token under the old key too.
    await db.prisma.counterLink.create({
      data: {
        locationId: loc.id,
        settings: { hostAddress: 'h', environment: 'test', installerId: 'i', signatureDefault: 'decline', signatureWaitMs: 30_000 },
        tokenCiphertext: new Uint8Array(new SecretBox(OLD_KEY).encrypt(PAC_TOKEN, counterTokenAad(loc.id))),
        tokenLast4: PAC_TOKEN.slice(-4),
      },
    });
  });

  after(async () => {
    await db?.drop();
  });

  /** Posts a webhook signed with the location's secret to a webhook app running with these keys; its status. */
  async function webhookAccepted(key: string, oldKeys: string, eventId: string): Promise<number> {
    const app = await startWebhook(appEnv(db, { QUEUE_PREFIX: prefix, EPOS_RELAY_ENCRYPTION_KEY: key, EPOS_RELAY_ENCRYPTION_KEYS_OLD: oldKeys }));
    try {
      const raw = JSON.stringify({
        id: eventId,
        event: 'payment_intent.status_updated',
        accountId: loc.dojoAccountId,
        createdAt: new Date().toISOString(),
        data: { paymentIntentId: 'pi_rot', paymentStatus: 'Captured', captureMode: 'Auto' },
      });
      const res = await fetch(`${app.url}/webhooks/dojo`, { method: 'POST', headers: { 'content-type': 'application/json', 'Dojo-Signature': sign(SECRET, raw) }, body: raw });
      return res.status;
    } finally {
      await app.close();
    }
  }

  const reencrypt = async () =>
    (
      await run(process.execPath, [REENCRYPT], {
        env: { ...process.env, DATABASE_URL: db.url, EPOS_RELAY_ENCRYPTION_KEY: NEW_KEY, EPOS_RELAY_ENCRYPTION_KEYS_OLD: OLD_KEY },
      })
    ).stdout;

  it('serves with the new key while old ciphertexts remain, re-encrypts them, then needs only the new key', async () => {
    // The new key alone cannot read the old secret: the webhook is refused.
    assert.equal(await webhookAccepted(NEW_KEY, '', 'evt_rot_0'), 401);
    // New key + old key in the ring: accepted.
    assert.equal(await webhookAccepted(NEW_KEY, OLD_KEY, 'evt_rot_1'), 200);

    assert.match(await reencrypt(), /re-encrypted 3, already under the current key 0, changed meanwhile 0/);
    const onlyNew = new SecretBox(NEW_KEY);
    const row = await db.prisma.location.findUniqueOrThrow({ where: { id: loc.id } });
    assert.ok(onlyNew.isCurrent(row.apiKeyCiphertext));
    assert.equal(onlyNew.decrypt(row.apiKeyCiphertext, apiKeyAad(loc.id)), loc.apiKey);
    const secret = await db.prisma.webhookSecret.findFirstOrThrow({ where: { locationId: loc.id } });
    assert.equal(onlyNew.decrypt(secret.secretCiphertext, webhookSecretAad(secret.id)), SECRET);
    const link = await db.prisma.counterLink.findUniqueOrThrow({ where: { locationId: loc.id } });
    assert.equal(onlyNew.decrypt(link.tokenCiphertext, counterTokenAad(loc.id)), PAC_TOKEN);

    // The old key can go now, and a second run has nothing left to do.
    assert.equal(await webhookAccepted(NEW_KEY, '', 'evt_rot_2'), 200);
    assert.match(await reencrypt(), /re-encrypted 0, already under the current key 3/);
  });

  it('skips a secret no key of the ring decrypts, goes on with the rest, lists it and exits 2', async () => {
    // A location whose API key was written with a key that is in no ring, with a readable webhook secret after it
    // (a location's webhook secrets are re-encrypted after its key), and a retired secret copied from another row
    // (bound to that row: it does not decrypt here).
    const LOST_KEY = 'e5'.repeat(32);
    const lost = await fixtures(db.prisma, new SecretBox(LOST_KEY)).location();
    const readable = await fixtures(db.prisma, new SecretBox(OLD_KEY)).webhookSecret(lost.id, 'whsec_readable_after_a_lost_key');
    const copied = await fixtures(db.prisma, new SecretBox(OLD_KEY)).webhookSecret(lost.id, 'whsec_copied_0001', 'retired');
    const source = await db.prisma.webhookSecret.findUniqueOrThrow({ where: { id: readable.id } });
    await db.prisma.webhookSecret.update({ where: { id: copied.id }, data: { secretCiphertext: source.secretCiphertext } });

    const failed = await reencrypt().then(
      () => assert.fail('the run must fail while a secret is unreadable'),
      (err: { code?: number; stdout: string; stderr: string }) => err,
    );
    assert.equal(failed.code, 2, failed.stderr);
    assert.match(failed.stdout, /re-encrypted 1, already under the current key 3, changed meanwhile 0, unreadable 2/);
    const listed = failed.stderr.split('\n').filter((l) => l.includes('unreadable:'));
    assert.equal(listed.length, 2, failed.stderr);
    assert.ok(listed.some((l) => l.includes(`location ${lost.id} api-key:`) && /not in the key ring/.test(l)), failed.stderr);
    assert.ok(listed.some((l) => l.includes(`location ${lost.id} webhook-secret ${copied.id} (retired):`)), failed.stderr);
    for (const secret of [lost.apiKey, 'whsec_readable_after_a_lost_key', 'whsec_copied_0001']) assert.ok(!`${failed.stdout}${failed.stderr}`.includes(secret), 'no secret is printed');
    // The readable secret after the lost key was still re-encrypted; the unreadable ones are as they were.
    const after = await db.prisma.webhookSecret.findUniqueOrThrow({ where: { id: readable.id } });
    assert.equal(new SecretBox(NEW_KEY).decrypt(after.secretCiphertext, webhookSecretAad(readable.id)), 'whsec_readable_after_a_lost_key');
    const lostRow = await db.prisma.location.findUniqueOrThrow({ where: { id: lost.id } });
    assert.equal(new SecretBox(LOST_KEY).decrypt(lostRow.apiKeyCiphertext, apiKeyAad(lost.id)), lost.apiKey);
  });
});
