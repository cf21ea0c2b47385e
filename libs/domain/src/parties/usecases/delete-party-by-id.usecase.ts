import type { DeleteParty } from '../../core/commands';
import { partiesRepo } from '../../repositories/parties-reservations.repository';
import { appendVenueFeed } from '../../shared/venue-feed';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { requireParty } from '../party-mapper';

/** DeletePartyByIdV1. */
export class DeletePartyById implements UseCase<DeleteParty, void> {
  async execute(ctx: ExecContext, cmd: DeleteParty): Promise<void> {
    const { db, locationId } = ctx;
    const party = await requireParty(db, locationId, cmd.partyId);
    await partiesRepo(db).deleteParty(locationId, party.id);
    await appendVenueFeed(db, locationId, 'party.deleted', 'party', party.id, { partyId: party.id, dojoPartyId: party.dojoPartyId });
  }
}
