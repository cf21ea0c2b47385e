import type { Logger } from '@app/common';
import { gatewayMetrics } from '@app/common';
import type { GatewayConfig } from '@app/config';
import { LONGEST_CHANGE_DEADLINE_MS } from '@app/contracts';
import { ORDER_CHANGES_CHANNEL, PgChangeFeed } from '@app/db';
import { OrderReadCache } from '@app/domain/rpc';

/** What the request dispatcher tells the read cache about a location. */
export interface ReadCacheHooks {
  /** An answer to a request that may have changed the location's orders is about to go to Dojo. */
  changed(locationId: string): void;
  /** The location's link closed here for good: its entries are only memory now. */
  forget(locationId: string): void;
  /** The location's lease was taken here: its grace starts now. */
  owned(locationId: string): void;
}

/**
 * GATEWAY_READ_CACHE: the gateway's copy of the orders it read (OrderReadCache, which the reads' use-cases consult
 * through their handle) kept current by Postgres' announcements (PgChangeFeed on the order tables' trigger channel).
 * The request dispatcher also reports Dojo's own changes as they are answered (ReadCacheHooks), so Dojo reads what
 * it just did even when the announcement is still on its way.
 */
export class GatewayReadCache implements ReadCacheHooks {
  readonly orders: OrderReadCache;
  private readonly feed: PgChangeFeed;
  private unprovide?: () => void;

  constructor(opts: { listenUrl: string; maxOrders: number; maxAgeMs: number; graceMs: number; heartbeatMs?: number }, logger: Logger) {
    const orders = (this.orders = new OrderReadCache({ maxOrders: opts.maxOrders, maxAgeMs: opts.maxAgeMs, graceMs: opts.graceMs }));
    this.feed = new PgChangeFeed({
      url: opts.listenUrl,
      channel: ORDER_CHANGES_CHANNEL,
      onChange: (payload) => (payload === '*' ? orders.changedAll() : orders.changed(payload)),
      onLive: (live) => orders.setLive(live),
      log: logger.child({ component: 'read-cache' }),
      heartbeatMs: opts.heartbeatMs,
    });
  }

  /** Starts listening; resolves once the cache is live or the first attempt failed (it keeps trying; reads go to Postgres meanwhile). */
  start(): Promise<void> {
    this.unprovide ??= gatewayMetrics().readCache.provide(() => ({
      live: this.orders.live,
      orders: this.orders.size,
      hits: this.orders.hits,
      misses: this.orders.misses,
    }));
    return this.feed.start();
  }

  changed(locationId: string): void {
    this.orders.changed(locationId);
  }

  forget(locationId: string): void {
    this.orders.forget(locationId);
  }

  owned(locationId: string): void {
    this.orders.own(locationId);
  }

  async close(): Promise<void> {
    this.unprovide?.();
    this.unprovide = undefined;
    await this.feed.close();
  }
}

/** The read cache the configuration asks for: only with GATEWAY_READS=local and GATEWAY_READ_CACHE on. */
export function gatewayReadCache(
  config: Pick<
    GatewayConfig,
    'GATEWAY_READS' | 'GATEWAY_READ_CACHE' | 'GATEWAY_READ_CACHE_ORDERS' | 'GATEWAY_READ_CACHE_MAX_AGE_MS' | 'GATEWAY_READ_CACHE_GRACE_MS' | 'GATEWAY_DEADLINE_OVERRIDE_MS' | 'DATABASE_URL' | 'DATABASE_LISTEN_URL'
  >,
  logger: Logger,
): GatewayReadCache | undefined {
  if (config.GATEWAY_READS !== 'local' || !config.GATEWAY_READ_CACHE) return undefined;
  // A change sent through a venue's previous owner commits by its deadline or not at all; the margin covers the
  // COMMIT's own round trip and clocks a little apart.
  const longest = config.GATEWAY_DEADLINE_OVERRIDE_MS > 0 ? config.GATEWAY_DEADLINE_OVERRIDE_MS : LONGEST_CHANGE_DEADLINE_MS;
  return new GatewayReadCache(
    {
      listenUrl: config.DATABASE_LISTEN_URL ?? config.DATABASE_URL,
      maxOrders: config.GATEWAY_READ_CACHE_ORDERS,
      maxAgeMs: config.GATEWAY_READ_CACHE_MAX_AGE_MS,
      graceMs: config.GATEWAY_READ_CACHE_GRACE_MS ?? longest + GRACE_MARGIN_MS,
    },
    logger,
  );
}

/** Added to the longest change deadline for a venue's grace (OrderReadCacheOptions.graceMs). */
export const GRACE_MARGIN_MS = 5_000;
