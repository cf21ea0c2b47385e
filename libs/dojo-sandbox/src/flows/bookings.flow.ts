import type { Models } from '@app/contracts';
import { StepCheckError } from './flow-context';
import type { FlowDefinition } from './flow-definition';
import { ACCOUNT_PARAM, textParam } from './flow-definition';

type Party = Models.Party;
type Reservation = Models.Reservation;
type Paged<T> = { data: T[] };

const iso = (msFromNow: number) => new Date(Math.floor((Date.now() + msFromNow) / 1000) * 1000).toISOString();

/** Bookings: the party and reservation lifecycles (create, get, update, search, delete, then NotFound when read again). */
export const bookingsFlow: FlowDefinition = {
  name: 'bookings',
  description: 'CreateParty, GetPartyById, UpdateParty, SearchParties, DeletePartyById, GetPartyById (NotFound), then the same for reservations',
  headers: { dojoRequestingProduct: 'Bookings', deviceId: 'sandbox-host-stand', deviceType: 'Web' },
  params: [
    ACCOUNT_PARAM,
    { name: 'tableId', type: 'string', required: false, description: 'Table the party and the reservation use', default: 'T1' },
  ],
  async run(ctx, p) {
    const tableId = textParam(p, 'tableId') ?? 'T1';

    // Parties
    const dojoPartyId = ctx.newId('pty_dojo_');
    const startTime = iso(0);
    const party = await ctx.rpc<Party>({
      method: 'CreatePartyV1',
      params: { dojoPartyId, name: 'Sandbox party', covers: 2, tableIds: [tableId], status: 'Seated', startTime },
      summary: (r) => `created party ${r.id} (2 covers at ${r.tableIds.join(', ')})`,
    });
    const partyId = party.id;
    await ctx.rpc<Party>({
      method: 'GetPartyByIdV1',
      params: { partyId },
      summary: (r) => {
        if (r.id !== partyId) throw new StepCheckError(`asked for party ${partyId}, got ${r.id}`);
        return `party ${r.id} is ${r.status}`;
      },
    });
    await ctx.rpc<Party>({
      method: 'UpdatePartyV1',
      params: { id: partyId, dojoPartyId, name: 'Sandbox party', covers: 4, tableIds: [tableId], status: 'Seated', startTime },
      summary: (r) => {
        if (r.covers !== 4) throw new StepCheckError(`covers is ${r.covers} after the update, expected 4`);
        return `party ${r.id} now has 4 covers`;
      },
    });
    await ctx.rpc<Paged<Party>>({
      method: 'SearchPartiesV1',
      params: { tableId },
      summary: (r) => {
        if (!r.data.some((x) => x.id === partyId)) throw new StepCheckError(`party ${partyId} is missing from the search at table ${tableId}`);
        return `${r.data.length} party(ies) at table ${tableId}`;
      },
    });
    await ctx.rpc<Record<string, never>>({
      method: 'DeletePartyByIdV1',
      params: { partyId },
      summary: () => `deleted party ${partyId}`,
    });
    // An empty answer alone does not show the party is gone: read it back.
    await ctx.rpc<Party>({
      name: 'GetPartyByIdV1 (deleted)',
      method: 'GetPartyByIdV1',
      params: { partyId },
      expectError: 'NotFound',
      summary: () => '',
    });

    // Reservations
    const dojoReservationId = ctx.newId('rsv_dojo_');
    const from = iso(3_600_000);
    const to = iso(3 * 3_600_000);
    const reservation = await ctx.rpc<Reservation>({
      method: 'CreateReservationV1',
      params: { dojoReservationId, name: 'Sandbox booking', covers: 2, startTime: from, endTime: to, tableIds: [tableId] },
      summary: (r) => `created reservation ${r.id} for ${r.covers} at ${r.startTime}`,
    });
    const reservationId = reservation.id;
    await ctx.rpc<Reservation>({
      method: 'GetReservationByIdV1',
      params: { reservationId },
      summary: (r) => {
        if (r.id !== reservationId) throw new StepCheckError(`asked for reservation ${reservationId}, got ${r.id}`);
        return `reservation ${r.id}: ${r.name}, ${r.covers} covers`;
      },
    });
    await ctx.rpc<Reservation>({
      method: 'UpdateReservationV1',
      params: { id: reservationId, dojoReservationId, name: 'Sandbox booking', covers: 6, startTime: from, endTime: to, tableIds: [tableId] },
      summary: (r) => {
        if (r.covers !== 6) throw new StepCheckError(`covers is ${r.covers} after the update, expected 6`);
        return `reservation ${r.id} now has 6 covers`;
      },
    });
    await ctx.rpc<Paged<Reservation>>({
      method: 'SearchReservationsV1',
      params: { tableId, fromTime: iso(0), toTime: iso(24 * 3_600_000) },
      summary: (r) => {
        if (!r.data.some((x) => x.id === reservationId)) throw new StepCheckError(`reservation ${reservationId} is missing from the search`);
        return `${r.data.length} reservation(s) at table ${tableId} in the next 24 h`;
      },
    });
    await ctx.rpc<Record<string, never>>({
      method: 'DeleteReservationByIdV1',
      params: { reservationId },
      summary: () => `deleted reservation ${reservationId}`,
    });
    await ctx.rpc<Reservation>({
      name: 'GetReservationByIdV1 (deleted)',
      method: 'GetReservationByIdV1',
      params: { reservationId },
      expectError: 'NotFound',
      summary: () => '',
    });
  },
};
