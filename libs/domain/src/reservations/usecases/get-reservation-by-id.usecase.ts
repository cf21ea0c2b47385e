import type { Models } from '@app/contracts';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { requireReservation, reservationToDojo } from '../reservation-mapper';

/** GetReservationByIdV1. */
export class GetReservationById implements UseCase<Models.ReservationId, Models.Reservation> {
  async execute(ctx: ExecContext, params: Models.ReservationId): Promise<Models.Reservation> {
    return reservationToDojo(await requireReservation(ctx.db, ctx.locationId, params.reservationId));
  }
}
