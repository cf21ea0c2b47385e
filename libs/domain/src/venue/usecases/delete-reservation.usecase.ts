import { DomainError } from '../../admin/errors';
import type { VenueDeps } from '../ports';

/** Deletes a reservation, and tells Dojo it changed (outbox). */
export class DeleteReservation {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, reservationId: string): Promise<void> {
    await this.d.venue.transaction(async (s) => {
      if (!(await s.parties.deleteReservation(locationId, reservationId))) throw DomainError.notFound('reservation', reservationId);
      await s.enqueuePosEvent(locationId, 'ReservationUpdated', reservationId, { reservationId });
    });
  }
}
