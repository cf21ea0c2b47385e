import { randomUUID } from 'node:crypto';
import type { Party, SaveParty } from '../../core/commands';
import { DomainRefusal } from '../../core/refusal';
import { partiesRepo } from '../../repositories/parties-reservations.repository';
import { appendVenueFeed } from '../../shared/venue-feed';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { requireTables } from '../../tables/table-refs';
import { partyColumns, partyToDojo } from '../party-mapper';

export const DEFAULT_PARTY_STATUS = 'Seated';

/**
 * CreatePartyV1: Dojo seats a party at the venue. Idempotent on dojoPartyId
 * (the party seated the first time is returned). Tables and the reservation
 * it refers to must exist at this location (not_found otherwise); a
 * dojoReservationId is resolved to the venue's reservation when reservationId
 * is not given. A party without a status is Seated. The venue feed entry is
 * in the EPOS Data shape (the venue API shows it as is).
 */
export class CreateParty implements UseCase<SaveParty, Party> {
  async execute(ctx: ExecContext, cmd: SaveParty): Promise<Party> {
    const { db, locationId } = ctx;
    const repo = partiesRepo(db);
    await repo.lockDojoId(locationId, 'party', cmd.dojoPartyId);
    const existing = await repo.findPartyByDojoId(locationId, cmd.dojoPartyId);
    if (existing) return existing;
    const d = cmd.details;
    await requireTables(db, locationId, d.tableIds);
    let reservationId = cmd.reservationId ?? null;
    if (reservationId !== null) {
      const r = await repo.findReservation(locationId, reservationId);
      if (!r) throw DomainRefusal.notFound('reservation', reservationId);
    } else if (cmd.dojoReservationId) {
      const r = await repo.findReservationByDojoId(locationId, cmd.dojoReservationId);
      reservationId = r?.id ?? null;
    }
    const party = await repo.createParty(locationId, randomUUID(), {
      dojoPartyId: cmd.dojoPartyId,
      // A party Dojo seats has not ended yet.
      ...partyColumns({ ...d, status: d.status && d.status.length > 0 ? d.status : DEFAULT_PARTY_STATUS, endTime: null }),
      reservationId,
    });
    await appendVenueFeed(db, locationId, 'party.created', 'party', party.id, partyToDojo(party));
    return party;
  }
}
