import type { Models } from '@app/contracts';
import type { ExecContext, UseCase } from '../../rpc/exec-context';
import { partyToDojo, requireParty } from '../party-mapper';

/** GetPartyByIdV1. */
export class GetPartyById implements UseCase<Models.PartyId, Models.Party> {
  async execute(ctx: ExecContext, params: Models.PartyId): Promise<Models.Party> {
    return partyToDojo(await requireParty(ctx.db, ctx.locationId, params.partyId));
  }
}
