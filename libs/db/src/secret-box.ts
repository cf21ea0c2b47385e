import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** [1][iv][tag][ct]: written before the key ring; decrypted by trying each key of the ring. */
const V1 = 1;
/** [2][key id:4][iv][tag][ct]: the key id names the ring key that encrypted it. */
const V2 = 2;
const KEY_ID_BYTES = 4;
const IV_BYTES = 12;
const TAG_BYTES = 16;

interface RingKey {
  id: Buffer;
  key: Buffer;
}

function parseKey(keyMaterial: string): Buffer {
  const raw = /^[0-9a-fA-F]{64}$/.test(keyMaterial)
    ? Buffer.from(keyMaterial, 'hex')
    : /^[A-Za-z0-9+/]{43}=$/.test(keyMaterial)
      ? Buffer.from(keyMaterial, 'base64')
      : undefined;
  if (!raw || raw.length !== 32) {
    throw new Error('the encryption key must be 32 bytes, given as 64 hex characters or 44 base64 characters');
  }
  return raw;
}

/**
 * Encryption keys anyone can read: the development key (`npm start`, the tests) and the one docker-compose.yml used
 * to fall back to.
 */
const PUBLIC_KEYS = [developmentKeyHex(), '3f1c0e8b9a7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a3928170f6e5d4c'].map(parseKey);

function developmentKeyHex(): string {
  return createHash('sha256').update('epos-relay development key: not for production').digest('hex');
}

/**
 * Whether `keyMaterial` names a public key (PUBLIC_KEYS), compared as the 32 bytes it names, so the same key in
 * base64 or upper-case hex is one too. False for material that names no key (the config check refuses that).
 */
export function isPublicKey(keyMaterial: string): boolean {
  let key: Buffer;
  try {
    key = parseKey(keyMaterial);
  } catch {
    return false;
  }
  return PUBLIC_KEYS.some((k) => k.equals(key));
}

/** A key's public id: the first 4 bytes of SHA-256 over "epos-relay key id" and the key (reveals nothing usable). */
function keyId(key: Buffer): Buffer {
  return createHash('sha256').update('epos-relay key id\0').update(key).digest().subarray(0, KEY_ID_BYTES);
}

/**
 * Encrypts secrets (Dojo API keys, webhook secrets) at rest with AES-256-GCM.
 * The associated data binds a ciphertext to its purpose and owner (e.g.
 * "api-key:<locationId>"), so a value copied into another row or column does not decrypt.
 *
 * Key ring: `keyMaterial` is the current key (EPOS_RELAY_ENCRYPTION_KEY), which
 * encrypts; `previousKeys` (EPOS_RELAY_ENCRYPTION_KEYS_OLD) only decrypt. A
 * ciphertext names its key by a 4-byte key id (layout 2:
 * [2][key id][iv:12][tag:16][ciphertext]); those written before the ring
 * (layout 1, no key id) are decrypted by trying each key, GCM's tag telling the
 * right one. `isCurrent` tells whether a stored value is already under the
 * current key (scripts/reencrypt-secrets.ts rewrites the others).
 */
export class SecretBox {
  private readonly current: RingKey;
  private readonly ring: RingKey[];

  constructor(keyMaterial: string, previousKeys: readonly string[] = []) {
    const key = parseKey(keyMaterial);
    this.current = { id: keyId(key), key };
    this.ring = [this.current];
    for (const k of previousKeys) {
      const old = parseKey(k);
      if (!this.ring.some((r) => r.key.equals(old))) this.ring.push({ id: keyId(old), key: old });
    }
  }

  /** Returns a plain Uint8Array (what Prisma's Bytes columns take). */
  encrypt(plaintext: string, associatedData: string): Uint8Array<ArrayBuffer> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return new Uint8Array(Buffer.concat([Buffer.from([V2]), this.current.id, iv, cipher.getAuthTag(), body]));
  }

  decrypt(stored: Uint8Array, associatedData: string): string {
    const buf = Buffer.from(stored);
    if (buf[0] === V2 && buf.length >= 1 + KEY_ID_BYTES + IV_BYTES + TAG_BYTES) {
      const id = buf.subarray(1, 1 + KEY_ID_BYTES);
      const k = this.ring.find((r) => r.id.equals(id));
      if (!k) throw new Error('encrypted with a key that is not in the key ring (EPOS_RELAY_ENCRYPTION_KEY, EPOS_RELAY_ENCRYPTION_KEYS_OLD)');
      return open(k.key, buf.subarray(1 + KEY_ID_BYTES), associatedData);
    }
    if (buf[0] === V1 && buf.length >= 1 + IV_BYTES + TAG_BYTES) {
      let last: unknown;
      for (const k of this.ring) {
        try {
          return open(k.key, buf.subarray(1), associatedData);
        } catch (err) {
          last = err; // the wrong key (or a tampered value): try the next one
        }
      }
      throw last instanceof Error ? last : new Error('no key of the ring decrypts it');
    }
    throw new Error('not a ciphertext of this SecretBox');
  }

  /** True when `stored` was encrypted with the current key (nothing to re-encrypt). */
  isCurrent(stored: Uint8Array): boolean {
    const buf = Buffer.from(stored);
    return buf[0] === V2 && buf.subarray(1, 1 + KEY_ID_BYTES).equals(this.current.id);
  }

  /** A development key derived from a fixed phrase (public); an app refuses to start with it when NODE_ENV=production (libs/common bootstrap). */
  static developmentKey(): string {
    return developmentKeyHex();
  }
}

export const apiKeyAad = (locationId: string) => `api-key:${locationId}`;
export const webhookSecretAad = (secretId: string) => `webhook-secret:${secretId}`;
/** A location's pay-at-counter token beside its own protocol (counter_links.token_ciphertext). */
export const counterTokenAad = (locationId: string) => `counter-token:${locationId}`;

/** [iv][tag][ciphertext] under `key`. */
function open(key: Buffer, rest: Buffer, associatedData: string): string {
  const iv = rest.subarray(0, IV_BYTES);
  const tag = rest.subarray(IV_BYTES, IV_BYTES + TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(Buffer.from(associatedData, 'utf8'));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(rest.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
}
