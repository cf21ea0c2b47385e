import { enqueuePosEvent } from '../../shared/pos-outbox';
import { DomainError } from '../../admin/errors';
import { partiesRepo } from '../../repositories/parties-reservations.repository';
import type { VenueDeps } from '../ports';

/** Deletes a reservation, and tells Dojo it changed (outbox). */
export class DeleteReservation {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, reservationId: string): Promise<void> {
    await this.d.prisma.$transaction(async (tx) => {
      if (!(await partiesRepo(tx).deleteReservation(locationId, reservationId))) throw DomainError.notFound('reservation', reservationId);
      await enqueuePosEvent(tx, locationId, 'ReservationUpdated', reservationId, { reservationId });
    });
  }
}
