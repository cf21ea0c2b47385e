import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** The token of an `Authorization: Bearer <token>` header (scheme in any case), or undefined for anything else. */
export function bearerToken(authorization: unknown): string | undefined {
  if (typeof authorization !== 'string') return undefined;
  return /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * Configured secret tokens (operator tokens, the metrics token), checked in constant time: a presented token is
 * compared by SHA-256 digest, so lengths never differ, and against every configured token, so the time taken says
 * nothing of which one (if any) matched or how much of it.
 */
export class SecretTokens {
  private readonly digests: Buffer[];

  constructor(tokens: readonly string[]) {
    this.digests = tokens.map(digest);
  }

  /** True when `token` is one of the configured tokens. */
  accepts(token: string | undefined): boolean {
    if (token === undefined) return false;
    const presented = digest(token);
    let ok = false;
    for (const d of this.digests) ok = timingSafeEqual(d, presented) || ok;
    return ok;
  }

  /**
   * A session value for a browser that presented `token` (one of the configured tokens), good until `expiresAt`
   * (`s1.<unix seconds>.<MAC>`): an HMAC keyed by the token's digest over `purpose` and the expiry. It does not
   * contain the token, so a stolen cookie is not the operator token (good on every API, for ever); it ends at its
   * expiry whatever the browser does, and with its token (a rotation ends every session made from the old one).
   * Every replica with the same tokens checks it, with no shared state.
   */
  session(token: string, purpose: string, expiresAt: Date): string {
    const exp = Math.floor(expiresAt.getTime() / 1000);
    return `s1.${exp}.${sessionMac(digest(token), purpose, exp).toString('base64url')}`;
  }

  /** True when `value` is a session (session()) for `purpose` made from a configured token, not expired at `now`. */
  acceptsSession(value: string | undefined, purpose: string, now = new Date()): boolean {
    const m = value === undefined ? null : /^s1\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(value);
    if (!m) return false;
    const exp = Number(m[1]);
    const given = Buffer.from(m[2]!, 'base64url');
    // Base64 leaves the last character's low bits unused: only the one spelling of the MAC is taken.
    if (given.toString('base64url') !== m[2]) return false;
    let ok = false;
    for (const d of this.digests) ok = timingSafeEqual(sessionMac(d, purpose, exp), given) || ok;
    return ok && exp * 1000 > now.getTime();
  }
}

const sessionMac = (key: Buffer, purpose: string, exp: number): Buffer => createHmac('sha256', key).update(`epos-relay session|${purpose}|${exp}`).digest();
