import type { Models } from '@app/contracts';
import { EposError } from '@app/contracts';
import { Prisma } from '@app/db';
import { partiesRepo, type PartyRow } from '../repositories/parties-reservations.repository';
import type { Tx } from '../shared/tx';
import { DomainRefusal } from '../core/refusal';
import type { PartyDetails } from '../core/commands';
import { toJson } from '../shared/venue-feed';


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
  // Only an object is a PartyDeposit (a deposit of another JSON shape, taken before the contract's schema was read as an object, is left out).
  if (p.deposit !== null && typeof p.deposit === 'object' && !Array.isArray(p.deposit)) out.deposit = p.deposit as unknown as Models.PartyDeposit;
  return out;
}

export async function requireParty(db: Tx, locationId: string, id: string): Promise<PartyRow> {
  const p = await partiesRepo(db).findParty(locationId, id);
  if (!p) throw DomainRefusal.notFound('party', id);
  return p;
}

export function parseTime(value: string, field: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw EposError.invalid(`${field} ${JSON.stringify(value)} is not an ISO 8601 date-time`);
  return d;
}

/** The party fields Dojo's shapes (Party, CreatePartyRequest, UpdatePartyRequest) carry alike. */
export interface PartyFields {
  name?: string;
  covers?: number;
  tableIds: string[];
  status: string;
  startTime: string;
  expectedEndTime?: string;
  endTime?: string;
  hostNotes?: string;
  guestRequests?: string;
  deposit?: Models.PartyDeposit;
}

/** Those fields as the domain's PartyDetails; refuses (EposError, the wire's field names) a time that is not ISO 8601. */
export function partyDetailsFromDojo(p: PartyFields): PartyDetails & { status: string } {
  return {
    name: p.name ?? null,
    covers: p.covers ?? null,
    tableIds: p.tableIds,
    status: p.status,
    startTime: parseTime(p.startTime, 'startTime'),
    expectedEndTime: p.expectedEndTime ? parseTime(p.expectedEndTime, 'expectedEndTime') : null,
    endTime: p.endTime ? parseTime(p.endTime, 'endTime') : null,
    hostNotes: p.hostNotes ?? null,
    guestRequests: p.guestRequests ?? null,
    deposit: p.deposit ? (p.deposit as unknown as Record<string, unknown>) : null,
  };
}

/** The party columns a PartyDetails sets, for a create or a full replace (null clears). */
export function partyColumns(d: PartyDetails & { status: string }) {
  return {
    name: d.name,
    covers: d.covers,
    tableIds: d.tableIds,
    status: d.status,
    startTime: d.startTime,
    expectedEndTime: d.expectedEndTime,
    endTime: d.endTime,
    hostNotes: d.hostNotes,
    guestRequests: d.guestRequests,
    deposit: d.deposit ? toJson(d.deposit) : Prisma.DbNull,
  };
}
