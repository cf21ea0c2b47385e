import type { Models } from '@app/contracts';
import { partyColumns, partyDetailsFromDojo } from '../../parties/party-mapper';
import { partyContentProblems, partyFieldsKeptByVenueReplace } from '../../core/rules';
import type { VenueDeps, VenueUpsertResult } from '../ports';
import { DomainError } from '../../admin/errors';
import { requireInt4, requireVenueEntity } from '../validation';
import { upsertVersionedRow } from '../versioned-upsert';
import { tableRefs } from '../table-refs';

/**
 * Creates or replaces a party from Dojo's Party shape, and tells Dojo it changed (outbox). A replace keeps the stored
 * guestRequests, and the stored deposit when the body has none (core/rules partyFieldsKeptByVenueReplace).
 */
export class UpsertParty {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, partyId: string, body: unknown): Promise<VenueUpsertResult> {
    const p = requireVenueEntity<Models.Party>('Party', 'party', partyId, body);
    // Covers count the party's guests (optional: unknown): at least 1 when given, as a reservation's.
    if (p.covers !== undefined && p.covers !== null && (!Number.isInteger(p.covers) || p.covers < 1)) {
      throw DomainError.invalid([{ field: 'covers', reason: 'must be a positive integer' }]);
    }
    requireInt4([[p.covers, 'covers']]);
    const details = partyDetailsFromDojo(p);
    // Times in order and a deposit that is money (core/rules partyContentProblems).
    const problems = partyContentProblems(details);
    if (problems.length) throw DomainError.invalid(problems);
    // The reservation it names need not exist (yet): the venue is the source of both and may send the party first,
    // and deleting a reservation leaves its parties as they are (unlike Dojo's CreatePartyV1, which links to one).
    const data = { ...partyColumns(details), reservationId: p.reservationId ?? null };
    // A replace keeps the guest's requests (Dojo's; the EPOS may not edit them) and, when the body has none, the deposit.
    const kept = partyFieldsKeptByVenueReplace(p);
    return upsertVersionedRow(this.d.venue, locationId, partyId, { type: 'PartyUpdated', payload: { partyId } }, {
      save: (s) => s.parties.saveParty(locationId, partyId, data, kept),
      tables: tableRefs('tableIds', p.tableIds),
      storedTableIds: (s) => s.parties.lockTableIdsOf(locationId, 'party', partyId),
    });
  }
}
