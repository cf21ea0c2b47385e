import { Prisma } from '@app/db';
import type { Tx } from '../shared/tx';
import { constrained } from './constraint-violation';

/**
 * Tables and areas: the only code that reads or writes dining_tables and
 * areas. Every method takes the location first and scopes its query by it.
 */
export type TableRow = Prisma.DiningTableGetPayload<Record<string, never>>;
export type AreaRow = Prisma.AreaGetPayload<Record<string, never>>;

export interface TableData {
  name: string;
  maxCovers: number | null;
  areaId: string | null;
  waiterIds: string[];
}

export interface TableSearch {
  areaId?: string;
  waiterId?: string;
}

type Dir = 'asc' | 'desc';

function tableWhere(locationId: string, s: TableSearch, dir: Dir, id: string | undefined): Prisma.DiningTableWhereInput {
  const where: Prisma.DiningTableWhereInput = { locationId };
  if (s.areaId !== undefined) where.areaId = s.areaId;
  if (s.waiterId !== undefined) where.waiterIds = { has: s.waiterId };
  return id === undefined ? where : { AND: [where, { id: dir === 'asc' ? { gt: id } : { lt: id } }] };
}

export class TablesRepository {
  constructor(private readonly db: Tx) {}

  /** Which of the ids are tables at the location. */
  async existingTableIds(locationId: string, ids: readonly string[]): Promise<Set<string>> {
    const found = await this.db.diningTable.findMany({ where: { locationId, id: { in: [...ids] } }, select: { id: true } });
    return new Set(found.map((t) => t.id));
  }

  /**
   * Which of the ids are tables at the location, key-share-locking those
   * found until the transaction ends (a table cannot be deleted under a write
   * that refers to it).
   */
  async lockExistingTableIds(locationId: string, ids: readonly string[]): Promise<Set<string>> {
    return TablesRepository.tableIdsOf(await this.db.$queryRaw<unknown>(TablesRepository.lockExistingTableIdsSql(locationId, ids)));
  }

  /** lockExistingTableIds' statement, for a caller that sends it together with others (VenueStore.openOrderEdit); its rows: tableIdsOf. */
  static lockExistingTableIdsSql(locationId: string, ids: readonly string[]): Prisma.Sql {
    return Prisma.sql`SELECT id FROM dining_tables WHERE location_id = ${locationId}::uuid AND id = ANY(${[...ids]}::text[]) FOR KEY SHARE`;
  }

  /** The table ids in lockExistingTableIdsSql's rows. */
  static tableIdsOf(rows: unknown): Set<string> {
    return new Set((rows as { id: string }[]).map((r) => r.id));
  }

  /**
   * Every table of the location, by id (a venue has tens, at most a few hundred). A raw statement: the pay-at-table
   * reads run it on every ListSessions, GetSession and ListTables, and on the request path's reads raw statements
   * go straight to pg (rawOnPg) while a model call goes through Prisma's runtime (about 0.4 ms of Node per round trip).
   */
  allTables(locationId: string): Promise<TableRow[]> {
    return this.db.$queryRaw<TableRow[]>(TablesRepository.allTablesSql(locationId));
  }

  /** allTables' statement, for a use-case that sends it together with other reads (readTogether); its rows are TableRows. */
  static allTablesSql(locationId: string): Prisma.Sql {
    return Prisma.sql`
      SELECT location_id AS "locationId", id, name, max_covers AS "maxCovers", area_id AS "areaId", waiter_ids AS "waiterIds",
             created_at AS "createdAt", updated_at AS "updatedAt"
        FROM dining_tables WHERE location_id = ${locationId}::uuid ORDER BY id`;
  }

  /** A subquery of the ids of the location's tables with one of these names, for another aggregate's filter. */
  static idsNamedSql(locationId: string, names: readonly string[]): Prisma.Sql {
    return Prisma.sql`SELECT t.id FROM dining_tables t WHERE t.location_id = ${locationId}::uuid AND t.name = ANY(${[...names]}::text[])`;
  }

  /** Up to `take` tables past `id` in direction `dir` (keyset by table id). */
  searchTables(locationId: string, s: TableSearch, dir: Dir, id: string | undefined, take: number): Promise<TableRow[]> {
    return this.db.diningTable.findMany({ where: tableWhere(locationId, s, dir, id), orderBy: { id: dir }, take });
  }

