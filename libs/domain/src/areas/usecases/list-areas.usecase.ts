import type { Models } from '@app/contracts';
import type { ExecContext, UseCase } from '../../rpc/exec-context';

/** ListAreasV1: every area of the location, by name. */
export class ListAreas implements UseCase<unknown, Models.Area[]> {
  async execute(ctx: ExecContext): Promise<Models.Area[]> {
    const rows = await ctx.db.area.findMany({ where: { locationId: ctx.locationId }, orderBy: [{ name: 'asc' }, { id: 'asc' }] });
    return rows.map((a) => ({ id: a.id, name: a.name, waiterIds: a.waiterIds }));
  }
}
