import type { Models } from '@app/contracts';
import { EposError } from '@app/contracts';
import { partiesRepo, type ReservationRow } from '../repositories/parties-reservations.repository';
import type { Tx } from '../shared/tx';
import { DomainRefusal } from '../core/refusal';
import type { ReservationDetails } from '../core/commands';


export function reservationToDojo(r: ReservationRow): Models.Reservation {
  const out: Models.Reservation = {
    id: r.id,
    name: r.name,
    covers: r.covers,
    startTime: r.startTime.toISOString(),
    endTime: r.endTime.toISOString(),
    tableIds: r.tableIds as Models.TableIDs2,
  };
  if (r.hostNotes !== null) out.hostNotes = r.hostNotes;
  if (r.guestRequests !== null) out.guestRequests = r.guestRequests;
  return out;
}

export async function requireReservation(db: Tx, locationId: string, id: string): Promise<ReservationRow> {
  const r = await partiesRepo(db).findReservation(locationId, id);
  if (!r) throw DomainRefusal.notFound('reservation', id);
  return r;
}

/** Parses start/end and refuses an end that is not after the start. */
export function reservationWindow(startTime: string, endTime: string): { startTime: Date; endTime: Date } {
  const s = new Date(startTime);
  const e = new Date(endTime);
  if (Number.isNaN(s.getTime())) throw EposError.invalid(`startTime ${JSON.stringify(startTime)} is not an ISO 8601 date-time`);
  if (Number.isNaN(e.getTime())) throw EposError.invalid(`endTime ${JSON.stringify(endTime)} is not an ISO 8601 date-time`);
  if (e.getTime() <= s.getTime()) throw EposError.invalid(`endTime ${endTime} must be after startTime ${startTime}`);
  return { startTime: s, endTime: e };
}

/** The reservation fields Dojo's shapes (Reservation, Create/UpdateReservationRequest) carry alike. */
export interface ReservationFields {
  name: string;
  covers: number;
  startTime: string;
  endTime: string;
  tableIds: string[];
  hostNotes?: string;
  guestRequests?: string;
}

/** Those fields as the domain's ReservationDetails; refuses (EposError, the wire's field names) a time that is not ISO 8601. */
export function reservationDetailsFromDojo(r: ReservationFields): ReservationDetails {
  return {
    name: r.name,
    covers: r.covers,
    startTime: isoTime(r.startTime, 'startTime'),
    endTime: isoTime(r.endTime, 'endTime'),
    tableIds: r.tableIds,
    hostNotes: r.hostNotes ?? null,
    guestRequests: r.guestRequests ?? null,
  };
}

/** The reservation columns a ReservationDetails sets, for a create or a full replace (null clears). */
export function reservationColumns(d: ReservationDetails) {
  return {
    name: d.name,
    covers: d.covers,
    startTime: d.startTime,
    endTime: d.endTime,
    tableIds: d.tableIds,
    hostNotes: d.hostNotes,
    guestRequests: d.guestRequests,
  };
}

/**
 * The reservation columns those fields set, for a create or a full replace (a
 * field left out is cleared); refuses a window whose end is not after its
 * start. Ids (id, dojoReservationId) are the caller's.
 */
export function reservationDataFromDojo(r: ReservationFields) {
  return {
    name: r.name,
    covers: r.covers,
    ...reservationWindow(r.startTime, r.endTime),
    tableIds: r.tableIds,
    hostNotes: r.hostNotes ?? null,
    guestRequests: r.guestRequests ?? null,
  };
}

function isoTime(value: string, field: string): Date {
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw EposError.invalid(`${field} ${JSON.stringify(value)} is not an ISO 8601 date-time`);
  return d;
}
