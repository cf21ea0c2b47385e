import { DomainError } from '../../admin/errors';
import type { VenueDeps } from '../ports';

/** Deletes a party, and tells Dojo it changed (outbox). */
export class DeleteParty {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, partyId: string): Promise<void> {
    await this.d.venue.transaction(async (s) => {
      if (!(await s.parties.deleteParty(locationId, partyId))) throw DomainError.notFound('party', partyId);
      await s.enqueuePosEvent(locationId, 'PartyUpdated', partyId, { partyId });
    });
  }
}
