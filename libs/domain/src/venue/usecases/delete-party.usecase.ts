import { enqueuePosEvent } from '../../shared/pos-outbox';
import { DomainError } from '../../admin/errors';
import { partiesRepo } from '../../repositories/parties-reservations.repository';
import type { VenueDeps } from '../ports';

/** Deletes a party, and tells Dojo it changed (outbox). */
export class DeleteParty {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, partyId: string): Promise<void> {
    await this.d.prisma.$transaction(async (tx) => {
      if (!(await partiesRepo(tx).deleteParty(locationId, partyId))) throw DomainError.notFound('party', partyId);
      await enqueuePosEvent(tx, locationId, 'PartyUpdated', partyId, { partyId });
    });
  }
}
