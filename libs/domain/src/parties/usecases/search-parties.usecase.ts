import type { Models } from '@app/contracts';
import { partiesRepo, type PartyRow, type PartySearch } from '../../repositories/parties-reservations.repository';
import { decodeSeqCursor, encodeCursor, paginate, pageRequest } from '../../rpc/cursor';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { partyToDojo } from '../party-mapper';

/**
 * SearchPartiesV1: parties still seated (no endTime) by default; only ended
 * parties with completedOnly. Optional tableId. Keyset-paginated by seq.
 */
export class SearchParties implements UseCase<Models.SearchPartiesRequest, Models.PagedPartiesResponse> {
  async execute(ctx: ExecContext, params: Models.SearchPartiesRequest): Promise<Models.PagedPartiesResponse> {
    const page = pageRequest(params.cursor, (c, f) => decodeSeqCursor('p', c, f));
    const search: PartySearch = { completedOnly: !!params.completedOnly, tableId: params.tableId };
    const repo = partiesRepo(ctx.db);
    const result = await paginate(
      page,
      (row: PartyRow) => row.seq,
      (seq) => encodeCursor('p', seq),
      (dir, seq, take) => repo.searchParties(ctx.locationId, search, dir, seq, take),
      (dir, seq) => repo.anyParty(ctx.locationId, search, dir, seq),
    );
    return { ...result, data: result.data.map(partyToDojo) };
  }
}
