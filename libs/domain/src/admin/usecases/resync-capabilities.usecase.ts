import { DomainError } from '../errors';
import type { AdminDeps } from '../ports';
import type { LocationView} from '../location-view';
import { LOCATION_SELECT, toLocationView } from '../location-view';

/** Registers the location's current capability set with Dojo again, now. */
export class ResyncCapabilities {
  constructor(private readonly d: AdminDeps) {}

  async execute(id: string): Promise<LocationView> {
    const row = await this.d.prisma.location.update({
      where: { id },
      data: { registrationState: 'pending', registrationError: null, registrationAttempts: 0 },
      select: LOCATION_SELECT,
    }).catch((err) => {
      if ((err as { code?: string }).code === 'P2025') throw DomainError.notFound('location', id);
      throw err;
    });
    await this.d.registration.schedule(id, { now: true });
    return toLocationView(row);
  }
}
