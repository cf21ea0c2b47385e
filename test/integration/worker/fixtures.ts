/** RPC helpers for the worker tests (not a test file itself); rows come from `fixtures()` in @app/testing. */
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from '@app/common';
import type { EposMethod, JsonRpcResponse, Models } from '@app/contracts';
import { contractValidator, isFailure, METHOD_INFO, success } from '@app/contracts';
import type { RpcJob, RpcTransport } from '@app/queue';
import type { RpcClient } from '@app/queue';
import { RpcWorkerHost } from '@app/queue';
import type { Fixtures } from '@app/testing';
import { testRedisUrl } from '@app/testing';

export const GBP = (value: number): Models.Money => ({ value, currencyCode: 'GBP' });

/** Two areas and three tables (T1, T2 in the main hall; T3 on the terrace). */
export async function seedVenue(fx: Fixtures, locationId: string): Promise<void> {
  await fx.area(locationId, { id: 'A1', name: 'Main hall', waiterIds: ['w1'] });
  await fx.area(locationId, { id: 'A2', name: 'Terrace', waiterIds: ['w2'] });
  await fx.table(locationId, { id: 'T1', name: 'Table 1', maxCovers: 4, areaId: 'A1', waiterIds: ['w1'] });
  await fx.table(locationId, { id: 'T2', name: 'Table 2', maxCovers: 2, areaId: 'A1', waiterIds: ['w1', 'w2'] });
  await fx.table(locationId, { id: 'T3', name: 'Table 3', areaId: 'A2', waiterIds: ['w2'] });
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

/**
 * A worker host on real Redis whose handler records each request id it runs (`ran`) and answers `{ ok: true }`,
 * started and ready; close it in the suite's `after`.
 */
export async function recordingWorkerHost(o: { prefix: string; transport: RpcTransport; logger?: Logger }): Promise<{ host: RpcWorkerHost; ran: string[] }> {
  const ran: string[] = [];
  const host = new RpcWorkerHost({
    redisUrl: testRedisUrl(),
    prefix: o.prefix,
    transport: o.transport,
    concurrency: 2,
    ...(o.logger ? { logger: o.logger } : {}),
    handler: async (job) => {
      ran.push(job.rpcId);
      return success(job.rpcId, { ok: true });
    },
  });
  host.start();
  await host.waitUntilReady();
  return { host, ran };
}
