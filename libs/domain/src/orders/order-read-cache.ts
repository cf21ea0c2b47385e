import type { OrderWithRelations } from './order-mapper';

/** A page of orders as OrdersRepository.search returns it. */
export interface CachedSearch {
  rows: readonly OrderWithRelations[];
  beyond: boolean;
}

/** Taken before a read goes to Postgres; a result is kept only if nothing about its location changed since. */
export type ReadTicket = number;

export interface OrderReadCacheOptions {
  /** Most orders kept in all (searches count their rows); the least recently used venues are dropped first. */
  maxOrders: number;
  /** An entry older than this is not used (a bound on staleness should a change ever go unheard). */
  maxAgeMs: number;
  /**
   * Nothing of a location is kept until this long after the cache first saw it (since it was last forgotten).
   * Dojo's own changes are not announced by Postgres (the gateway that sends them tells its cache), so a gateway
   * that has just taken a venue over waits until any change sent through the previous owner is past its deadline.
   */
  graceMs?: number;
  /** The clock (tests). */
  now?: () => number;
}

interface Entry<T> {
  value: T;
  at: number;
  /** What it counts against maxOrders: an order 1, a search its rows (at least 1), another read 1 + its orders. */
  weight: number;
}

interface Venue {
  orders: Map<string, Entry<OrderWithRelations | null>>;
  searches: Map<string, Entry<CachedSearch>>;
  /** Other reads of the venue's orders, tables and parties (keepRead): the Tables API's session list. */
  reads: Map<string, Entry<unknown>>;
  /** Orders held (searches count their rows). */
  size: number;
}

/** `since` of a location whose link closed here and whose lease has not been taken here again. */
const NOT_OWNED = Number.POSITIVE_INFINITY;

/**
 * The gateway's copy of the orders it has read, per location, so that Dojo's
 * reads (SearchOrdersV1, GetOrderByIdV1, a Tables API bill or session list)
 * can be answered without a round trip to Postgres. It is only as good as what tells it about
 * changes, so it trusts nothing it was not told:
 *
 * - `live` is false until the change feed (Postgres LISTEN on the channel the
 *   order tables' triggers notify, see PgChangeFeed) is listening, and again
 *   whenever the feed is down: nothing is served or kept meanwhile, and going
 *   down forgets everything.
 * - Every change to a location's orders, items, payments, tables or parties is announced on
 *   commit (`changed`), but for Dojo's own requests: the gateway that owns the
 *   venue's link sent them, and calls `changed` when it hands Dojo the answer
 *   (a request answered at its deadline can no longer commit). A venue first
 *   seen (after a takeover, or since it was forgotten) is not kept for
 *   graceMs: changes sent through its previous owner may still commit until
 *   their deadline.
 * - A read that went to Postgres is kept only if no change of its location
 *   (and no outage of the feed) was announced after its ticket was taken: a
 *   read that raced a change cannot put the old state back.
 * - Entries expire after maxAgeMs, and the copy is bounded (maxOrders, least
 *   recently used venues dropped first).
 *
 * Kept orders are frozen: a caller that tried to change one would throw
 * rather than alter what the next request reads. Search results are handed out
 * as fresh arrays.
 */
export class OrderReadCache {
  private readonly venues = new Map<string, Venue>();
  /**
   * When each location's grace began (graceMs): its lease taken here (own), or, without that word, its first read.
   * NOT_OWNED once its link closed here (forget) until the lease is taken here again: a read still in flight then
   * must not start a grace that would have run out by the time the venue comes back.
   */
  private readonly since = new Map<string, number>();
  /** Per location, the sequence number of its last announced change. */
  private readonly changedAt = new Map<string, number>();
  /** Changes of locations no longer in changedAt (forgotten to bound memory) are at most this. */
  private forgottenFloor = 0;
  /** The last outage or return of the feed: tickets older than it are void. */
  private allChangedAt = 0;
  private seq = 0;
  private held = 0;
  private isLive = false;
  /** Reads answered from the cache / sent to Postgres while live (the gateway's metrics). */
  hits = 0;
  misses = 0;
  private readonly now: () => number;

  constructor(private readonly opts: OrderReadCacheOptions) {
    this.now = opts.now ?? Date.now;
  }

  get live(): boolean {
    return this.isLive;
  }

  /** Orders held now (searches count their rows). */
  get size(): number {
    return this.held;
  }

  /** The feed is listening (true) or down (false). Either way what was kept is dropped and earlier tickets are void. */
  setLive(live: boolean): void {
    this.isLive = live;
    this.venues.clear();
    this.changedAt.clear();
    this.forgottenFloor = 0;
    this.held = 0;
    this.allChangedAt = ++this.seq;
  }

  /** Something of the location's orders changed (or may have): drop its entries; reads in flight are not kept. */
  changed(locationId: string): void {
    this.drop(locationId);
    this.changedAt.set(locationId, ++this.seq);
    // The sequence numbers only need to tell "after this ticket" apart; an unbounded map of them is not needed.
    if (this.changedAt.size > 4 * this.opts.maxOrders + 1024) this.forgetChanges();
  }

  /** Every location may have changed (a TRUNCATE, a bulk import): drop everything; reads in flight are not kept. */
  changedAll(): void {
    this.setLive(this.isLive);
  }

  /**
   * Drops what is kept of a location whose link closed here: Dojo's changes to it may now go through another
   * gateway, unannounced, so it is kept again only after a new grace.
   */
  forget(locationId: string): void {
    this.drop(locationId);
    this.since.set(locationId, NOT_OWNED);
    this.changedAt.set(locationId, ++this.seq);
  }

  /** The location's lease was taken here: its grace starts now (a venue coming back after forget is kept only from then). */
  own(locationId: string): void {
    this.since.set(locationId, this.now());
  }

