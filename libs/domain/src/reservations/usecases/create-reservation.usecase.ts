import { randomUUID } from 'node:crypto';
import type { Models } from '@app/contracts';
import { partiesRepo } from '../../repositories/parties-reservations.repository';
import { appendVenueFeed } from '../../shared/venue-feed';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { requireTables } from '../../tables/table-refs';
import { reservationDataFromDojo, reservationToDojo } from '../reservation-mapper';

/** CreateReservationV1: idempotent on dojoReservationId; its tables must exist at this location. */
export class CreateReservation implements UseCase<Models.CreateReservationRequest, Models.Reservation> {
  async execute(ctx: ExecContext, params: Models.CreateReservationRequest): Promise<Models.Reservation> {
    const { db, locationId } = ctx;
    const repo = partiesRepo(db);
    await repo.lockDojoId(locationId, 'reservation', params.dojoReservationId);
    const existing = await repo.findReservationByDojoId(locationId, params.dojoReservationId);
    if (existing) return reservationToDojo(existing);
    const data = reservationDataFromDojo(params);
    await requireTables(db, locationId, params.tableIds);
    const r = await repo.createReservation(locationId, randomUUID(), { dojoReservationId: params.dojoReservationId, ...data });
    const out = reservationToDojo(r);
    await appendVenueFeed(db, locationId, 'reservation.created', 'reservation', r.id, out);
    return out;
  }
}
