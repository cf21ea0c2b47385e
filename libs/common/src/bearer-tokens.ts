import { createHash, timingSafeEqual } from 'node:crypto';

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
}
