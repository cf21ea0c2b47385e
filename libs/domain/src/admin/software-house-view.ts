import type { SoftwareHouseRow } from '../repositories/software-houses.repository';

export interface SoftwareHouseInput {
  name: string;
  dojoSoftwareHouseId: string;
  resellerId?: string | null;
}

/** A software house as the admin API shows it. */
export interface SoftwareHouseView {
  id: string;
  name: string;
  dojoSoftwareHouseId: string;
  resellerId: string | null;
  locationCount?: number;
  createdAt: string;
  updatedAt: string;
}


export function toSoftwareHouseView(r: SoftwareHouseRow): SoftwareHouseView {
  return {
    id: r.id,
    name: r.name,
    dojoSoftwareHouseId: r.dojoSoftwareHouseId,
    resellerId: r.resellerId,
    ...(r._count ? { locationCount: r._count.locations } : {}),
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}
