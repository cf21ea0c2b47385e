import type { Models } from '@app/contracts';
import { DomainRefusal } from '../../core/refusal';
import { partiesRepo } from '../../repositories/parties-reservations.repository';
import { appendVenueFeed } from '../../shared/venue-feed';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { requireTables } from '../../tables/table-refs';
import { partyDataFromDojo, partyToDojo, requireParty } from '../party-mapper';

/**
 * UpdatePartyV1: sets the party's details to those provided (fields left out
 * are cleared). The dojoPartyId must be the one the party was created with.
 */
export class UpdateParty implements UseCase<Models.UpdatePartyRequest, Models.Party> {
  async execute(ctx: ExecContext, params: Models.UpdatePartyRequest): Promise<Models.Party> {
    const { db, locationId } = ctx;
    const current = await requireParty(db, locationId, params.id);
    if (current.dojoPartyId !== null && current.dojoPartyId !== params.dojoPartyId) {
      throw DomainRefusal.invalid(`party ${params.id} belongs to Dojo party ${current.dojoPartyId}, not ${params.dojoPartyId}`);
    }
    await requireTables(db, locationId, params.tableIds);
    const party = await partiesRepo(db).updateParty(locationId, params.id, { dojoPartyId: params.dojoPartyId, ...partyDataFromDojo(params) });
    const out = partyToDojo(party);
    await appendVenueFeed(db, locationId, 'party.updated', 'party', party.id, out);
    return out;
  }
}
