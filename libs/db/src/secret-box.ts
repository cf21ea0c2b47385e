import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Encrypts secrets (Dojo API keys, webhook secrets) at rest with AES-256-GCM.
 * Stored layout: [version:1][iv:12][tag:16][ciphertext]. The associated data
 * binds a ciphertext to its purpose and owner (e.g. "api-key:<locationId>"),
 * so a value copied into another row or column does not decrypt.
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(keyMaterial: string) {
    const raw = /^[0-9a-fA-F]{64}$/.test(keyMaterial)
      ? Buffer.from(keyMaterial, 'hex')
      : /^[A-Za-z0-9+/]{43}=$/.test(keyMaterial)
        ? Buffer.from(keyMaterial, 'base64')
        : undefined;
    if (!raw || raw.length !== 32) {
      throw new Error('the encryption key must be 32 bytes, given as 64 hex characters or 44 base64 characters');
    }
    this.key = raw;
  }

  /** Returns a plain Uint8Array (what Prisma's Bytes columns take). */
  encrypt(plaintext: string, associatedData: string): Uint8Array<ArrayBuffer> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return new Uint8Array(Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]));
  }

  decrypt(stored: Uint8Array, associatedData: string): string {
    const buf = Buffer.from(stored);
    if (buf.length < 1 + IV_BYTES + TAG_BYTES || buf[0] !== VERSION) throw new Error('not a ciphertext of this SecretBox');
    const iv = buf.subarray(1, 1 + IV_BYTES);
    const tag = buf.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(buf.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  }

  /** A development key derived from a fixed phrase (public); an app refuses to start with it when NODE_ENV=production (libs/common bootstrap). */
  static developmentKey(): string {
    return createHash('sha256').update('epos-relay development key: not for production').digest('hex');
  }
}

export const apiKeyAad = (locationId: string) => `api-key:${locationId}`;
export const webhookSecretAad = (secretId: string) => `webhook-secret:${secretId}`;
