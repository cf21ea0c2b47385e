import { randomUUID } from 'node:crypto';
import { BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { CONFIG, createRedis, LOGGER, Logger, REDIS } from '@app/common';
import type { AdminConfig } from '@app/config';
import { COUNTER_PRESENCE_REFRESH_MS, CounterChannels } from '@app/contracts';
import { RedisCounterSignals } from '@app/queue';

type Wake = (eventId: string | undefined) => void;

/**
 * One Redis subscriber for the admin app's counter streams (SSE): a
 * location's channel is subscribed while at least one of its streams is open,
 * and each published event wakes that location's streams (they then read
 * Postgres from their cursor, so what they send is ordered and complete even
 * when a message is lost). While a location has a stream open here, the hub
 * keeps it marked present (RedisCounterSignals.present, refreshed every
 * COUNTER_PRESENCE_REFRESH_MS, removed with the last stream): that is what tells
 * a signature request that a POS listens, on a Redis Cluster too.
 */
@Injectable()
export class CounterStreamHub implements BeforeApplicationShutdown {
  private sub?: Redis;
  private readonly listeners = new Map<string, Set<Wake>>();
  private readonly closers = new Set<() => void>();
  private readonly presence: RedisCounterSignals;
  /** This hub's name in the locations' presence sets. */
  private readonly holder = randomUUID();
  private refresh?: NodeJS.Timeout;

  constructor(
    @Inject(CONFIG) private readonly config: AdminConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(REDIS) redis: Redis,
  ) {
    this.presence = new RedisCounterSignals(redis, config.QUEUE_PREFIX, logger.child({ component: 'counter-stream' }));
  }

  private subscriber(): Redis {
    if (!this.sub) {
      this.sub = createRedis(this.config.REDIS_URL, 'blocking');
      this.sub.on('error', (err: Error) => this.logger.warn({ err: err.message }, 'counter stream subscriber error; streams still poll'));
      this.sub.on('message', (channel: string, message: string) => {
        const m = /\{([0-9a-f-]{36})\}$/.exec(channel);
        const set = m ? this.listeners.get(m[1]!) : undefined;
        if (!set) return;
        let id: string | undefined;
        try {
          id = (JSON.parse(message) as { id?: string }).id;
        } catch {
          id = undefined; // a wake-up without an id still makes the streams read
        }
        for (const wake of set) wake(id);
      });
    }
    return this.sub;
  }

  /** Listens to a location's events until the returned function is called; `close` ends the stream when the app shuts down. */
  async listen(locationId: string, wake: Wake, close: () => void): Promise<() => void> {
    let set = this.listeners.get(locationId);
    if (!set) {
      set = new Set();
      this.listeners.set(locationId, set);
      await Promise.all([this.subscriber().subscribe(CounterChannels.events(this.config.QUEUE_PREFIX, locationId)), this.presence.present(locationId, this.holder)]);
      this.refresh ??= setInterval(() => {
        for (const l of this.listeners.keys()) void this.presence.present(l, this.holder);
      }, COUNTER_PRESENCE_REFRESH_MS).unref();
    }
    set.add(wake);
    this.closers.add(close);
    return () => {
      this.closers.delete(close);
      const s = this.listeners.get(locationId);
      if (!s) return;
      s.delete(wake);
      if (s.size === 0) {
        this.listeners.delete(locationId);
        void this.presence.absent(locationId, this.holder);
        this.sub?.unsubscribe(CounterChannels.events(this.config.QUEUE_PREFIX, locationId)).catch((err: Error) => this.logger.warn({ locationId, err: err.message }, 'counter stream unsubscribe failed'));
      }
    };
  }

  beforeApplicationShutdown(): void {
    // Open streams would keep the HTTP server from closing: end them first (a POS reconnects with Last-Event-ID).
    for (const close of [...this.closers]) close();
    clearInterval(this.refresh);
    this.sub?.disconnect();
  }
}
