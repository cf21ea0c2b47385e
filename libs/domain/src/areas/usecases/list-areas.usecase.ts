import type { Models } from '@app/contracts';
import { tablesRepo } from '../../repositories/tables.repository';
import type { ExecContext, UseCase } from '../../rpc/exec-context';

/** ListAreasV1: every area of the location, by name. */
export class ListAreas implements UseCase<unknown, Models.Area[]> {
  async execute(ctx: ExecContext): Promise<Models.Area[]> {
    const rows = await tablesRepo(ctx.db).listAreas(ctx.locationId);
    return rows.map((a) => ({ id: a.id, name: a.name, waiterIds: a.waiterIds }));
  }
}
