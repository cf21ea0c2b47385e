import type { Area } from '../../core/commands';
import { tablesRepo } from '../../repositories/tables.repository';
import type { ExecContext, UseCase } from '../../rpc/exec-context';

/** ListAreas (ListAreasV1): the location's areas by name, then id. */
export class ListAreas implements UseCase<unknown, Area[]> {
  execute(ctx: ExecContext): Promise<Area[]> {
    return tablesRepo(ctx.db).listAreas(ctx.locationId);
  }
}
