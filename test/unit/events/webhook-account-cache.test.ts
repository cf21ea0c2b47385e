/** WebhookAccountCache (libs/domain/src/events/usecases/accept-dojo-webhook.cache.ts) over an in-memory store. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@app/common';
import { SecretBox, webhookSecretAad } from '@app/db';
import { WebhookAccountCache } from '@app/domain/events/usecases/accept-dojo-webhook.cache';
import type { WebhookAccountsRepository } from '@app/domain/repositories/webhook-accounts.repository';

describe('webhook account cache', () => {
  it("deliveries for unknown accounts do not keep a real account's concurrent lookup from being cached", async () => {
    const box = new SecretBox(SecretBox.developmentKey());
    const secret = { id: 'sec-1', secretCiphertext: new Uint8Array(box.encrypt('whsec', webhookSecretAad('sec-1'))) };
    const reads: string[] = [];
    const repository = {
      async locationIdOfAccount(accountId: string) {
        reads.push(accountId);
        if (accountId !== 'acc_real') return undefined;
        await new Promise((r) => setTimeout(r, 30)); // still reading when the junk delivery is refused
        return 'loc-1';
      },
      async activeSecrets() {
        return [secret];
      },
    } as unknown as WebhookAccountsRepository;
    const cache = new WebhookAccountCache(repository, box, createLogger('test', 'silent'), { ttlMs: 60_000 });
    const [real, junk] = await Promise.all([cache.load('acc_real'), new Promise((r) => setTimeout(r, 5)).then(() => cache.load('acc_junk'))]);
    assert.deepEqual(real, { locationId: 'loc-1', secrets: ['whsec'] });
    assert.equal(junk, null);
    assert.deepEqual(await cache.load('acc_real'), real);
    assert.deepEqual(reads, ['acc_real', 'acc_junk'], 'the second lookup of the real account came from the cache');
    // A forget still keeps a lookup that started before it from storing what it read.
    const slow = cache.load('acc_real', true);
    cache.forgetLocation('loc-1');
    await slow;
    await cache.load('acc_real');
    assert.deepEqual(reads, ['acc_real', 'acc_junk', 'acc_real', 'acc_real']);
  });
});
