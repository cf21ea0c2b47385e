import { randomUUID } from 'node:crypto';
import type { Reservation, ReservationDetails, SaveReservation } from '../../core/commands';
import { DomainRefusal } from '../../core/refusal';
import { isValidReservationWindow } from '../../core/rules';
import { partiesRepo } from '../../repositories/parties-reservations.repository';
import { appendVenueFeed } from '../../shared/venue-feed';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { requireTables } from '../../tables/table-refs';
import { reservationColumns, reservationToDojo } from '../reservation-mapper';

/** Refuses a window whose end is not after its start (core/rules isValidReservationWindow). */
export function requireWindow(d: ReservationDetails): void {
  if (!isValidReservationWindow(d.startTime, d.endTime)) {
    throw DomainRefusal.invalid(`endTime ${d.endTime.toISOString()} must be after startTime ${d.startTime.toISOString()}`, 'endTime');
  }
}

/**
 * CreateReservationV1: idempotent on dojoReservationId (the reservation booked
 * the first time is returned); its window must end after it starts and its
 * tables must exist at this location. The venue feed entry is in the EPOS
 * Data shape (the venue API shows it as is).
 */
export class CreateReservation implements UseCase<SaveReservation, Reservation> {
  async execute(ctx: ExecContext, cmd: SaveReservation): Promise<Reservation> {
    const { db, locationId } = ctx;
    const repo = partiesRepo(db);
    await repo.lockDojoId(locationId, 'reservation', cmd.dojoReservationId);
    const existing = await repo.findReservationByDojoId(locationId, cmd.dojoReservationId);
    if (existing) return existing;
    requireWindow(cmd.details);
    await requireTables(db, locationId, cmd.details.tableIds);
    const r = await repo.createReservation(locationId, randomUUID(), { dojoReservationId: cmd.dojoReservationId, ...reservationColumns(cmd.details) });
    await appendVenueFeed(db, locationId, 'reservation.created', 'reservation', r.id, reservationToDojo(r));
    return r;
  }
}
