import type { Models } from '@app/contracts';
import { EposError } from '@app/contracts';
import type {
  Area, DeleteParty, DeleteReservation, FindParties, FindReservations, FindTables, GetParty, GetReservation, KeysetPage, Party, Reservation,
  SaveParty, SaveReservation, Table,
} from '../../core/commands';
import { partyDetailsFromDojo, partyToDojo } from '../../parties/party-mapper';
import { reservationDetailsFromDojo, reservationToDojo } from '../../reservations/reservation-mapper';
import { decodeCursor, decodeSeqCursor, encodeCursor, pageRequest, toWirePage } from '../../rpc/cursor';

/**
 * EPOS Data <-> parties, reservations, tables and areas: each wire method's
 * params to a command, each domain result to the wire response. Times that
 * are not ISO 8601 are refused here with the wire's field names. Cursors are
 * this dialect's: opaque, per kind.
 */

export function tableToDojo(t: Table): Models.Table {
  const out: Models.Table = { id: t.id, name: t.name, waiterIds: t.waiterIds };
  if (t.maxCovers !== null) out.maxCovers = t.maxCovers;
  if (t.areaId !== null) out.areaId = t.areaId;
  return out;
}

const ok = (): Record<string, never> => ({});

export const listAreas = {
  toCommand: (_p: unknown): undefined => undefined,
  toWire: (rows: Area[]): Models.Area[] => rows.map((a) => ({ id: a.id, name: a.name, waiterIds: a.waiterIds })),
};

export const searchTables = {
  toCommand(p: Models.SearchTablesRequest): FindTables {
    const page = pageRequest(p.cursor, (c, f) => decodeCursor('t', c, f));
    return { filter: { areaId: p.areaId, waiterId: p.waiterId }, page: { limit: page.limit, after: page.after, before: page.before } };
  },
  toWire: (page: KeysetPage<Table>): Models.PagedTablesResponse => toWirePage(page, tableToDojo, (t) => encodeCursor('t', t.id)),
};

export const searchParties = {
  toCommand(p: Models.SearchPartiesRequest): FindParties {
    const page = pageRequest(p.cursor, (c, f) => decodeSeqCursor('p', c, f));
    return { filter: { completedOnly: !!p.completedOnly, tableId: p.tableId }, page: { limit: page.limit, after: page.after, before: page.before } };
  },
  toWire: (page: KeysetPage<Party>): Models.PagedPartiesResponse => toWirePage(page, partyToDojo, (r) => encodeCursor('p', r.seq)),
};

export const getParty = {
  toCommand: (p: Models.PartyId): GetParty => ({ partyId: p.partyId }),
  toWire: (row: Party): Models.Party => partyToDojo(row),
};

export const createParty = {
  toCommand(p: Models.CreatePartyRequest): SaveParty {
    // CreatePartyRequest carries no endTime: a party Dojo seats has not ended yet.
    const details = partyDetailsFromDojo({ ...p, status: p.status ?? '', endTime: undefined });
    const cmd: SaveParty = { dojoPartyId: p.dojoPartyId, details: { ...details, status: p.status } };
    if (p.reservationId !== undefined) cmd.reservationId = p.reservationId;
    if (p.dojoReservationId !== undefined) cmd.dojoReservationId = p.dojoReservationId;
    return cmd;
  },
  toWire: (row: Party): Models.Party => partyToDojo(row),
};

export const updateParty = {
  toCommand: (p: Models.UpdatePartyRequest): SaveParty & { partyId: string } => ({
    partyId: p.id,
    dojoPartyId: p.dojoPartyId,
    details: partyDetailsFromDojo(p),
  }),
  toWire: (row: Party): Models.Party => partyToDojo(row),
};

export const deleteParty = {
  toCommand: (p: Models.PartyId): DeleteParty => ({ partyId: p.partyId }),
  toWire: ok,
};

export const searchReservations = {
  toCommand(p: Models.SearchReservationsRequest): FindReservations {
    const page = pageRequest(p.cursor, (c, f) => decodeSeqCursor('r', c, f));
    const from = p.fromTime !== undefined ? time(p.fromTime, 'fromTime') : undefined;
    const to = p.toTime !== undefined ? time(p.toTime, 'toTime') : undefined;
    if (from && to && to.getTime() < from.getTime()) throw EposError.invalid(`toTime ${p.toTime} is before fromTime ${p.fromTime}`);
    return { filter: { tableId: p.tableId, endsAfter: from, startsBefore: to }, page: { limit: page.limit, after: page.after, before: page.before } };
  },
  toWire: (page: KeysetPage<Reservation>): Models.PagedReservationsResponse => toWirePage(page, reservationToDojo, (r) => encodeCursor('r', r.seq)),
};

export const getReservation = {
  toCommand: (p: Models.ReservationId): GetReservation => ({ reservationId: p.reservationId }),
  toWire: (row: Reservation): Models.Reservation => reservationToDojo(row),
};

export const createReservation = {
  toCommand: (p: Models.CreateReservationRequest): SaveReservation => ({
    dojoReservationId: p.dojoReservationId,
    details: reservationDetailsFromDojo(p),
  }),
  toWire: (row: Reservation): Models.Reservation => reservationToDojo(row),
};

export const updateReservation = {
  toCommand: (p: Models.UpdateReservationRequest): SaveReservation & { reservationId: string } => ({
    reservationId: p.id,
    dojoReservationId: p.dojoReservationId,
    details: reservationDetailsFromDojo(p),
  }),
  toWire: (row: Reservation): Models.Reservation => reservationToDojo(row),
};

export const deleteReservation = {
  toCommand: (p: Models.ReservationId): DeleteReservation => ({ reservationId: p.reservationId }),
  toWire: ok,
};

function time(v: string, field: string): Date {
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw EposError.invalid(`${field} ${JSON.stringify(v)} is not an ISO 8601 date-time`);
  return d;
}
