import { createHash } from 'node:crypto';

function weight(member: string, key: string): bigint {
  return createHash('sha256').update(member).update('\u0000').update(key).digest().readBigUInt64BE(0);
}

/**
 * Rendezvous (highest-random-weight) hashing: every replica computes the same
 * owner from the same member list, and a member joining or leaving moves only
 * the keys it gains or loses.
 */
export function rendezvousOwner(key: string, members: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestW = -1n;
  for (const m of members) {
    const w = weight(m, key);
    if (w > bestW || (w === bestW && best !== undefined && m < best)) {
      best = m;
      bestW = w;
    }
  }
  return best;
}
