import type { Models } from '@app/contracts';
import { EposError } from '@app/contracts';
import type { Prisma } from '@app/db';
import type { Tx } from '../shared/tx';

type PartyRow = Prisma.PartyGetPayload<{}>;

/** A party row as the contract's Party. */
export function partyToDojo(p: PartyRow): Models.Party {
  const out: Models.Party = {
    id: p.id,
    tableIds: p.tableIds as Models.TableIDs,
    status: p.status,
    startTime: p.startTime.toISOString(),
  };
  if (p.name !== null) out.name = p.name;
  if (p.covers !== null) out.covers = p.covers;
  if (p.expectedEndTime !== null) out.expectedEndTime = p.expectedEndTime.toISOString();
  if (p.endTime !== null) out.endTime = p.endTime.toISOString();
  if (p.hostNotes !== null) out.hostNotes = p.hostNotes;
  if (p.guestRequests !== null) out.guestRequests = p.guestRequests;
  if (p.reservationId !== null) out.reservationId = p.reservationId;
  if (p.deposit !== null && typeof p.deposit === 'object') out.deposit = p.deposit as unknown as Models.PartyDeposit;
  return out;
}

export async function requireParty(db: Tx, locationId: string, id: string): Promise<PartyRow> {
  const p = await db.party.findUnique({ where: { locationId_id: { locationId, id } } });
  if (!p) throw EposError.notFound('party', id);
  return p;
}

export function parseTime(value: string, field: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw EposError.invalid(`${field} ${JSON.stringify(value)} is not an ISO 8601 date-time`);
  return d;
}
