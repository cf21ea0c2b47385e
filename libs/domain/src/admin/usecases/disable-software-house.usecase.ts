import { DomainError } from '../errors';
import type { AdminDeps } from '../ports';
import { SetLocationEnabled } from './set-location-enabled.usecase';

/** Disables every location of a software house (each one reaches the gateways at once). */
export class DisableSoftwareHouse {
  constructor(private readonly d: AdminDeps) {}
  async execute(id: string): Promise<{ disabledLocations: number }> {
    const sh = await this.d.prisma.softwareHouse.findUnique({ where: { id }, select: { id: true } });
    if (!sh) throw DomainError.notFound('software house', id);
    const locs = await this.d.prisma.location.findMany({ where: { softwareHouseId: id, enabled: true }, select: { id: true } });
    const setEnabled = new SetLocationEnabled(this.d);
    for (const l of locs) await setEnabled.execute(l.id, false);
    return { disabledLocations: locs.length };
  }
}
