import type { Reservation, SaveReservation } from '../../core/commands';
import { DomainRefusal } from '../../core/refusal';
import { partiesRepo } from '../../repositories/parties-reservations.repository';
import { appendVenueFeed } from '../../shared/venue-feed';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { requireTables } from '../../tables/table-refs';
import { reservationColumns, reservationToDojo } from '../reservation-mapper';
import { requireWindow } from './create-reservation.usecase';

/**
 * UpdateReservationV1: sets the reservation's details to those given (null
 * clears). The dojoReservationId must be the one it was created with. Its
 * tables must exist at this location (NotFound), except the ones it already
 * names (the venue may have deleted them since). The venue feed entry is in the EPOS Data shape (the venue API shows it as is).
 */
export class UpdateReservation implements UseCase<SaveReservation & { reservationId: string }, Reservation> {
  async execute(ctx: ExecContext, cmd: SaveReservation & { reservationId: string }): Promise<Reservation> {
    const { db, locationId } = ctx;
    // Read under the row's lock, as UpdateParty: a delete never leaves this updating no row.
    const repo = partiesRepo(db);
    const current = await repo.lockReservation(locationId, cmd.reservationId);
    if (!current) throw DomainRefusal.notFound('reservation', cmd.reservationId);
    if (current.dojoReservationId !== null && current.dojoReservationId !== cmd.dojoReservationId) {
      throw DomainRefusal.invalid(
        `reservation ${cmd.reservationId} belongs to Dojo reservation ${current.dojoReservationId}, not ${cmd.dojoReservationId}`,
      );
    }
    requireWindow(cmd.details);
    // A table the reservation already names may have been deleted since: it may stay (core/rules tablesToFind).
    await requireTables(db, locationId, cmd.details.tableIds, current.tableIds);
    const r = await repo.updateReservation(locationId, cmd.reservationId, {
      dojoReservationId: cmd.dojoReservationId,
      ...reservationColumns(cmd.details),
    });
    await appendVenueFeed(db, locationId, 'reservation.updated', 'reservation', r.id, reservationToDojo(r));
    return r;
  }
}
