import type { LocationProtocol } from '@app/contracts';
import type { AdminDeps } from '../ports';
import type { LocationView} from '../location-view';
import { connectionsFor, toLocationView } from '../location-view';

export interface ListLocationsQuery {
  limit: number;
  cursor?: string;
  softwareHouseId?: string;
  dojoAccountId?: string;
  enabled?: boolean;
  protocol?: LocationProtocol;
  registrationState?: 'pending' | 'registered' | 'failed' | 'not_required';
  /** Connection state as the gateways report it (or 'unknown'). */
  connectionState?: string;
}

/**
 * Pages through locations in id order. Stored fields are filtered in the query;
 * the connection state lives in Redis (written by the gateways), so with that
 * filter it reads the query's rows in batches until the page is full.
 */
export class ListLocations {
  constructor(private readonly d: AdminDeps) {}

  async execute(q: ListLocationsQuery): Promise<{ items: LocationView[]; nextCursor: string | null }> {
    const items: LocationView[] = [];
    let cursor = q.cursor;
    const batch = q.connectionState ? Math.max(q.limit, 100) : q.limit + 1;
    for (;;) {
      const filter = {
        softwareHouseId: q.softwareHouseId, dojoAccountId: q.dojoAccountId, enabled: q.enabled, registrationState: q.registrationState, protocol: q.protocol,
      };
      const rows = await this.d.locations.page(filter, cursor, batch);
      const conns = await connectionsFor(this.d, rows.map((r) => r.id));
      for (const r of rows) {
        const c = conns.get(r.id)!;
        if (q.connectionState && c.state !== q.connectionState) {
          cursor = r.id;
          continue;
        }
        if (items.length === q.limit) return { items, nextCursor: items[items.length - 1]!.id };
        items.push(toLocationView(r, c));
        cursor = r.id;
      }
      if (rows.length < batch) return { items, nextCursor: null };
      if (!q.connectionState && items.length === q.limit) return { items, nextCursor: items[items.length - 1]!.id };
    }
  }
}
