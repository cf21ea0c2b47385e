import type { VenueStore } from '../repositories/venue-store';

/** Everything a venue use-case needs: the venue's repositories (every query is scoped by the token's location). */
export interface VenueDeps {
  venue: VenueStore;
}

/**
 * What a venue create-or-replace answers: the entity id, its version where it has one, and whether it was new.
 * `unchanged`: a conditional write that found its change already made (a retry of a write whose answer was lost):
 * nothing was written.
 */
export type VenueUpsertResult = { id: string; version?: number; created: boolean; unchanged?: true };
