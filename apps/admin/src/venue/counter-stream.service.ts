import { randomUUID } from 'node:crypto';
import { BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { CONFIG, createRedis, LOGGER, Logger, REDIS } from '@app/common';
import type { AdminConfig } from '@app/config';
import { COUNTER_PRESENCE_REFRESH_MS, CounterChannels } from '@app/contracts';
import { RedisCounterSignals } from '@app/queue';

type Wake = (eventId: string | undefined) => void;

/** A location's streams on this hub: their wake-ups, and the subscription and presence they all wait for. */
interface Listening {
  wakes: Set<Wake>;
  /** Settles once the location's channel is subscribed and the hub is marked present there. */
  ready: Promise<void>;
}

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
  private readonly listening = new Map<string, Listening>();
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
        const entry = m ? this.listening.get(m[1]!) : undefined;
        if (!entry) return;
        let id: string | undefined;
        try {
          id = (JSON.parse(message) as { id?: string }).id;
        } catch {
          id = undefined; // a wake-up without an id still makes the streams read
        }
        for (const wake of entry.wakes) wake(id);
      });
    }
    return this.sub;
  }

  /**
   * Listens to a location's events until the returned function is called; `close` ends the stream when the app shuts
   * down. Resolves once the location's channel is subscribed and the hub is marked present there, for the first
   * stream of the location and for any opened while that is under way alike: a stream that reads after this resolves
   * misses no wake-up. The wake is counted from the call on, so a stream of the location that closes meanwhile does
   * not take the subscription from under this one.
   */
  async listen(locationId: string, wake: Wake, close: () => void): Promise<() => void> {
    const channel = CounterChannels.events(this.config.QUEUE_PREFIX, locationId);
    const entry = this.listening.get(locationId) ?? this.startListening(locationId, channel);
    entry.wakes.add(wake);
    this.closers.add(close);
    const stop = () => {
      this.closers.delete(close);
      if (!entry.wakes.delete(wake) || entry.wakes.size > 0 || this.listening.get(locationId) !== entry) return;
      this.listening.delete(locationId);
      void this.presence.absent(locationId, this.holder);
      this.sub?.unsubscribe(channel).catch((err: Error) => this.logger.warn({ locationId, err: err.message }, 'counter stream unsubscribe failed'));
    };
    try {
      await entry.ready;
    } catch (err) {
      stop();
      throw err;
    }
    return stop;
  }

  /** A location's first stream here: subscribes its channel and marks the hub present there (kept so while it listens). */
  private startListening(locationId: string, channel: string): Listening {
    const entry: Listening = {
      wakes: new Set(),
      ready: Promise.all([this.subscriber().subscribe(channel), this.presence.present(locationId, this.holder)]).then(() => undefined),
    };
    this.listening.set(locationId, entry);
    this.refresh ??= setInterval(() => {
      for (const l of this.listening.keys()) void this.presence.present(l, this.holder);
    }, COUNTER_PRESENCE_REFRESH_MS).unref();
    return entry;
  }

  beforeApplicationShutdown(): void {
    // Open streams would keep the HTTP server from closing: end them first (a POS reconnects with Last-Event-ID).
    for (const close of [...this.closers]) close();
    clearInterval(this.refresh);
    this.sub?.disconnect();
  }
}
