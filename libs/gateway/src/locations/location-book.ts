import type { LocationConfig } from './location-config';

/**
 * The locations a gateway replica knows, as its reads of Postgres return them. Reads overlap (the periodic
 * loadAll and a change's loadOne), and one that started earlier can finish later; its older view must not undo
 * what a newer read set: re-add a location that was disabled or deleted meanwhile, or put back a key that was
 * rotated. Each read takes a ticket when it starts; a location remembers the ticket of the read that last set (or
 * removed) it, and an older read's view of it is ignored.
 */
export class LocationBook {
  private tickets = 0;
  private readonly configs = new Map<string, LocationConfig>();
  /**
   * Location id -> ticket of the read that last set or removed it. A removed location's entry stays, so a read
   * that started before its removal cannot bring it back: one number per location removed since the start.
   */
  private readonly setBy = new Map<string, number>();

  /** A ticket for a read about to start. */
  startRead(): number {
    return ++this.tickets;
  }

  /** The read `ticket` found `loc`: kept unless a newer read set or removed it already; whether it was kept. */
  put(ticket: number, loc: LocationConfig): boolean {
    if ((this.setBy.get(loc.id) ?? 0) > ticket) return false;
    this.setBy.set(loc.id, ticket);
    this.configs.set(loc.id, loc);
    return true;
  }

  /** The read `ticket` found no location `id` (deleted, or not served): removed unless a newer read set it. */
  remove(ticket: number, id: string): boolean {
    if ((this.setBy.get(id) ?? 0) > ticket) return false;
    this.setBy.set(id, ticket);
    this.configs.delete(id);
    return true;
  }

  /** A full read `ticket` saw only `seen`: every other location is removed, as remove() would. */
  keepOnly(ticket: number, seen: ReadonlySet<string>): void {
    for (const id of [...this.configs.keys()]) if (!seen.has(id)) this.remove(ticket, id);
  }

  get(id: string): LocationConfig | undefined {
    return this.configs.get(id);
  }

  has(id: string): boolean {
    return this.configs.has(id);
  }

  values(): IterableIterator<LocationConfig> {
    return this.configs.values();
  }

  get size(): number {
    return this.configs.size;
  }
}
