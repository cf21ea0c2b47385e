import type { AdminDeps } from '../ports';
import type { SoftwareHouseView} from '../software-house-view';
import { toSoftwareHouseView } from '../software-house-view';

/** Pages through software houses in id order, each with its location count. */
export class ListSoftwareHouses {
  constructor(private readonly d: AdminDeps) {}
  async execute(q: { limit: number; cursor?: string }): Promise<{ items: SoftwareHouseView[]; nextCursor: string | null }> {
    const rows = await this.d.softwareHouses.page(q.cursor, q.limit + 1);
    const page = rows.slice(0, q.limit);
    return { items: page.map(toSoftwareHouseView), nextCursor: rows.length > q.limit ? page[page.length - 1]!.id : null };
  }
}
