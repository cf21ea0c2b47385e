import type { Prisma } from '@app/db';
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

  /** Creates or replaces the location's bill template. */
  async saveTemplate(locationId: string, template: { header: Prisma.InputJsonValue; footer: Prisma.InputJsonValue }): Promise<void> {
    await this.db.billTemplate.upsert({ where: { locationId }, create: { locationId, ...template }, update: template });
  }

  /** Deletes the location's bill template; false when it had none. */
  async deleteTemplate(locationId: string): Promise<boolean> {
    const { count } = await this.db.billTemplate.deleteMany({ where: { locationId } });
    return count > 0;
  }
}

export const billsRepo = (db: Tx) => new BillsRepository(db);
