import type { FindParties, KeysetPage, Party } from '../../core/commands';
import { partiesRepo } from '../../repositories/parties-reservations.repository';
import { keysetPage } from '../../rpc/cursor';
import type { ExecContext, UseCase } from '../../rpc/exec-context';

/**
 * FindParties (SearchPartiesV1): parties still seated (no endTime) by
 * default; only ended parties with completedOnly. Optional tableId.
 * Keyset-paginated by seq.
 */
export class SearchParties implements UseCase<FindParties, KeysetPage<Party>> {
  execute(ctx: ExecContext, cmd: FindParties): Promise<KeysetPage<Party>> {
    const repo = partiesRepo(ctx.db);
    return keysetPage(
      cmd.page,
      (row: Party) => row.seq,
      (dir, seq, take) => repo.searchParties(ctx.locationId, cmd.filter, dir, seq, take),
      (dir, seq) => repo.anyParty(ctx.locationId, cmd.filter, dir, seq),
    );
  }
}
