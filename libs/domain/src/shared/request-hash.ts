import { createHash } from 'node:crypto';

/** A BigInt as JSON: its decimal string (the form request hashes were first stored in; never change it). */
const bigintAsString = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);

/**
 * The fingerprint an idempotency key is stored with (the venue API's payment intents, their captures, refunds and
 * reversals, and counter transactions): SHA-256 (hex) of the request's JSON, BigInts written as strings. A key sent
 * again with another request is refused by comparing these, so the function must keep giving what it gave for the
 * rows already stored.
 */
export function requestHash(request: unknown): string {
  return createHash('sha256').update(JSON.stringify(request, bigintAsString)).digest('hex');
}
