import { createHmac } from 'node:crypto';

/**
 * Dojo's webhook signature: HMAC-SHA256 of the raw body keyed by the secret,
 * written as `sha256=` plus upper-case hex bytes joined by '-'.
 */
export function dojoSignature(secret: string, rawBody: string | Buffer): string {
  const digest = createHmac('sha256', secret).update(rawBody).digest();
  return 'sha256=' + Array.from(digest, (b) => b.toString(16).toUpperCase().padStart(2, '0')).join('-');
}
