import type { FindReservations, KeysetPage, Reservation } from '../../core/commands';
import { partiesRepo } from '../../repositories/parties-reservations.repository';
import { keysetPage } from '../../rpc/cursor';
import type { ExecContext, UseCase } from '../../rpc/exec-context';

/**
 * FindReservations (SearchReservationsV1): the location's reservations,
 * optionally at a table and overlapping a time window. Keyset-paginated by seq.
 */
export class SearchReservations implements UseCase<FindReservations, KeysetPage<Reservation>> {
  execute(ctx: ExecContext, cmd: FindReservations): Promise<KeysetPage<Reservation>> {
    const repo = partiesRepo(ctx.db);
    return keysetPage(
      cmd.page,
      (row: Reservation) => row.seq,
      (dir, seq, take) => repo.searchReservations(ctx.locationId, cmd.filter, dir, seq, take),
      (dir, seq) => repo.anyReservation(ctx.locationId, cmd.filter, dir, seq),
    );
  }
}
