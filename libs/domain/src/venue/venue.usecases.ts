import type { Models } from '@app/contracts';
import { Prisma, PrismaClient } from '@app/db';
import { enqueuePosEvent } from '../shared/pos-outbox';
import { toJson } from '../shared/venue-feed';
import type { Tx } from '../shared/tx';
import { DomainError, isForeignKeyViolation } from '../admin/errors';
import { checkVenueOrder, TERMINAL_STATUSES } from './order-rows';
import { dojoOrderToCreateData } from '../orders/order-mapper';
import { findLiveLock } from '../locks/order-lock-guard';
import { requireEntityId, requireObject, requireSchema, withPathId } from './validation';

/** Everything a venue use-case needs: the database (every query is scoped by the token's location). */
export interface VenueDeps {
  prisma: PrismaClient;
}

type Result = { id: string; version?: number; created: boolean };

/**
 * Refuses a change to an order Dojo holds a lock on (a lock whose expiry is
 * still ahead). Runs after the order row is locked FOR UPDATE so it cannot
 * race a lock being taken.
 */
async function refuseIfLocked(tx: Tx, locationId: string, orderId: string): Promise<void> {
  const lock = await findLiveLock(tx, locationId, orderId, new Date());
  if (lock) {
    throw new DomainError('locked', `order ${JSON.stringify(orderId)} is locked by Dojo until ${lock.expiresAt.toISOString()}`, [], {
      lockExpiresAt: lock.expiresAt.toISOString(),
    });
  }
}

async function lockOrderRow(tx: Tx, locationId: string, orderId: string): Promise<{ paid_amount: bigint; version: number } | undefined> {
  const rows = await tx.$queryRaw<{ paid_amount: bigint; version: number }[]>`
    SELECT paid_amount, version FROM orders WHERE location_id = ${locationId}::uuid AND id = ${orderId} FOR UPDATE`;
  return rows[0];
}

/** Creates or replaces an order from Dojo's Order shape, and tells Dojo it changed (outbox). */
export class UpsertOrder {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, orderId: string, body: unknown): Promise<Result> {
    requireEntityId(orderId, 'order');
    const input = withPathId(requireObject(body), orderId);
    requireSchema('Order', input);
    const order = input as unknown as Models.Order;
    checkVenueOrder(order);
    const rows = dojoOrderToCreateData(locationId, order, { id: orderId, origin: 'pos' });
    return this.d.prisma.$transaction(async (tx) => {
      const existing = await lockOrderRow(tx, locationId, orderId);
      if (existing) await refuseIfLocked(tx, locationId, orderId);
      const total = BigInt(rows.order.totalAmount as bigint);
      // Payable unless the venue says otherwise, the order is closed, or it is already fully paid.
      const payable = rows.order.payable !== false && !TERMINAL_STATUSES.has(order.status) && (!existing || existing.paid_amount < total);
      const { locationId: _l, id: _i, origin: _o, dojoOrderId: _d, ...fields } = rows.order;
      const data = { ...fields, payable, customer: rows.order.customer ?? Prisma.DbNull };
      let version: number;
      if (existing) {
        const up = await tx.order.update({
          where: { locationId_id: { locationId, id: orderId } },
          data: { ...data, version: { increment: 1 } },
          select: { version: true },
        });
        version = up.version;
        await tx.orderItem.deleteMany({ where: { locationId, orderId } });
      } else {
        const created = await tx.order.create({ data: { ...rows.order, ...data }, select: { version: true } });
        version = created.version;
      }
      if (rows.items.length) await tx.orderItem.createMany({ data: rows.items });
      await enqueuePosEvent(tx, locationId, 'OrderUpdated', orderId, { orderId });
      return { id: orderId, version, created: !existing };
    });
  }
}

export class DeleteOrder {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, orderId: string): Promise<void> {
    await this.d.prisma.$transaction(async (tx) => {
      const existing = await lockOrderRow(tx, locationId, orderId);
      if (!existing) throw DomainError.notFound('order', orderId);
      await refuseIfLocked(tx, locationId, orderId);
      await tx.order.delete({ where: { locationId_id: { locationId, id: orderId } } });
      // Dojo reads a NotFound after OrderUpdated as "deleted".
      await enqueuePosEvent(tx, locationId, 'OrderUpdated', orderId, { orderId });
    });
  }
}

export class UpsertParty {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, partyId: string, body: unknown): Promise<Result> {
    requireEntityId(partyId, 'party');
    const p = withPathId(requireObject(body), partyId) as unknown as Models.Party;
    requireSchema('Party', p);
    const data = {
      name: p.name ?? null,
      covers: p.covers ?? null,
      tableIds: p.tableIds,
      status: p.status,
      startTime: new Date(p.startTime),
      expectedEndTime: p.expectedEndTime ? new Date(p.expectedEndTime) : null,
      endTime: p.endTime ? new Date(p.endTime) : null,
      hostNotes: p.hostNotes ?? null,
      guestRequests: p.guestRequests ?? null,
      reservationId: p.reservationId ?? null,
      deposit: p.deposit ? toJson(p.deposit) : Prisma.DbNull,
    };
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

export class DeleteParty {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, partyId: string): Promise<void> {
    await this.d.prisma.$transaction(async (tx) => {
      const { count } = await tx.party.deleteMany({ where: { locationId, id: partyId } });
      if (count === 0) throw DomainError.notFound('party', partyId);
      await enqueuePosEvent(tx, locationId, 'PartyUpdated', partyId, { partyId });
    });
  }
}

