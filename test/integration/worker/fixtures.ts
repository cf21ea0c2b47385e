/** Shared seed data and RPC helpers for the worker tests (not a test file itself). */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { contractValidator, EposMethod, isFailure, JsonRpcResponse, METHOD_INFO, Models } from '@app/contracts';
import type { RpcJob } from '@app/queue';
import type { PrismaClient } from '@app/db';
import { dojoOrderToCreateData } from '@app/domain/orders/order-mapper';
import type { RpcClient } from '@app/queue';

export interface SeededLocation {
  id: string;
  dojoAccountId: string;
}

export async function seedLocation(prisma: PrismaClient, name: string): Promise<SeededLocation> {
  const tag = randomBytes(4).toString('hex');
  const sh = await prisma.softwareHouse.create({ data: { name: `SH ${tag}`, dojoSoftwareHouseId: `sh-${tag}` } });
  const id = randomUUID();
  const dojoAccountId = `acc_${tag}`;
  await prisma.location.create({
    data: {
      id,
      softwareHouseId: sh.id,
      name,
      dojoAccountId,
      environment: 'sandbox',
      apiKeyCiphertext: new Uint8Array(randomBytes(32)),
      apiKeyLast4: 'abcd',
      capabilities: [],
    },
  });
  return { id, dojoAccountId };
}

export const GBP = (value: number): Models.Money => ({ value, currencyCode: 'GBP' });

/** Inserts a POS order the way the venue API would (through the mapper). */
export async function seedOrder(
  prisma: PrismaClient,
  locationId: string,
  id: string,
  opts: { total?: number; tableId?: string; waiterId?: string; partyId?: string; payable?: boolean; status?: Models.OrderStatus; collection?: boolean } = {},
): Promise<void> {
  const total = opts.total ?? 5000;
  const order: Models.Order = {
    id,
    status: opts.status ?? 'Accepted',
    payable: opts.payable,
    totalAmount: GBP(total),
    serviceChargeAmount: GBP(0),
    reference: `R-${id}`,
    displayName: `Order ${id}`,
    items: [
      {
        name: 'Burger',
        plu: 'B1',
        quantity: 2,
        amountPerItem: GBP(Math.floor(total / 2)),
        modifiers: [{ name: 'Cheese', plu: 'M1', quantity: 1, amountPerModifier: GBP(0) }],
        subItems: [],
      },
    ],
    taxLines: [{ name: 'VAT', amountPercentage: 2000, amountTotal: GBP(Math.floor(total / 6)) }],
    discounts: [],
    details: opts.collection
      ? { orderType: 'Collection', collection: { asap: true } }
      : { orderType: 'DineIn', dineIn: { tableId: opts.tableId, waiterId: opts.waiterId, partyId: opts.partyId } },
  };
  const data = dojoOrderToCreateData(locationId, order, { id, origin: 'pos' });
  await prisma.order.create({ data: data.order });
  if (data.items.length) await prisma.orderItem.createMany({ data: data.items });
}

export async function seedVenue(prisma: PrismaClient, locationId: string): Promise<void> {
  await prisma.area.createMany({
    data: [
      { locationId, id: 'A1', name: 'Main hall', waiterIds: ['w1'] },
      { locationId, id: 'A2', name: 'Terrace', waiterIds: ['w2'] },
    ],
  });
  await prisma.diningTable.createMany({
    data: [
      { locationId, id: 'T1', name: 'Table 1', maxCovers: 4, areaId: 'A1', waiterIds: ['w1'] },
      { locationId, id: 'T2', name: 'Table 2', maxCovers: 2, areaId: 'A1', waiterIds: ['w1', 'w2'] },
      { locationId, id: 'T3', name: 'Table 3', areaId: 'A2', waiterIds: ['w2'] },
    ],
  });
}

let counter = 0;

/** Builds an RpcJob the way the gateway does for a request Dojo sent. */
export function rpcJob(locationId: string, method: EposMethod, params: object | undefined, over: Partial<RpcJob> = {}): Omit<RpcJob, 'replyTo'> {
  return {
    locationId,
    method,
    rpcId: over.rpcId ?? `rpc-${Date.now()}-${++counter}-${randomBytes(3).toString('hex')}`,
    params: params === undefined ? undefined : { headers: { deviceId: 'terminal-1' }, ...params },
    deadline: over.deadline ?? Date.now() + METHOD_INFO[method].deadlineMs,
    traceId: over.traceId ?? randomUUID(),
    fence: 1,
  };
}

/**
 * Sends one request through the real queue and checks both the request we sent
 * and the full JSON-RPC response against the AsyncAPI schemas.
 */
export async function call(
  client: RpcClient,
  locationId: string,
  method: EposMethod,
  params: object | undefined,
  over: Partial<RpcJob> = {},
): Promise<JsonRpcResponse> {
  const job = rpcJob(locationId, method, params, over);
  const req = contractValidator().validateRequest(method, { jsonrpc: '2.0', id: job.rpcId, method, ...(job.params ? { params: job.params } : {}) });
  assert.ok(req.ok, `test request for ${method} is not contract-valid: ${JSON.stringify(req)}`);
  const res = await client.call(job);
  const v = contractValidator().validateResponse(method, res);
  assert.ok(v.ok, `${method} response breaks the contract: ${JSON.stringify(v)} in ${JSON.stringify(res)}`);
  assert.equal(res.id, job.rpcId);
  if (isFailure(res)) assert.equal(res.error.traceId, job.traceId);
  return res;
}

export function resultOf<T = any>(res: JsonRpcResponse): T {
  assert.ok(!isFailure(res), `expected a result, got ${JSON.stringify(res)}`);
  return (res as { result: T }).result;
}

export function errorOf(res: JsonRpcResponse, errorType: string): string {
  assert.ok(isFailure(res), `expected ${errorType}, got a result: ${JSON.stringify(res).slice(0, 400)}`);
  assert.equal(res.error.errorType, errorType, `expected ${errorType}: ${res.error.debugMessage}`);
  assert.ok(res.error.debugMessage.length > 10, 'debugMessage should say what to do');
  return res.error.debugMessage;
}
