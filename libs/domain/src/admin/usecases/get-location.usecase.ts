import { DomainError } from '../errors';
import type { AdminDeps } from '../ports';
import type { LocationView} from '../location-view';
import { connectionsFor, toLocationView } from '../location-view';

/** One location with its live connection state. */
export class GetLocation {
  constructor(private readonly d: AdminDeps) {}

  async execute(id: string): Promise<LocationView> {
    const row = await this.d.locations.get(id);
    if (!row) throw DomainError.notFound('location', id);
    const conns = await connectionsFor(this.d, [id]);
    return toLocationView(row, conns.get(id));
  }
}
