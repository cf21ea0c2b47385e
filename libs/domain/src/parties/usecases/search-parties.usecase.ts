import type { Models } from '@app/contracts';
import type { Prisma } from '@app/db';
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
    const where: Prisma.PartyWhereInput = { locationId: ctx.locationId, endTime: params.completedOnly ? { not: null } : null };
    if (params.tableId !== undefined) where.tableIds = { has: params.tableId };
    const bound = (dir: 'asc' | 'desc', seq: bigint | undefined): Prisma.PartyWhereInput =>
      seq === undefined ? where : { AND: [where, { seq: dir === 'asc' ? { gt: seq } : { lt: seq } }] };
    const result = await paginate(
      page,
      (row: Prisma.PartyGetPayload<{}>) => row.seq,
      (seq) => encodeCursor('p', seq),
      (dir, seq, take) => ctx.db.party.findMany({ where: bound(dir, seq), orderBy: { seq: dir }, take }),
      async (dir, seq) => (await ctx.db.party.findFirst({ where: bound(dir, seq), select: { seq: true } })) !== null,
    );
    return { ...result, data: result.data.map(partyToDojo) };
  }
}
