import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { SecretBox } from '@app/db';

const OLD = 'a1'.repeat(32);
const NEW = randomBytes(32).toString('base64');

/** A ciphertext in the layout written before the key ring: [1][iv][tag][ciphertext], no key id. */
function legacy(keyHex: string, plaintext: string, aad: string): Uint8Array {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', Buffer.from(keyHex, 'hex'), iv);
  c.setAAD(Buffer.from(aad));
  const body = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return new Uint8Array(Buffer.concat([Buffer.from([1]), iv, c.getAuthTag(), body]));
}

describe('SecretBox key ring (EPOS_RELAY_ENCRYPTION_KEY + EPOS_RELAY_ENCRYPTION_KEYS_OLD)', () => {
  it('supports the two-phase rollout of docs/operations.md: a pod with the new key only in _OLD reads what a promoted pod writes', () => {
    const readPhase = new SecretBox(OLD, [NEW]); // rolled first: still writes with the old key
    const writePhase = new SecretBox(NEW, [OLD]); // rolled second
    assert.equal(readPhase.isCurrent(readPhase.encrypt('x', 'a')), true, 'the read phase writes with the old key');
    assert.equal(readPhase.decrypt(writePhase.encrypt('sk_sandbox_new', 'api-key:L2'), 'api-key:L2'), 'sk_sandbox_new');
    assert.equal(writePhase.decrypt(readPhase.encrypt('sk_sandbox_mid', 'api-key:L3'), 'api-key:L3'), 'sk_sandbox_mid');
  });

  it('reads ciphertexts of an old key, writes new ones with the current key, and tells which are current', () => {
    const before = new SecretBox(OLD);
    const oldCipher = before.encrypt('sk_sandbox_old', 'api-key:L1');
    const legacyCipher = legacy(OLD, 'whsec_legacy', 'webhook-secret:S1');
    const ring = new SecretBox(NEW, [OLD]);
    assert.equal(ring.decrypt(oldCipher, 'api-key:L1'), 'sk_sandbox_old');
    assert.equal(ring.decrypt(legacyCipher, 'webhook-secret:S1'), 'whsec_legacy', 'the pre-ring layout stays readable');
    assert.equal(ring.isCurrent(oldCipher), false);
    assert.equal(ring.isCurrent(legacyCipher), false);
    const fresh = ring.encrypt('sk_sandbox_old', 'api-key:L1');
    assert.equal(ring.isCurrent(fresh), true);
    // The new ciphertext needs only the new key; the old key alone cannot read it.
    assert.equal(new SecretBox(NEW).decrypt(fresh, 'api-key:L1'), 'sk_sandbox_old');
    assert.throws(() => before.decrypt(fresh, 'api-key:L1'), /not in the key ring/);
    // Without the old key in the ring, old ciphertexts are refused, never misread.
    assert.throws(() => new SecretBox(NEW).decrypt(oldCipher, 'api-key:L1'), /not in the key ring/);
    assert.throws(() => new SecretBox(NEW).decrypt(legacyCipher, 'webhook-secret:S1'));
    // The associated data still binds a value to its row, whichever key made it.
    assert.throws(() => ring.decrypt(oldCipher, 'api-key:L2'));
    assert.throws(() => ring.decrypt(legacyCipher, 'webhook-secret:S2'));
  });
});
