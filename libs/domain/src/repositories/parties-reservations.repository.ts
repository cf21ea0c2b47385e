import { Prisma } from '@app/db';
import type { Tx } from '../shared/tx';

/**
 * Parties and reservations: the only code that reads or writes the tables
 * parties and reservations. Every method takes the location first and scopes
 * its query by it. Rows are Prisma's row types; the mappers turn them into
 * a dialect's shapes.
 */
export type PartyRow = Prisma.PartyGetPayload<Record<string, never>>;
export type ReservationRow = Prisma.ReservationGetPayload<Record<string, never>>;

/** The fields of a party or reservation row the use-cases set (everything but the keys and seq). */
export type PartyData = Omit<Prisma.PartyUncheckedCreateInput, 'locationId' | 'id' | 'seq' | 'version'>;
export type ReservationData = Omit<Prisma.ReservationUncheckedCreateInput, 'locationId' | 'id' | 'seq' | 'version'>;

export interface PartySearch {
  /** true: ended parties only; false: still seated (no endTime). */
  completedOnly: boolean;
  tableId?: string;
}

export interface ReservationSearch {
  tableId?: string;
  /** Reservations ending after this. */
  endsAfter?: Date;
  /** Reservations starting before this. */
  startsBefore?: Date;
}

type Dir = 'asc' | 'desc';
const select = { version: true } as const;

const seqBound = <W>(where: W, dir: Dir, seq: bigint | undefined): W | { AND: [W, { seq: { gt: bigint } | { lt: bigint } }] } =>
  seq === undefined ? where : { AND: [where, { seq: dir === 'asc' ? { gt: seq } : { lt: seq } }] };

export class PartiesReservationsRepository {
  constructor(private readonly db: Tx) {}

