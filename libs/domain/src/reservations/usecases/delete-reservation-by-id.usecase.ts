import type { DeleteReservation } from '../../core/commands';
import { partiesRepo } from '../../repositories/parties-reservations.repository';
import { appendVenueFeed } from '../../shared/venue-feed';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { requireReservation } from '../reservation-mapper';

/** DeleteReservationByIdV1. */
export class DeleteReservationById implements UseCase<DeleteReservation, void> {
  async execute(ctx: ExecContext, cmd: DeleteReservation): Promise<void> {
    const { db, locationId } = ctx;
    const r = await requireReservation(db, locationId, cmd.reservationId);
    await partiesRepo(db).deleteReservation(locationId, r.id);
    await appendVenueFeed(db, locationId, 'reservation.deleted', 'reservation', r.id, { reservationId: r.id, dojoReservationId: r.dojoReservationId });
  }
}
