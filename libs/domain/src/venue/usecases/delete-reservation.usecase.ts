import { enqueuePosEvent } from '../../shared/pos-outbox';
import { DomainError } from '../../admin/errors';
import type { VenueDeps } from '../ports';

/** Deletes a reservation, and tells Dojo it changed (outbox). */
export class DeleteReservation {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, reservationId: string): Promise<void> {
    await this.d.prisma.$transaction(async (tx) => {
      const { count } = await tx.reservation.deleteMany({ where: { locationId, id: reservationId } });
      if (count === 0) throw DomainError.notFound('reservation', reservationId);
      await enqueuePosEvent(tx, locationId, 'ReservationUpdated', reservationId, { reservationId });
    });
  }
}
