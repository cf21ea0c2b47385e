import type { Models } from '@app/contracts';
import { appendVenueFeed } from '../../shared/venue-feed';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { requireReservation } from '../reservation-mapper';

/** DeleteReservationByIdV1. */
export class DeleteReservationById implements UseCase<Models.ReservationId, Record<string, never>> {
  async execute(ctx: ExecContext, params: Models.ReservationId): Promise<Record<string, never>> {
    const { db, locationId } = ctx;
    const r = await requireReservation(db, locationId, params.reservationId);
    await db.reservation.delete({ where: { locationId_id: { locationId, id: r.id } } });
    await appendVenueFeed(db, locationId, 'reservation.deleted', 'reservation', r.id, { reservationId: r.id, dojoReservationId: r.dojoReservationId });
    return {};
  }
}
