/**
 * A small fake EPOS for the sandbox tests: a ws client that connects to the
 * sandbox like a real EPOS, registers capabilities over REST, and answers
 * JSON-RPC from an in-memory store with contract-valid responses.
 */
import { WebSocket } from 'ws';

type Json = Record<string, any>;

export interface FakeEposOptions {
  wsUrl: string;
  restUrl: string;
  apiKey: string;
  softwareHouseId?: string;
  /** Answer pings (default true). */
  autoPong?: boolean;
}

export const ALL_TEST_CAPABILITIES = [
  'SearchOrders', 'GetOrderById', 'CreateOrder', 'CreateOrderLock', 'DeleteOrderLock', 'RecordOrderPayment',
  'CreateParty', 'GetPartyById', 'UpdatePartyById', 'SearchParties', 'DeletePartyById',
  'CreateReservation', 'GetReservationById', 'UpdateReservationById', 'SearchReservations', 'DeleteReservationById',
  'HandleEvent:payment_intent.created', 'HandleEvent:payment_intent.status_updated',
];

const err = (id: unknown, errorType: string, debugMessage: string, code = -32004) => ({
  jsonrpc: '2.0',
  id,
  error: { code, message: errorType, errorType, debugMessage, traceId: 'trace-fake' },
});

export class FakeEpos {
  socket!: WebSocket;
  /** Every request received, in order (duplicates included). */
  readonly received: { id: unknown; method: string; params: Json }[] = [];
  /** Every raw frame received. */
  readonly frames: string[] = [];
  readonly events: Json[] = [];
  pings = 0;
  pongs = 0;
  closed = false;
  closeCode: number | undefined;
  /** Change a reply before it is sent (to break the contract on purpose). */
  corrupt?: (method: string, reply: Json) => Json;
  /** Answer this many HandleEventV1 requests with an error (the event not taken), then take them again. */
  failEvents = 0;
  /** Answer deletes of these with success but keep them (a POS that forgets to delete). */
  readonly keepDeleted = new Set<'party' | 'reservation'>();
  readonly orders = new Map<string, Json>();
  readonly parties = new Map<string, Json>();
  readonly reservations = new Map<string, Json>();
  private readonly replies = new Map<string, Json>();
  private seq = 0;

  constructor(readonly opts: FakeEposOptions) {}

  /** Seeds a payable dine-in order at a table. */
  seedOrder(id: string, tableId: string, total: number, currencyCode = 'GBP'): void {
    this.orders.set(id, {
      id,
      status: 'Accepted',
      payable: true,
      reference: id,
      displayName: `Table ${tableId}`,
      details: { orderType: 'DineIn', dineIn: { tableId } },
      items: [{ name: 'Burger', plu: 'B-1', quantity: 2, amountPerItem: { value: total / 2, currencyCode } }],
      totalAmount: { value: total, currencyCode },
      paidAmount: { value: 0, currencyCode },
      tipsAmount: { value: 0, currencyCode },
      payments: [],
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
    });
  }

