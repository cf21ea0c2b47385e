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

type Row = { id: string; name: string; dojoSoftwareHouseId: string; resellerId: string | null; createdAt: Date; updatedAt: Date; _count?: { locations: number } };

export function toSoftwareHouseView(r: Row): SoftwareHouseView {
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
