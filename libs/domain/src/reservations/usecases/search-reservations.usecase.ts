import { EposError, Models } from '@app/contracts';
import type { Prisma } from '@app/db';
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
    const where: Prisma.ReservationWhereInput = { locationId: ctx.locationId };
    if (params.tableId !== undefined) where.tableIds = { has: params.tableId };
    const from = params.fromTime !== undefined ? time(params.fromTime, 'fromTime') : undefined;
    const to = params.toTime !== undefined ? time(params.toTime, 'toTime') : undefined;
    if (from && to && to.getTime() < from.getTime()) throw EposError.invalid(`toTime ${params.toTime} is before fromTime ${params.fromTime}`);
    if (from) where.endTime = { gt: from };
    if (to) where.startTime = { lt: to };
    const bound = (dir: 'asc' | 'desc', seq: bigint | undefined): Prisma.ReservationWhereInput =>
      seq === undefined ? where : { AND: [where, { seq: dir === 'asc' ? { gt: seq } : { lt: seq } }] };
    const result = await paginate(
      page,
      (row: Prisma.ReservationGetPayload<{}>) => row.seq,
      (seq) => encodeCursor('r', seq),
      (dir, seq, take) => ctx.db.reservation.findMany({ where: bound(dir, seq), orderBy: { seq: dir }, take }),
      async (dir, seq) => (await ctx.db.reservation.findFirst({ where: bound(dir, seq), select: { seq: true } })) !== null,
    );
    return { ...result, data: result.data.map(reservationToDojo) };
  }
}

function time(v: string, field: string): Date {
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw EposError.invalid(`${field} ${JSON.stringify(v)} is not an ISO 8601 date-time`);
  return d;
}
