import { enqueuePosEvent } from '../../shared/pos-outbox';
import { DomainError } from '../../admin/errors';
import type { VenueDeps } from '../ports';

/** Deletes a party, and tells Dojo it changed (outbox). */
export class DeleteParty {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, partyId: string): Promise<void> {
    await this.d.prisma.$transaction(async (tx) => {
      const { count } = await tx.party.deleteMany({ where: { locationId, id: partyId } });
      if (count === 0) throw DomainError.notFound('party', partyId);
      await enqueuePosEvent(tx, locationId, 'PartyUpdated', partyId, { partyId });
    });
  }
}