  /** Serialises the creation of the party or reservation for one Dojo id (a transaction advisory lock). */
  async lockDojoId(locationId: string, kind: 'party' | 'reservation', dojoId: string): Promise<void> {
    await this.db.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`${kind}:${locationId}:${dojoId}`}, 0))`;
  }

  /** The table ids the party or reservation names (none when there is no such row), its row locked (FOR UPDATE) until the transaction ends. */
  async lockTableIdsOf(locationId: string, kind: 'party' | 'reservation', id: string): Promise<string[]> {
    const table = kind === 'party' ? Prisma.sql`parties` : Prisma.sql`reservations`;
    const rows = await this.db.$queryRaw<{ table_ids: string[] }[]>`
      SELECT table_ids FROM ${table} WHERE location_id = ${locationId}::uuid AND id = ${id} FOR UPDATE`;
    return rows[0]?.table_ids ?? [];
  }

  // ---- parties ----

  findParty(locationId: string, id: string): Promise<PartyRow | null> {
    return this.db.party.findUnique({ where: { locationId_id: { locationId, id } } });
  }

  /**
   * The party, its row locked (FOR UPDATE) until the transaction ends, or null when there is none. Dojo's update reads
   * it so: a delete that commits after a plain read would leave the update updating no row (Prisma's P2025, an
   * UnexpectedError); locked, a delete waits for the update, and one that went first is waited for and then not found.
   */
  async lockParty(locationId: string, id: string): Promise<PartyRow | null> {
    return (await this.lockIfExists('party', locationId, id)) ? this.findParty(locationId, id) : null;
  }

  /** The covers of these parties (those that have some), by party id. */
  async coversOfParties(locationId: string, ids: readonly string[]): Promise<Map<string, number>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db.party.findMany({ where: { locationId, id: { in: [...ids] }, covers: { not: null } }, select: { id: true, covers: true } });
    return new Map(rows.map((r) => [r.id, r.covers!]));
  }

  findPartyByDojoId(locationId: string, dojoPartyId: string): Promise<PartyRow | null> {
    return this.db.party.findUnique({ where: { locationId_dojoPartyId: { locationId, dojoPartyId } } });
  }

  createParty(locationId: string, id: string, data: PartyData): Promise<PartyRow> {
    return this.db.party.create({ data: { ...data, locationId, id } });
  }

  /** Sets the fields and bumps the version. */
  updateParty(locationId: string, id: string, data: Partial<PartyData>): Promise<PartyRow> {
    return this.db.party.update({ where: { locationId_id: { locationId, id } }, data: { ...data, version: { increment: 1 } } });
  }

  /** Deletes the party; false when there was none. */
  async deleteParty(locationId: string, id: string): Promise<boolean> {
    const { count } = await this.db.party.deleteMany({ where: { locationId, id } });
    return count > 0;
  }

  /** Up to `take` parties past `seq` in direction `dir` (keyset by seq). */
  searchParties(locationId: string, s: PartySearch, dir: Dir, seq: bigint | undefined, take: number): Promise<PartyRow[]> {
    return this.db.party.findMany({ where: seqBound(partyWhere(locationId, s), dir, seq), orderBy: { seq: dir }, take });
  }

  async anyParty(locationId: string, s: PartySearch, dir: Dir, seq: bigint | undefined): Promise<boolean> {
    return (await this.db.party.findFirst({ where: seqBound(partyWhere(locationId, s), dir, seq), select: { seq: true } })) !== null;
  }

  /**
   * Whether the party or reservation exists, its row locked (FOR UPDATE) until the transaction ends when it does. The
   * venue's create-or-replace (and Dojo's update: lockParty, lockReservation) reads it so: a DELETE that commits after a plain read would leave the replace updating
   * no row (Prisma's P2025, a 500). Locked, the DELETE waits for the replace; a DELETE that went first is waited for
   * and the row is then found gone, so it is created again.
   */
  private async lockIfExists(kind: 'party' | 'reservation', locationId: string, id: string): Promise<boolean> {
    const table = kind === 'party' ? Prisma.sql`parties` : Prisma.sql`reservations`;
    const rows = await this.db.$queryRaw<unknown[]>`SELECT 1 FROM ${table} WHERE location_id = ${locationId}::uuid AND id = ${id} FOR UPDATE`;
    return rows.length > 0;
  }

  /**
   * The venue's create-or-replace: the version after the write, and whether it was created. A replace leaves the
   * fields in `keptOnReplace` as stored (core/rules partyFieldsKeptByVenueReplace); a create sets them all.
   */
  async saveParty(
    locationId: string,
    id: string,
    data: PartyData,
    keptOnReplace: readonly (keyof PartyData)[] = [],
  ): Promise<{ version: number; created: boolean }> {
    const where = { locationId_id: { locationId, id } };
    const existing = await this.lockIfExists('party', locationId, id);
    const row = existing
      ? await this.db.party.update({ where, data: { ...without(data, keptOnReplace), version: { increment: 1 } }, select })
      : await this.db.party.create({ data: { ...data, locationId, id }, select });
    return { version: row.version, created: !existing };
  }

  // ---- reservations ----

  findReservation(locationId: string, id: string): Promise<ReservationRow | null> {
    return this.db.reservation.findUnique({ where: { locationId_id: { locationId, id } } });
  }

  /** The reservation, its row locked (FOR UPDATE) until the transaction ends, or null when there is none (as lockParty). */
  async lockReservation(locationId: string, id: string): Promise<ReservationRow | null> {
    return (await this.lockIfExists('reservation', locationId, id)) ? this.findReservation(locationId, id) : null;
  }

  findReservationByDojoId(locationId: string, dojoReservationId: string): Promise<ReservationRow | null> {
    return this.db.reservation.findUnique({ where: { locationId_dojoReservationId: { locationId, dojoReservationId } } });
  }

  createReservation(locationId: string, id: string, data: ReservationData): Promise<ReservationRow> {
    return this.db.reservation.create({ data: { ...data, locationId, id } });
  }

  updateReservation(locationId: string, id: string, data: Partial<ReservationData>): Promise<ReservationRow> {
    return this.db.reservation.update({ where: { locationId_id: { locationId, id } }, data: { ...data, version: { increment: 1 } } });
  }

  async deleteReservation(locationId: string, id: string): Promise<boolean> {
    const { count } = await this.db.reservation.deleteMany({ where: { locationId, id } });
    return count > 0;
  }

  searchReservations(locationId: string, s: ReservationSearch, dir: Dir, seq: bigint | undefined, take: number): Promise<ReservationRow[]> {
    return this.db.reservation.findMany({ where: seqBound(reservationWhere(locationId, s), dir, seq), orderBy: { seq: dir }, take });
  }

  async anyReservation(locationId: string, s: ReservationSearch, dir: Dir, seq: bigint | undefined): Promise<boolean> {
    return (await this.db.reservation.findFirst({ where: seqBound(reservationWhere(locationId, s), dir, seq), select: { seq: true } })) !== null;
  }

  /** As saveParty (core/rules RESERVATION_FIELDS_KEPT_BY_VENUE_REPLACE). */
  async saveReservation(
    locationId: string,
    id: string,
    data: ReservationData,
    keptOnReplace: readonly (keyof ReservationData)[] = [],
  ): Promise<{ version: number; created: boolean }> {
    const where = { locationId_id: { locationId, id } };
    const existing = await this.lockIfExists('reservation', locationId, id);
    const row = existing
      ? await this.db.reservation.update({ where, data: { ...without(data, keptOnReplace), version: { increment: 1 } }, select })
      : await this.db.reservation.create({ data: { ...data, locationId, id }, select });
    return { version: row.version, created: !existing };
  }
}

/** `data` without the given fields (an update then leaves their columns as stored). */
function without<T extends object>(data: T, fields: readonly (keyof T)[]): Partial<T> {
  const out: Partial<T> = { ...data };
  for (const f of fields) delete out[f];
  return out;
}

function partyWhere(locationId: string, s: PartySearch): Prisma.PartyWhereInput {
  const where: Prisma.PartyWhereInput = { locationId, endTime: s.completedOnly ? { not: null } : null };
  if (s.tableId !== undefined) where.tableIds = { has: s.tableId };
  return where;
}

function reservationWhere(locationId: string, s: ReservationSearch): Prisma.ReservationWhereInput {
  const where: Prisma.ReservationWhereInput = { locationId };
  if (s.tableId !== undefined) where.tableIds = { has: s.tableId };
  if (s.endsAfter) where.endTime = { gt: s.endsAfter };
  if (s.startsBefore) where.startTime = { lt: s.startsBefore };
  return where;
}

export const partiesRepo = (db: Tx) => new PartiesReservationsRepository(db);
