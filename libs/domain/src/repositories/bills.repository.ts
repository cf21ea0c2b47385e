import type { Tx } from '../shared/tx';

/** The venue's bill template and name, as a bill is framed with them. Location first, as every repository. */
export class BillsRepository {
  constructor(private readonly db: Tx) {}

  async template(locationId: string): Promise<{ header: unknown; footer: unknown } | null> {
    return this.db.billTemplate.findUnique({ where: { locationId }, select: { header: true, footer: true } });
  }

  async venueName(locationId: string): Promise<string | null> {
    const loc = await this.db.location.findUnique({ where: { id: locationId }, select: { name: true } });
    return loc?.name ?? null;
  }
}

export const billsRepo = (db: Tx) => new BillsRepository(db);
