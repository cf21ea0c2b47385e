import type Redis from 'ioredis';
import type { RpcReply } from '@app/contracts';

/** Replies for a replica expire this long after the last one, so a dead replica's stream disappears. */
export const REPLY_STREAM_TTL_S = 600;
const REPLY_STREAM_MAXLEN = 10_000;

export function replyStreamKey(prefix: string, replicaId: string): string {
  return `${prefix}:replies:${replicaId}`;
}

/** Appends a reply to the owning replica's stream (worker side). */
export async function publishReply(redis: Redis, stream: string, reply: RpcReply): Promise<void> {
  await redis
    .multi()
    .xadd(stream, 'MAXLEN', '~', String(REPLY_STREAM_MAXLEN), '*', 'r', JSON.stringify(reply))
    .expire(stream, REPLY_STREAM_TTL_S)
    .exec();
}
