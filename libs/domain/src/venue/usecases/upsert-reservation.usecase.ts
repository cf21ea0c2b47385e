import type { Models } from '@app/contracts';
import { DomainError } from '../../admin/errors';
import { RESERVATION_FIELDS_KEPT_BY_VENUE_REPLACE } from '../../core/rules';
import { reservationDataFromDojo } from '../../reservations/reservation-mapper';
import type { VenueDeps, VenueUpsertResult } from '../ports';
import { requireInt4, requireVenueEntity } from '../validation';
import { upsertVersionedRow } from '../versioned-upsert';
import { tableRefs } from '../table-refs';

/**
 * Creates or replaces a reservation from Dojo's Reservation shape, and tells Dojo it changed (outbox). A replace keeps
 * the stored guestRequests (core/rules RESERVATION_FIELDS_KEPT_BY_VENUE_REPLACE).
 */
export class UpsertReservation {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, reservationId: string, body: unknown): Promise<VenueUpsertResult> {
    const r = requireVenueEntity<Models.Reservation>('Reservation', 'reservation', reservationId, body);
    // Field-level reasons for the venue first; the shared mapper below then builds the row.
    const start = new Date(r.startTime);
    const end = new Date(r.endTime);
    if (end.getTime() <= start.getTime()) throw DomainError.invalid([{ field: 'endTime', reason: 'must be after startTime' }]);
    if (!Number.isInteger(r.covers) || r.covers < 1) throw DomainError.invalid([{ field: 'covers', reason: 'must be a positive integer' }]);
    requireInt4([[r.covers, 'covers']]);
    const data = reservationDataFromDojo(r);
    return upsertVersionedRow(this.d.venue, locationId, reservationId, { type: 'ReservationUpdated', payload: { reservationId } }, {
      save: (s) => s.parties.saveReservation(locationId, reservationId, data, RESERVATION_FIELDS_KEPT_BY_VENUE_REPLACE),
      tables: tableRefs('tableIds', r.tableIds),
      storedTableIds: (s) => s.parties.lockTableIdsOf(locationId, 'reservation', reservationId),
    });
  }
}
