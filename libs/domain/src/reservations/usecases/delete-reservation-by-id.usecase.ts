import type { Models } from '@app/contracts';
import { partiesRepo } from '../../repositories/parties-reservations.repository';
import { appendVenueFeed } from '../../shared/venue-feed';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { requireReservation } from '../reservation-mapper';

/** DeleteReservationByIdV1. */
export class DeleteReservationById implements UseCase<Models.ReservationId, Record<string, never>> {
  async execute(ctx: ExecContext, params: Models.ReservationId): Promise<Record<string, never>> {
    const { db, locationId } = ctx;
    const r = await requireReservation(db, locationId, params.reservationId);
    await partiesRepo(db).deleteReservation(locationId, r.id);
    await appendVenueFeed(db, locationId, 'reservation.deleted', 'reservation', r.id, { reservationId: r.id, dojoReservationId: r.dojoReservationId });
    return {};
  }
}
