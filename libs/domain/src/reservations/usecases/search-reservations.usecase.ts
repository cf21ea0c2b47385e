import { EposError, Models } from '@app/contracts';
import { partiesRepo, type ReservationRow, type ReservationSearch } from '../../repositories/parties-reservations.repository';
import { decodeSeqCursor, encodeCursor, paginate, pageRequest } from '../../rpc/cursor';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { reservationToDojo } from '../reservation-mapper';

/**
 * SearchReservationsV1: by tableId and a time window. fromTime/toTime select
 * reservations that overlap [fromTime, toTime) (ending after fromTime,
 * starting before toTime). Keyset-paginated by seq.
 */
export class SearchReservations implements UseCase<Models.SearchReservationsRequest, Models.PagedReservationsResponse> {
  async execute(ctx: ExecContext, params: Models.SearchReservationsRequest): Promise<Models.PagedReservationsResponse> {
    const page = pageRequest(params.cursor, (c, f) => decodeSeqCursor('r', c, f));
    const from = params.fromTime !== undefined ? time(params.fromTime, 'fromTime') : undefined;
    const to = params.toTime !== undefined ? time(params.toTime, 'toTime') : undefined;
    if (from && to && to.getTime() < from.getTime()) throw EposError.invalid(`toTime ${params.toTime} is before fromTime ${params.fromTime}`);
    const search: ReservationSearch = { tableId: params.tableId, endsAfter: from, startsBefore: to };
    const repo = partiesRepo(ctx.db);
    const result = await paginate(
      page,
      (row: ReservationRow) => row.seq,
      (seq) => encodeCursor('r', seq),
      (dir, seq, take) => repo.searchReservations(ctx.locationId, search, dir, seq, take),
      (dir, seq) => repo.anyReservation(ctx.locationId, search, dir, seq),
    );
    return { ...result, data: result.data.map(reservationToDojo) };
  }
}

function time(v: string, field: string): Date {
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw EposError.invalid(`${field} ${JSON.stringify(v)} is not an ISO 8601 date-time`);
  return d;
}
