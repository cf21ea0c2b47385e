import type { Models } from '@app/contracts';
import { enqueuePosEvent } from '../../shared/pos-outbox';
import { DomainError } from '../../admin/errors';
import { reservationDataFromDojo } from '../../reservations/reservation-mapper';
import type { VenueDeps, VenueUpsertResult } from '../ports';
import { requireEntityId, requireObject, requireSchema, withPathId } from '../validation';

/** Creates or replaces a reservation from Dojo's Reservation shape, and tells Dojo it changed (outbox). */
export class UpsertReservation {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, reservationId: string, body: unknown): Promise<VenueUpsertResult> {
    requireEntityId(reservationId, 'reservation');
    const r = withPathId(requireObject(body), reservationId) as unknown as Models.Reservation;
    requireSchema('Reservation', r);
    // Field-level reasons for the venue first; the shared mapper below then builds the row.
    const start = new Date(r.startTime);
    const end = new Date(r.endTime);
    if (end.getTime() <= start.getTime()) throw DomainError.invalid([{ field: 'endTime', reason: 'must be after startTime' }]);
    if (!Number.isInteger(r.covers) || r.covers < 1) throw DomainError.invalid([{ field: 'covers', reason: 'must be a positive integer' }]);
    const data = reservationDataFromDojo(r);
    return this.d.prisma.$transaction(async (tx) => {
      const existing = await tx.reservation.findUnique({ where: { locationId_id: { locationId, id: reservationId } }, select: { version: true } });
      const row = existing
        ? await tx.reservation.update({
            where: { locationId_id: { locationId, id: reservationId } },
            data: { ...data, version: { increment: 1 } },
            select: { version: true },
          })
        : await tx.reservation.create({ data: { locationId, id: reservationId, ...data }, select: { version: true } });
      await enqueuePosEvent(tx, locationId, 'ReservationUpdated', reservationId, { reservationId });
      return { id: reservationId, version: row.version, created: !existing };
    });
  }
}
