import type { PrismaClient } from '@app/db';

/** Everything a venue use-case needs: the database (every query is scoped by the token's location). */
export interface VenueDeps {
  prisma: PrismaClient;
}

/** What a venue create-or-replace answers: the entity id, its version where it has one, and whether it was new. */
export type VenueUpsertResult = { id: string; version?: number; created: boolean };
