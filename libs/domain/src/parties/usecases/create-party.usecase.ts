import { randomUUID } from 'node:crypto';
import type { Models } from '@app/contracts';
import { DomainRefusal } from '../../core/refusal';
import { partiesRepo } from '../../repositories/parties-reservations.repository';
import { appendVenueFeed } from '../../shared/venue-feed';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { requireTables } from '../../tables/table-refs';
import { partyDataFromDojo, partyToDojo } from '../party-mapper';

export const DEFAULT_PARTY_STATUS = 'Seated';

/**
 * CreatePartyV1: Dojo seats a party at the venue. Idempotent on dojoPartyId.
 * Tables and the reservation it refers to must exist at this location
 * (NotFound otherwise); a dojoReservationId is resolved to the EPOS's
 * reservation when reservationId is not given.
 */
export class CreateParty implements UseCase<Models.CreatePartyRequest, Models.Party> {
  async execute(ctx: ExecContext, params: Models.CreatePartyRequest): Promise<Models.Party> {
    const { db, locationId } = ctx;
    const repo = partiesRepo(db);
    await repo.lockDojoId(locationId, 'party', params.dojoPartyId);
    const existing = await repo.findPartyByDojoId(locationId, params.dojoPartyId);
    if (existing) return partyToDojo(existing);
    await requireTables(db, locationId, params.tableIds);
    let reservationId = params.reservationId ?? null;
    if (reservationId !== null) {
      const r = await repo.findReservation(locationId, reservationId);
      if (!r) throw DomainRefusal.notFound('reservation', reservationId);
    } else if (params.dojoReservationId) {
      const r = await repo.findReservationByDojoId(locationId, params.dojoReservationId);
      reservationId = r?.id ?? null;
    }
    const party = await repo.createParty(locationId, randomUUID(), {
      dojoPartyId: params.dojoPartyId,
      // A party Dojo seats has not ended yet: CreatePartyRequest carries no endTime.
      ...partyDataFromDojo({ ...params, status: params.status && params.status.length > 0 ? params.status : DEFAULT_PARTY_STATUS, endTime: undefined }),
      reservationId,
    });
    const out = partyToDojo(party);
    await appendVenueFeed(db, locationId, 'party.created', 'party', party.id, out);
    return out;
  }
}
