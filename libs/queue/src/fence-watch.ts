import type Redis from 'ioredis';
import { createRedis } from '@app/common';
import type { Logger } from '@app/common';
import { fenceChannel, fenceKey } from './catalog';

/**
 * An RPC worker's copy of the locations' fencing tokens (fenceKey), so that checking a state-changing request
 * against its location's token costs no Redis round trip.
 *
 * A gateway replica takes a token only in its lease script, which announces it on fenceChannel in the same step.
 * While this watch is subscribed, every token taken since it subscribed reaches it, so a token it holds is the
 * latest, or the latest but for an announcement still on its way (the same moment that a GET sent just before the
 * announcement would have missed). A location it holds nothing for is read from Redis once and kept from then on.
 * When the subscription drops, everything it holds is forgotten and every check reads Redis again until it is
 * subscribed anew: announcements made in between are lost, so nothing held from before can be trusted.
 *
 * Measured on the queue variant at 200 requests/s (bench request-path, alternating builds): the GET per change
 * was 8-12% of the platform's CPU per request (a Redis wake-up and a worker wake-up per change).
 */
export class FenceWatch {
  private readonly tokens = new Map<string, number>();
  private readonly sub: Redis;
  /** Subscribed and listening: announcements are arriving, so what `tokens` holds is current. */
  private live = false;
  /** Counts the subscription's drops: a read from Redis that began before one is not kept. */
  private epoch = 0;
  private closed = false;
  /** The first subscription (start()), shared by every caller. */
  private starting?: Promise<void>;

  constructor(
    redisUrl: string,
    private readonly prefix: string,
    /** Where a location's token is read when this watch holds none (the worker's command connection). */
    private readonly commands: Redis,
    private readonly logger?: Logger,
  ) {
    this.sub = createRedis(redisUrl, 'blocking', { connectionName: `fences-${prefix}` });
    this.sub.on('message', (channel: string, message: string) => {
      if (channel === fenceChannel(this.prefix)) this.onAnnounced(message);
    });
    // Dropped: announcements may be missed from now on. Forget everything; read Redis until subscribed again.
    this.sub.on('close', () => this.drop());
    // After a drop: ioredis subscribes again by itself, but listening counts from our own confirmed SUBSCRIBE.
    // (The first connection's is start()'s.)
    this.sub.on('ready', () => {
      if (this.epoch > 0) void this.listen();
    });
  }

  /** Subscribes (ioredis connects on its own); resolves once announcements arrive, or on failure (reads go to Redis). */
  start(): Promise<void> {
    return (this.starting ??= this.listen());
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    const epoch = this.epoch;
    try {
      await this.sub.subscribe(fenceChannel(this.prefix));
      // A drop between the SUBSCRIBE and its confirmation: that connection is gone; the next 'ready' listens again.
      if (epoch === this.epoch && this.sub.status === 'ready') this.live = true;
    } catch (err) {
      this.logger?.warn({ err: (err as Error).message }, 'fence announcements: could not subscribe; fencing checks read Redis');
    }
  }

  private drop(): void {
    this.epoch++;
    this.live = false;
    this.tokens.clear();
  }

  private onAnnounced(message: string): void {
    if (!this.live) return;
    const at = message.lastIndexOf(' ');
    const token = Number(message.slice(at + 1));
    if (at <= 0 || !Number.isSafeInteger(token)) return;
    this.keep(message.slice(0, at), token);
  }

  /** Tokens only grow: a late read or announcement never lowers what is held. */
  private keep(locationId: string, token: number): void {
    const held = this.tokens.get(locationId);
    if (held === undefined || token > held) this.tokens.set(locationId, token);
  }

  /** The location's latest fencing token, or null when it has none (no replica ever took its lease). */
  async current(locationId: string): Promise<number | null> {
    if (this.live) {
      const held = this.tokens.get(locationId);
      if (held !== undefined) return held;
    }
    const epoch = this.epoch;
    const wasLive = this.live;
    const raw = await this.commands.get(fenceKey(this.prefix, locationId));
    if (raw === null) return null;
    const token = Number(raw);
    // Kept only when the subscription was up before the read was sent and has not dropped since: then any token
    // taken after the read was announced to us, and keep() lets the higher of the two stand.
    if (wasLive && this.live && epoch === this.epoch && Number.isSafeInteger(token)) this.keep(locationId, token);
    return token;
  }

  /** The token held for a location without reading Redis (undefined: none held). For diagnostics and tests. */
  held(locationId: string): number | undefined {
    return this.live ? this.tokens.get(locationId) : undefined;
  }

  /** True while announcements arrive (for diagnostics and tests). */
  get listening(): boolean {
    return this.live;
  }

  close(): void {
    this.closed = true;
    this.drop();
    this.sub.disconnect();
  }
}