export class UpsertReservation {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, reservationId: string, body: unknown): Promise<Result> {
    requireEntityId(reservationId, 'reservation');
    const r = withPathId(requireObject(body), reservationId) as unknown as Models.Reservation;
    requireSchema('Reservation', r);
    const start = new Date(r.startTime);
    const end = new Date(r.endTime);
    if (end.getTime() <= start.getTime()) throw DomainError.invalid([{ field: 'endTime', reason: 'must be after startTime' }]);
    if (!Number.isInteger(r.covers) || r.covers < 1) throw DomainError.invalid([{ field: 'covers', reason: 'must be a positive integer' }]);
    const data = {
      name: r.name,
      covers: r.covers,
      startTime: start,
      endTime: end,
      tableIds: r.tableIds,
      hostNotes: r.hostNotes ?? null,
      guestRequests: r.guestRequests ?? null,
    };
    return this.d.prisma.$transaction(async (tx) => {
      const existing = await tx.reservation.findUnique({ where: { locationId_id: { locationId, id: reservationId } }, select: { version: true } });
      const row = existing
        ? await tx.reservation.update({
            where: { locationId_id: { locationId, id: reservationId } },
            data: { ...data, version: { increment: 1 } },
            select: { version: true },
          })
        : await tx.reservation.create({ data: { locationId, id: reservationId, ...data }, select: { version: true } });
      await enqueuePosEvent(tx, locationId, 'ReservationUpdated', reservationId, { reservationId });
      return { id: reservationId, version: row.version, created: !existing };
    });
  }
}

export class DeleteReservation {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, reservationId: string): Promise<void> {
    await this.d.prisma.$transaction(async (tx) => {
      const { count } = await tx.reservation.deleteMany({ where: { locationId, id: reservationId } });
      if (count === 0) throw DomainError.notFound('reservation', reservationId);
      await enqueuePosEvent(tx, locationId, 'ReservationUpdated', reservationId, { reservationId });
    });
  }
}

export class UpsertArea {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, areaId: string, body: unknown): Promise<Result> {
    requireEntityId(areaId, 'area');
    const a = withPathId(requireObject(body), areaId) as unknown as Models.Area;
    requireSchema('Area', a);
    const existing = await this.d.prisma.area.findUnique({ where: { locationId_id: { locationId, id: areaId } }, select: { id: true } });
    await this.d.prisma.area.upsert({
      where: { locationId_id: { locationId, id: areaId } },
      create: { locationId, id: areaId, name: a.name, waiterIds: a.waiterIds ?? [] },
      update: { name: a.name, waiterIds: a.waiterIds ?? [] },
    });
    return { id: areaId, created: !existing };
  }
}

export class DeleteArea {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, areaId: string): Promise<void> {
    try {
      const { count } = await this.d.prisma.area.deleteMany({ where: { locationId, id: areaId } });
      if (count === 0) throw DomainError.notFound('area', areaId);
    } catch (err) {
      if (isForeignKeyViolation(err)) throw DomainError.conflict(`area ${JSON.stringify(areaId)} still has tables`);
      throw err;
    }
  }
}

export class UpsertTable {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, tableId: string, body: unknown): Promise<Result> {
    requireEntityId(tableId, 'table');
    const t = withPathId(requireObject(body), tableId) as unknown as Models.Table;
    requireSchema('Table', t);
    if (t.maxCovers !== undefined && t.maxCovers < 0) throw DomainError.invalid([{ field: 'maxCovers', reason: 'must not be negative' }]);
    const data = { name: t.name, maxCovers: t.maxCovers ?? null, areaId: t.areaId ?? null, waiterIds: t.waiterIds ?? [] };
    try {
      const existing = await this.d.prisma.diningTable.findUnique({ where: { locationId_id: { locationId, id: tableId } }, select: { id: true } });
      await this.d.prisma.diningTable.upsert({
        where: { locationId_id: { locationId, id: tableId } },
        create: { locationId, id: tableId, ...data },
        update: data,
      });
      return { id: tableId, created: !existing };
    } catch (err) {
      if (isForeignKeyViolation(err)) throw DomainError.invalid([{ field: 'areaId', reason: `no area ${JSON.stringify(t.areaId)} at this venue` }]);
      throw err;
    }
  }
}

export class DeleteTable {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, tableId: string): Promise<void> {
    const { count } = await this.d.prisma.diningTable.deleteMany({ where: { locationId, id: tableId } });
    if (count === 0) throw DomainError.notFound('table', tableId);
  }
}

export interface BillTemplateInput {
  header?: unknown[];
  footer?: unknown[];
}

/** Replaces the bill template (BillLine[] above and below the order on printed bills). */
export class PutBillTemplate {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string, body: unknown): Promise<{ header: unknown[]; footer: unknown[] }> {
    const b = requireObject(body) as BillTemplateInput;
    for (const part of ['header', 'footer'] as const) {
      const lines = b[part] ?? [];
      if (!Array.isArray(lines)) throw DomainError.invalid([{ field: part, reason: 'must be an array of bill lines' }]);
      lines.forEach((line, i) => requireSchema('BillLine', line, `${part}.${i}`));
    }
    const header = toJson(b.header ?? []);
    const footer = toJson(b.footer ?? []);
    await this.d.prisma.billTemplate.upsert({ where: { locationId }, create: { locationId, header, footer }, update: { header, footer } });
    return { header, footer };
  }
}

export class DeleteBillTemplate {
  constructor(private readonly d: VenueDeps) {}

  async execute(locationId: string): Promise<void> {
    const { count } = await this.d.prisma.billTemplate.deleteMany({ where: { locationId } });
    if (count === 0) throw DomainError.notFound('bill template', locationId);
  }
}
