import type { GetReservation, Reservation } from '../../core/commands';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { requireReservation } from '../reservation-mapper';

/** GetReservation (GetReservationByIdV1), or NotFound. */
export class GetReservationById implements UseCase<GetReservation, Reservation> {
  execute(ctx: ExecContext, cmd: GetReservation): Promise<Reservation> {
    return requireReservation(ctx.db, ctx.locationId, cmd.reservationId);
  }
}