  connect(): Promise<this> {
    const headers: Record<string, string> = { authorization: `Basic ${this.opts.apiKey}` };
    if (this.opts.softwareHouseId !== undefined) headers['software-house-id'] = this.opts.softwareHouseId;
    this.socket = new WebSocket(this.opts.wsUrl, { headers, perMessageDeflate: false, autoPong: this.opts.autoPong ?? true });
    this.socket.on('error', () => undefined); // failures show up as the close event the tests assert on
    this.socket.on('ping', () => this.pings++);
    this.socket.on('pong', () => this.pongs++);
    this.socket.on('message', (data) => this.onMessage((Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)).toString('utf8')));
    this.socket.on('close', (code) => {
      this.closed = true;
      this.closeCode = code;
    });
    return new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve(this));
      this.socket.once('error', reject);
      this.socket.once('unexpected-response', (_req, res) => reject(new Error(`handshake refused: ${res.statusCode}`)));
    });
  }

  async register(capabilities: string[] = ALL_TEST_CAPABILITIES): Promise<void> {
    const res = await fetch(`${this.opts.restUrl}/epos/integrations/ws`, {
      method: 'PUT',
      headers: { authorization: `Basic ${this.opts.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ capabilities: capabilities.map((name) => ({ name, version: 'v1' })) }),
    });
    if (res.status !== 200) throw new Error(`register answered ${res.status}: ${await res.text()}`);
  }

  close(): void {
    this.socket?.terminate();
  }

  private onMessage(text: string): void {
    this.frames.push(text);
    let msg: Json;
    try {
      msg = JSON.parse(text);
    } catch {
      this.send({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error', errorType: 'InvalidRequest', debugMessage: 'not JSON', traceId: 't' } });
      return;
    }
    this.received.push({ id: msg.id, method: msg.method, params: msg.params ?? {} });
    const key = String(msg.id);
    // Idempotent per JSON-RPC id: a duplicate request gets the same reply again.
    let reply = this.replies.get(key);
    if (!reply) {
      reply = this.handle(msg);
      this.replies.set(key, reply);
    }
    this.send(this.corrupt ? this.corrupt(msg.method, structuredClone(reply)) : reply);
  }

  private send(o: Json): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(o));
  }

  private handle(msg: Json): Json {
    const { id, method } = msg;
    const p: Json = msg.params ?? {};
    const ok = (result: unknown) => ({ jsonrpc: '2.0', id, result });
    const now = new Date().toISOString();
    switch (method) {
      case 'SearchOrdersV1': {
        const data = [...this.orders.values()].filter(
          (o) => (!p.dineIn?.tableId || o.details.dineIn?.tableId === p.dineIn.tableId) && (!p.payableOnly || o.payable),
        );
        return ok({ data });
      }
      case 'GetOrderByIdV1': {
        const o = this.orders.get(p.orderId);
        return o ? ok(o) : err(id, 'NotFound', `order ${p.orderId} not found`);
      }
      case 'CreateOrderLockV1':
      case 'DeleteOrderLockV1': {
        const o = this.orders.get(p.orderId);
        if (!o) return err(id, 'NotFound', `order ${p.orderId} not found`);
        o.payable = method === 'DeleteOrderLockV1' ? o.paidAmount.value < o.totalAmount.value : true;
        return ok(o);
      }
      case 'RecordOrderPaymentByIdV1': {
        const o = this.orders.get(p.orderId);
        if (!o) return err(id, 'NotFound', `order ${p.orderId} not found`);
        o.paidAmount = { ...o.paidAmount, value: o.paidAmount.value + p.paidAmount.value };
        o.tipsAmount = { ...o.tipsAmount, value: o.tipsAmount.value + (p.tipsAmount?.value ?? 0) };
        o.payments.push({ paymentIntentId: p.paymentIntentId, paidAmount: p.paidAmount, ...(p.tipsAmount ? { tipsAmount: p.tipsAmount } : {}) });
        if (o.paidAmount.value >= o.totalAmount.value) o.payable = false;
        o.updatedAt = now;
        return ok(o);
      }
      case 'CreateOrderV1': {
        const orderId = `ord_new_${++this.seq}`;
        const o = {
          id: orderId,
          status: 'New',
          payable: true,
          details: p.details,
          items: p.items,
          totalAmount: p.totalAmount,
          paidAmount: { value: 0, currencyCode: p.totalAmount.currencyCode },
          payments: [],
          tipsAmount: { value: 0, currencyCode: p.totalAmount.currencyCode },
          createdAt: now,
        };
        this.orders.set(orderId, o);
        return ok(o);
      }
      case 'CreatePartyV1': {
        const party = { id: `pty_${++this.seq}`, name: p.name, covers: p.covers, tableIds: p.tableIds, status: p.status ?? 'Seated', startTime: p.startTime };
        this.parties.set(party.id, party);
        return ok(party);
      }
      case 'GetPartyByIdV1':
        return this.parties.has(p.partyId) ? ok(this.parties.get(p.partyId)) : err(id, 'NotFound', 'no party');
      case 'UpdatePartyV1': {
        if (!this.parties.has(p.id)) return err(id, 'NotFound', 'no party');
        const party = { id: p.id, name: p.name, covers: p.covers, tableIds: p.tableIds, status: p.status, startTime: p.startTime };
        this.parties.set(p.id, party);
        return ok(party);
      }
      case 'SearchPartiesV1':
        return ok({ data: [...this.parties.values()].filter((x) => !p.tableId || x.tableIds.includes(p.tableId)) });
      case 'DeletePartyByIdV1':
        if (this.keepDeleted.has('party')) return this.parties.has(p.partyId) ? ok({}) : err(id, 'NotFound', 'no party');
        return this.parties.delete(p.partyId) ? ok({}) : err(id, 'NotFound', 'no party');
      case 'CreateReservationV1': {
        const r = { id: `rsv_${++this.seq}`, name: p.name, covers: p.covers, startTime: p.startTime, endTime: p.endTime, tableIds: p.tableIds };
        this.reservations.set(r.id, r);
        return ok(r);
      }
      case 'GetReservationByIdV1':
        return this.reservations.has(p.reservationId) ? ok(this.reservations.get(p.reservationId)) : err(id, 'NotFound', 'no reservation');
      case 'UpdateReservationV1': {
        if (!this.reservations.has(p.id)) return err(id, 'NotFound', 'no reservation');
        const r = { id: p.id, name: p.name, covers: p.covers, startTime: p.startTime, endTime: p.endTime, tableIds: p.tableIds };
        this.reservations.set(p.id, r);
        return ok(r);
      }
      case 'SearchReservationsV1':
        return ok({ data: [...this.reservations.values()].filter((x) => !p.tableId || x.tableIds.includes(p.tableId)) });
      case 'DeleteReservationByIdV1':
        if (this.keepDeleted.has('reservation')) return this.reservations.has(p.reservationId) ? ok({}) : err(id, 'NotFound', 'no reservation');
        return this.reservations.delete(p.reservationId) ? ok({}) : err(id, 'NotFound', 'no reservation');
      case 'HandleEventV1':
        if (this.failEvents > 0) {
          this.failEvents--;
          return err(id, 'UnexpectedError', 'the event could not be stored just now', -32000);
        }
        this.events.push(p);
        return ok({});
      default:
        return err(id ?? null, 'InvalidRequest', `unknown method ${method}`, -32601);
    }
  }
}

/** Status code of a refused handshake, or 101 when accepted. */
export function handshakeStatus(wsUrl: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, { headers, perMessageDeflate: false });
    ws.once('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    ws.on('error', (e) => {
      if (!/Unexpected server response|closed before the connection/.test(e.message)) reject(e);
    });
  });
}
