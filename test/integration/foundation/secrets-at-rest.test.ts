import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { apiKeyAad, SecretBox } from '@app/db';
import type { TestDatabase } from '@app/testing';
import { createTestDatabase, TEST_ENCRYPTION_KEY } from '@app/testing';

describe('secrets at rest', () => {
  let db: TestDatabase;
  const box = new SecretBox(TEST_ENCRYPTION_KEY);
  before(async () => (db = await createTestDatabase('secrets')));
  after(async () => db.drop());

  it('stores a Dojo API key only as ciphertext that never contains the key', async () => {
    const apiKey = 'sk_sandbox_' + 'c2VjcmV0LWtleS1mb3ItdGVzdHM'.repeat(2);
    const sh = await db.prisma.softwareHouse.create({ data: { name: 'SH', dojoSoftwareHouseId: 'sh-secrets' } });
    const id = '7b0c9a52-7f39-4f0c-9f5c-2f4a0d9c1e11';
    await db.prisma.location.create({
      data: {
        id, softwareHouseId: sh.id, name: 'Venue', dojoAccountId: 'acc_secrets', environment: 'sandbox',
        apiKeyCiphertext: box.encrypt(apiKey, apiKeyAad(id)), apiKeyLast4: apiKey.slice(-4), capabilities: [],
      },
    });
    // Read the raw row with plain SQL, every column as text and as bytes.
    const c = new Client({ connectionString: db.url });
    await c.connect();
    try {
      const { rows } = await c.query('SELECT * FROM locations WHERE id = $1', [id]);
      const raw = rows[0] as Record<string, unknown>;
      const bytes = raw.api_key_ciphertext as Buffer;
      assert.ok(Buffer.isBuffer(bytes) && bytes.length > apiKey.length);
      for (const needle of [apiKey, apiKey.slice(11), Buffer.from(apiKey).toString('base64'), Buffer.from(apiKey).toString('hex')]) {
        assert.equal(bytes.includes(Buffer.from(needle)), false, 'ciphertext contains the key');
        assert.equal(JSON.stringify(raw, (_k, v) => (Buffer.isBuffer(v) ? v.toString('latin1') : v)).includes(needle), false);
      }
      // ...and it decrypts only for this location.
      assert.equal(box.decrypt(bytes, apiKeyAad(id)), apiKey);
      assert.throws(() => box.decrypt(bytes, apiKeyAad('another-location')));
    } finally {
      await c.end();
    }
  });

  it('uses a fresh nonce per encryption and detects tampering', () => {
    const a = box.encrypt('sk_prod_same', 'aad');
    const b = box.encrypt('sk_prod_same', 'aad');
    assert.notDeepEqual(a, b);
    const tampered = Buffer.from(a);
    tampered[tampered.length - 1]! ^= 1;
    assert.throws(() => box.decrypt(tampered, 'aad'));
    assert.throws(() => new SecretBox('too-short'), /32 bytes/);
  });
});
