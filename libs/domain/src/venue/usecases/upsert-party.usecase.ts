import type { Models } from '@app/contracts';
import { enqueuePosEvent } from '../../shared/pos-outbox';
import { partyDataFromDojo } from '../../parties/party-mapper';
import type { VenueDeps, VenueUpsertResult } from '../ports';
import { requireEntityId, requireObject, requireSchema, withPathId } from '../validation';

/** Creates or replaces a party from Dojo's Party shape, and tells Dojo it changed (outbox). */
export class UpsertParty {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, partyId: string, body: unknown): Promise<VenueUpsertResult> {
    requireEntityId(partyId, 'party');
    const p = withPathId(requireObject(body), partyId) as unknown as Models.Party;
    requireSchema('Party', p);
    const data = { ...partyDataFromDojo(p), reservationId: p.reservationId ?? null };
    return this.d.prisma.$transaction(async (tx) => {
      const existing = await tx.party.findUnique({ where: { locationId_id: { locationId, id: partyId } }, select: { version: true } });
      const row = existing
        ? await tx.party.update({
            where: { locationId_id: { locationId, id: partyId } },
            data: { ...data, version: { increment: 1 } },
            select: { version: true },
          })
        : await tx.party.create({ data: { locationId, id: partyId, ...data }, select: { version: true } });
      await enqueuePosEvent(tx, locationId, 'PartyUpdated', partyId, { partyId });
      return { id: partyId, version: row.version, created: !existing };
    });
  }
}
