import { createHmac, timingSafeEqual } from 'node:crypto';

/** Prefix of Dojo's `dojo-signature` header value. */
const PREFIX = 'sha256=';

function digest(secret: string, rawBody: Uint8Array): Buffer {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(rawBody).digest();
}

/**
 * The `dojo-signature` header Dojo sends for `rawBody` signed with `secret`:
 * `sha256=` followed by the HMAC-SHA256 bytes as upper-case hex pairs joined by `-`.
 */
export function sign(secret: string, rawBody: Uint8Array | string): string {
  const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
  const hex = digest(secret, body).toString('hex').toUpperCase();
  return PREFIX + (hex.match(/../g) ?? []).join('-');
}

/** `sha256=` (any case) and 32 hex pairs joined by `-`: one regular expression instead of a test per pair. */
const HEADER = /^sha256=((?:[0-9a-f]{2}-){31}[0-9a-f]{2})$/i;

/**
 * Parses a header value into the 32 signature bytes, or undefined when it is
 * not exactly `sha256=` + 32 hex pairs joined by `-` (hex case is accepted either way).
 */
function parseHeader(header: string): Buffer | undefined {
  const m = HEADER.exec(header.trim());
  return m ? Buffer.from(m[1]!.replaceAll('-', ''), 'hex') : undefined;
}

/**
 * True when `header` is a valid signature of the exact `rawBody` bytes under
 * any of `secrets` (rotation: old and new secrets overlap). Every secret is
 * compared in constant time; the loop does not stop at the first match.
 */
export function verify(header: string | undefined | null, rawBody: Uint8Array, secrets: readonly string[]): boolean {
  if (typeof header !== 'string' || secrets.length === 0) return false;
  const given = parseHeader(header);
  if (!given) return false;
  let ok = false;
  for (const secret of secrets) {
    if (timingSafeEqual(given, digest(secret, rawBody))) ok = true;
  }
  return ok;
}