  ticket(): ReadTicket {
    return this.seq;
  }

  /** The kept order (null: kept as absent), or undefined when the read must go to Postgres. */
  order(locationId: string, orderId: string): OrderWithRelations | null | undefined {
    return this.lookup(locationId, (v) => v.orders, orderId);
  }

  /** The kept page of a search (`key`: its filter and page), or undefined when the read must go to Postgres. */
  search(locationId: string, key: string): CachedSearch | undefined {
    const e = this.lookup(locationId, (v) => v.searches, key);
    return e && { rows: e.rows.slice(), beyond: e.beyond };
  }

  /**
   * Another read kept for the venue (a use-case's answer built from its orders, tables and parties, which the
   * triggers announce too), or undefined when it must be read again. `key` names the read and its arguments.
   */
  read<T>(locationId: string, key: string): T | undefined {
    return this.lookup(locationId, (v) => v.reads, key) as T | undefined;
  }

  /**
   * Keeps `value` (frozen) under `key`, and each of `orders` (the orders in it, as a search's), unless a change was
   * announced since `ticket`. It weighs one plus its orders.
   */
  keepRead(ticket: ReadTicket, locationId: string, key: string, value: unknown, orders: readonly OrderWithRelations[]): void {
    this.keep(ticket, locationId, (v) => v.reads, key, value, orders, 1 + orders.length);
  }

  /** Keeps the order read under `ticket` (null: none by that id), unless a change was announced since. */
  keepOrder(ticket: ReadTicket, locationId: string, orderId: string, order: OrderWithRelations | null): void {
    const v = this.keepable(ticket, locationId);
    if (!v) return;
    this.setOrder(v, orderId, deepFreeze(order), this.now());
    this.trim();
  }

  /** Keeps a search's page read under `ticket`, and each of its orders, unless a change was announced since. */
  keepSearch(ticket: ReadTicket, locationId: string, key: string, found: CachedSearch): void {
    const rows = found.rows.slice(); // frozen when kept: the caller's array stays its own
    this.keep(ticket, locationId, (v) => v.searches, key, { rows, beyond: found.beyond }, rows, Math.max(1, rows.length));
  }

  /** An entry of one of the venue's maps while live and fresh (an expired one is dropped), counted as a hit or miss. */
  private lookup<T>(locationId: string, map: (v: Venue) => Map<string, Entry<T>>, key: string): T | undefined {
    if (!this.isLive) return undefined;
    const v = this.venue(locationId);
    const m = v && map(v);
    const e = m?.get(key);
    if (e && this.now() - e.at > this.opts.maxAgeMs) {
      m!.delete(key);
      this.count(v!, -e.weight);
    } else if (e) {
      this.hits++;
      return e.value;
    }
    this.misses++;
    return undefined;
  }

  /** Keeps `value` (frozen, weighing `weight`) under `key` in one of the venue's maps, and each of `orders`. */
  private keep<T>(
    ticket: ReadTicket,
    locationId: string,
    map: (v: Venue) => Map<string, Entry<T>>,
    key: string,
    value: T,
    orders: readonly OrderWithRelations[],
    weight: number,
  ): void {
    const v = this.keepable(ticket, locationId);
    if (!v) return;
    const at = this.now();
    const m = map(v);
    const old = m.get(key);
    if (old) this.count(v, -old.weight);
    m.set(key, { value: deepFreeze(value), at, weight });
    this.count(v, weight);
    for (const o of orders) this.setOrder(v, o.id, o, at);
    this.trim();
  }

  private setOrder(v: Venue, orderId: string, order: OrderWithRelations | null, at: number): void {
    if (!v.orders.has(orderId)) this.count(v, 1);
    v.orders.set(orderId, { value: order, at, weight: 1 });
  }

  private count(v: Venue, n: number): void {
    v.size += n;
    this.held += n;
  }

  /** The location's entries if a read under `ticket` may be kept (made on first use), else undefined. */
  private keepable(ticket: ReadTicket, locationId: string): Venue | undefined {
    if (!this.isLive || ticket < this.allChangedAt) return undefined;
    if (ticket < (this.changedAt.get(locationId) ?? this.forgottenFloor)) return undefined;
    const grace = this.opts.graceMs ?? 0;
    if (grace > 0) {
      const since = this.since.get(locationId);
      if (since === undefined) {
        this.since.set(locationId, this.now());
        return undefined;
      }
      if (since === NOT_OWNED || this.now() - since < grace) return undefined;
    }
    let v = this.venue(locationId);
    if (!v) this.venues.set(locationId, (v = { orders: new Map(), searches: new Map(), reads: new Map(), size: 0 }));
    return v;
  }

  /** The location's entries, marked as the most recently used. */
  private venue(locationId: string): Venue | undefined {
    const v = this.venues.get(locationId);
    if (v) {
      this.venues.delete(locationId);
      this.venues.set(locationId, v);
    }
    return v;
  }

  private drop(locationId: string): void {
    const v = this.venues.get(locationId);
    if (!v) return;
    this.venues.delete(locationId);
    this.held -= v.size;
  }

  /** Drops the least recently used venues until at most maxOrders are held. */
  private trim(): void {
    for (const [id, v] of this.venues) {
      if (this.held <= this.opts.maxOrders) return;
      this.venues.delete(id);
      this.held -= v.size;
    }
  }

  /** Forgets the per-location change marks: any ticket taken before now stays void for every location. */
  private forgetChanges(): void {
    this.changedAt.clear();
    this.forgottenFloor = this.seq;
  }
}

/** Freezes the order and everything in it (items, payments, their dates and JSON), once, when it is kept. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}
