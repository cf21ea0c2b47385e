import type { Models } from '@app/contracts';
import { DomainRefusal } from '../../core/refusal';
import { partiesRepo } from '../../repositories/parties-reservations.repository';
import { appendVenueFeed } from '../../shared/venue-feed';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { requireTables } from '../../tables/table-refs';
import { requireReservation, reservationDataFromDojo, reservationToDojo } from '../reservation-mapper';

/** UpdateReservationV1: sets the reservation's details to those provided (fields left out are cleared). */
export class UpdateReservation implements UseCase<Models.UpdateReservationRequest, Models.Reservation> {
  async execute(ctx: ExecContext, params: Models.UpdateReservationRequest): Promise<Models.Reservation> {
    const { db, locationId } = ctx;
    const current = await requireReservation(db, locationId, params.id);
    if (current.dojoReservationId !== null && current.dojoReservationId !== params.dojoReservationId) {
      throw DomainRefusal.invalid(
        `reservation ${params.id} belongs to Dojo reservation ${current.dojoReservationId}, not ${params.dojoReservationId}`,
      );
    }
    const data = reservationDataFromDojo(params);
    await requireTables(db, locationId, params.tableIds);
    const r = await partiesRepo(db).updateReservation(locationId, params.id, { dojoReservationId: params.dojoReservationId, ...data });
    const out = reservationToDojo(r);
    await appendVenueFeed(db, locationId, 'reservation.updated', 'reservation', r.id, out);
    return out;
  }
}
