import type { Party, SaveParty } from '../../core/commands';
import { DomainRefusal } from '../../core/refusal';
import { partiesRepo } from '../../repositories/parties-reservations.repository';
import { appendVenueFeed } from '../../shared/venue-feed';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { requireTables } from '../../tables/table-refs';
import { partyColumns, partyToDojo } from '../party-mapper';
import { DEFAULT_PARTY_STATUS } from './create-party.usecase';

/**
 * UpdatePartyV1: sets the party's details to those given (null clears); its
 * reservation link stays as it is. The dojoPartyId must be the one the party
 * was created with. Its tables must exist at this location (NotFound), except
 * the ones it already names (the venue may have deleted them since). The venue feed
 * entry is in the EPOS Data shape (the venue API shows it as is).
 */
export class UpdateParty implements UseCase<SaveParty & { partyId: string }, Party> {
  async execute(ctx: ExecContext, cmd: SaveParty & { partyId: string }): Promise<Party> {
    const { db, locationId } = ctx;
    // Read under the row's lock: a delete (the venue's, or Dojo's own) then either waits for this update or went
    // first and leaves nothing to update (NotFound), never an update of no row.
    const repo = partiesRepo(db);
    const current = await repo.lockParty(locationId, cmd.partyId);
    if (!current) throw DomainRefusal.notFound('party', cmd.partyId);
    if (current.dojoPartyId !== null && current.dojoPartyId !== cmd.dojoPartyId) {
      throw DomainRefusal.invalid(`party ${cmd.partyId} belongs to Dojo party ${current.dojoPartyId}, not ${cmd.dojoPartyId}`);
    }
    const d = cmd.details;
    // A table the party already names may have been deleted since: it may stay (core/rules tablesToFind).
    await requireTables(db, locationId, d.tableIds, current.tableIds);
    const party = await repo.updateParty(locationId, cmd.partyId, {
      dojoPartyId: cmd.dojoPartyId,
      ...partyColumns({ ...d, status: d.status ?? DEFAULT_PARTY_STATUS }),
    });
    await appendVenueFeed(db, locationId, 'party.updated', 'party', party.id, partyToDojo(party));
    return party;
  }
}
