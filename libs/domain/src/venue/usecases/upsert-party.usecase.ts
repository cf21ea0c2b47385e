import type { Models } from '@app/contracts';
import { partyDataFromDojo } from '../../parties/party-mapper';
import type { VenueDeps, VenueUpsertResult } from '../ports';
import { DomainError } from '../../admin/errors';
import { requireInt4, requireVenueEntity } from '../validation';
import { upsertVersionedRow } from '../versioned-upsert';
import { tableRefs } from '../table-refs';

/** Creates or replaces a party from Dojo's Party shape, and tells Dojo it changed (outbox). */
export class UpsertParty {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, partyId: string, body: unknown): Promise<VenueUpsertResult> {
    const p = requireVenueEntity<Models.Party>('Party', 'party', partyId, body);
    // Covers count the party's guests (optional: unknown): at least 1 when given, as a reservation's.
    if (p.covers !== undefined && p.covers !== null && (!Number.isInteger(p.covers) || p.covers < 1)) {
      throw DomainError.invalid([{ field: 'covers', reason: 'must be a positive integer' }]);
    }
    requireInt4([[p.covers, 'covers']]);
    const data = { ...partyDataFromDojo(p), reservationId: p.reservationId ?? null };
    return upsertVersionedRow(this.d.venue, locationId, partyId, { type: 'PartyUpdated', payload: { partyId } }, {
      save: (s) => s.parties.saveParty(locationId, partyId, data),
      tables: tableRefs('tableIds', p.tableIds),
      storedTableIds: (s) => s.parties.lockTableIdsOf(locationId, 'party', partyId),
    });
  }
}
