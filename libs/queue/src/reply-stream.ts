import type Redis from 'ioredis';
import type { RpcReply } from './catalog';

/** Replies for a replica expire this long after the last one, so a dead replica's stream disappears. */
export const REPLY_STREAM_TTL_S = 600;
const REPLY_STREAM_MAXLEN = 10_000;

export function replyStreamKey(prefix: string, replicaId: string): string {
  return `${prefix}:replies:${replicaId}`;
}

/** A stream's TTL is pushed forward at most this often (it is REPLY_STREAM_TTL_S long). */
const EXPIRE_EVERY_MS = 30_000;

/**
 * Worker-side reply writer: one XADD per reply, and the stream's EXPIRE only
 * when that stream's TTL was last refreshed more than 30 s ago (plain commands,
 * no MULTI: on the worker's auto-pipelining connection they leave in one write
 * with whatever else the same turn sends, such as the request's XACK + XDEL).
 * A stream that receives replies therefore never expires, and one whose
 * replica stopped asking still disappears REPLY_STREAM_TTL_S after the last
 * refresh.
 */
export class ReplyPublisher {
  private readonly expiredAt = new Map<string, number>();

  constructor(private readonly redis: Redis) {}

  async publish(stream: string, reply: RpcReply): Promise<void> {
    const now = Date.now();
    const last = this.expiredAt.get(stream);
    const text = JSON.stringify(reply);
    if (last !== undefined && now - last < EXPIRE_EVERY_MS) {
      await this.redis.xadd(stream, 'MAXLEN', '~', String(REPLY_STREAM_MAXLEN), '*', 'r', text);
      return;
    }
    this.expiredAt.set(stream, now);
    if (this.expiredAt.size > 10_000) this.forgetOld(now);
    try {
      await Promise.all([
        this.redis.xadd(stream, 'MAXLEN', '~', String(REPLY_STREAM_MAXLEN), '*', 'r', text),
        this.redis.expire(stream, REPLY_STREAM_TTL_S),
      ]);
    } catch (err) {
      this.expiredAt.delete(stream);
      throw err;
    }
  }

  private forgetOld(now: number): void {
    for (const [k, at] of this.expiredAt) if (now - at >= EXPIRE_EVERY_MS) this.expiredAt.delete(k);
  }
}
