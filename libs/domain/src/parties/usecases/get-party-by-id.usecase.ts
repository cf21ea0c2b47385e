import type { GetParty, Party } from '../../core/commands';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { requireParty } from '../party-mapper';

/** GetParty (GetPartyByIdV1), or NotFound. */
export class GetPartyById implements UseCase<GetParty, Party> {
  execute(ctx: ExecContext, cmd: GetParty): Promise<Party> {
    return requireParty(ctx.db, ctx.locationId, cmd.partyId);
  }
}