  async anyTable(locationId: string, s: TableSearch, dir: Dir, id: string | undefined): Promise<boolean> {
    return (await this.db.diningTable.findFirst({ where: tableWhere(locationId, s, dir, id), select: { id: true } })) !== null;
  }

  /**
   * Creates or replaces a table; whether it was created (createOrReplace). A foreign-key violation (an unknown area)
   * is thrown as a ConstraintViolation.
   */
  saveTable(locationId: string, id: string, data: TableData): Promise<{ created: boolean }> {
    return createOrReplace(
      () => this.db.$queryRaw<unknown[]>`
        INSERT INTO dining_tables (location_id, id, name, max_covers, area_id, waiter_ids, created_at, updated_at)
        VALUES (${locationId}::uuid, ${id}, ${data.name}, ${data.maxCovers}::int, ${data.areaId}, ${data.waiterIds}::text[], now(), now())
        ON CONFLICT (location_id, id) DO NOTHING RETURNING 1`,
      () => this.db.$executeRaw`
        UPDATE dining_tables SET name = ${data.name}, max_covers = ${data.maxCovers}::int, area_id = ${data.areaId},
               waiter_ids = ${data.waiterIds}::text[], updated_at = now()
         WHERE location_id = ${locationId}::uuid AND id = ${id}`,
    );
  }

  /**
   * Locks the table's row for the rest of the transaction (FOR UPDATE: it waits for, and then holds off, the writes
   * that key-share-lock the tables they name, lockExistingTableIds); whether there is such a table.
   */
  async lockTableForDelete(locationId: string, id: string): Promise<boolean> {
    const rows = await this.db.$queryRaw<unknown[]>`SELECT 1 FROM dining_tables WHERE location_id = ${locationId}::uuid AND id = ${id} FOR UPDATE`;
    return rows.length > 0;
  }

  async deleteTable(locationId: string, id: string): Promise<boolean> {
    const { count } = await this.db.diningTable.deleteMany({ where: { locationId, id } });
    return count > 0;
  }

  /** The location's areas by name, then id. */
  listAreas(locationId: string): Promise<AreaRow[]> {
    return this.db.area.findMany({ where: { locationId }, orderBy: [{ name: 'asc' }, { id: 'asc' }] });
  }

  /** Creates or replaces an area; whether it was created (createOrReplace). */
  saveArea(locationId: string, id: string, data: { name: string; waiterIds: string[] }): Promise<{ created: boolean }> {
    return createOrReplace(
      () => this.db.$queryRaw<unknown[]>`
        INSERT INTO areas (location_id, id, name, waiter_ids, created_at, updated_at)
        VALUES (${locationId}::uuid, ${id}, ${data.name}, ${data.waiterIds}::text[], now(), now())
        ON CONFLICT (location_id, id) DO NOTHING RETURNING 1`,
      () => this.db.$executeRaw`
        UPDATE areas SET name = ${data.name}, waiter_ids = ${data.waiterIds}::text[], updated_at = now()
         WHERE location_id = ${locationId}::uuid AND id = ${id}`,
    );
  }

  /** Deletes the area; false when there was none. Throws Postgres' foreign-key violation while tables are in it. */
  async deleteArea(locationId: string, id: string): Promise<boolean> {
    const { count } = await constrained(() => this.db.area.deleteMany({ where: { locationId, id } }));
    return count > 0;
  }
}

/**
 * A create-or-replace of a row by its key, in a transaction or not, that knows which it did: `insert` (INSERT ... ON
 * CONFLICT DO NOTHING RETURNING a row) creates it, or finds the key taken and does nothing, waiting first for a
 * write that is creating the same row at that moment; `update` then replaces it. Of several writes of a new row at
 * once, exactly one answers created. A row deleted between the two is inserted again (up to three tries).
 * Constraint violations are thrown as ConstraintViolation.
 */
async function createOrReplace(insert: () => Promise<unknown[]>, update: () => Promise<number>): Promise<{ created: boolean }> {
  return constrained(async () => {
    for (let attempt = 1; ; attempt++) {
      if ((await insert()).length > 0) return { created: true };
      if ((await update()) > 0 || attempt === 3) return { created: false };
    }
  });
}

export const tablesRepo = (db: Tx) => new TablesRepository(db);
