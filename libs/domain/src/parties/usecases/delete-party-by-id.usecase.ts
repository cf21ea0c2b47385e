import type { Models } from '@app/contracts';
import { partiesRepo } from '../../repositories/parties-reservations.repository';
import { appendVenueFeed } from '../../shared/venue-feed';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { requireParty } from '../party-mapper';

/** DeletePartyByIdV1. */
export class DeletePartyById implements UseCase<Models.PartyId, Record<string, never>> {
  async execute(ctx: ExecContext, params: Models.PartyId): Promise<Record<string, never>> {
    const { db, locationId } = ctx;
    const party = await requireParty(db, locationId, params.partyId);
    await partiesRepo(db).deleteParty(locationId, party.id);
    await appendVenueFeed(db, locationId, 'party.deleted', 'party', party.id, { partyId: party.id, dojoPartyId: party.dojoPartyId });
    return {};
  }
}
