import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JsonRpcResponse } from '@app/contracts';
import { ConnectPac, COUNTER_SIGNATURE_WAIT_MAX_MS } from '@app/contracts';
import type { ConnectionProfile, LocationConfig } from '@app/gateway';
import { besideCounterConfig, ConnectPacProfile, defaultProfiles, pacSettingsOf, RequestDispatcher } from '@app/gateway';
import { createLogger } from '@app/common';
import { waitFor } from '@app/testing';

const settings = { hostAddress: 'venue1', environment: 'test' as const, installerId: 'INST-9', signatureDefault: 'accept' as const, signatureWaitMs: 5_000 };
const pacLoc: LocationConfig = {
  id: '33333333-3333-3333-3333-333333333333',
  name: 'counter venue',
  enabled: true,
  configVersion: 1,
  capabilities: [],
  apiKey: 'pac-token-secret',
  softwareHouseId: 'SH-1',
  profile: 'connect-pac',
  settings,
};
const ok = (id: string | number, result: unknown) => ({ jsonrpc: '2.0', id, result }) as unknown as JsonRpcResponse;

describe('connect-pac profile', () => {
  it('is registered and dials /pac with the token, api-version=v1, software-house-id and installer-id', () => {
    const p: ConnectionProfile = defaultProfiles().get('connect-pac')!;
    assert.equal(p.constructor, ConnectPacProfile);
    assert.equal(p.buildUrl(pacLoc, 'wss://unused'), 'wss://venue1.test.connect.paymentsense.cloud/pac?token=pac-token-secret&api-version=v1&software-house-id=SH-1&installer-id=INST-9');
    assert.equal(
      p.buildUrl({ ...pacLoc, wsUrl: 'ws://127.0.0.1:4010/pac' }, 'wss://unused'),
      'ws://127.0.0.1:4010/pac?token=pac-token-secret&api-version=v1&software-house-id=SH-1&installer-id=INST-9',
    );
    assert.deepEqual(p.handshakeHeaders(pacLoc), {});
  });

  it('hands replies to our requests over as replies (result or error), never as requests', () => {
    const p: ConnectionProfile = new ConnectPacProfile();
    assert.deepEqual(p.decode(JSON.stringify({ jsonrpc: '2.0', id: 'tx-1', result: { transactionResult: 'SUCCESSFUL' } }), pacLoc), {
      kind: 'reply',
      id: 'tx-1',
      result: { transactionResult: 'SUCCESSFUL' },
    });
    assert.deepEqual(p.decode(JSON.stringify({ jsonrpc: '2.0', id: 'tx-2', error: { code: -32009, message: 'busy' } }), pacLoc), {
      kind: 'reply',
      id: 'tx-2',
      error: { code: -32009, message: 'busy' },
    });
  });

  it('sends a notification to the dialect under a generated id and never answers it', () => {
    const p: ConnectionProfile = new ConnectPacProfile();
    const d = p.decode(JSON.stringify({ jsonrpc: '2.0', method: 'terminalNotification', params: { tid: 'VT-1', notificationValue: 'PIN_ENTRY' } }), pacLoc);
    assert.equal(d.kind, 'request');
    if (d.kind !== 'request') return;
    assert.equal(d.method, 'terminalNotification');
    assert.match(String(d.id), /^notification:/);
    assert.deepEqual(d.params, { tid: 'VT-1', notificationValue: 'PIN_ENTRY' });
    assert.equal(d.ordered, true, 'notifications are applied in the order they came');
    assert.equal(p.encode(ok(d.id, {}), d.id), undefined);
    assert.equal(p.mutates('terminalNotification'), false);
    assert.equal(p.deadlineMs('terminalNotification'), 5_000);
  });

  it("answers a signature request {accepted} under Connect's own id, whatever id the request path used", () => {
    const p: ConnectionProfile = new ConnectPacProfile();
    const d = p.decode(JSON.stringify({ jsonrpc: '2.0', id: 42, method: 'signatureVerificationRequest', params: { tid: 'VT-SIGNATURE' } }), pacLoc);
    assert.equal(d.kind, 'request');
    if (d.kind !== 'request') return;
    assert.match(String(d.id), /^signature:/, 'a request-path id of our own: Connect may reuse its ids');
    assert.equal(p.encode(ok(d.id, { accepted: true, by: 'pos' }), d.id), JSON.stringify({ jsonrpc: '2.0', id: 42, result: { accepted: true } }));
    assert.equal(p.deadlineMs('signatureVerificationRequest'), COUNTER_SIGNATURE_WAIT_MAX_MS + 5_000);
    const e = p.decode(JSON.stringify({ jsonrpc: '2.0', id: 'sig-7', method: 'signatureVerificationRequest', params: { tid: 'VT-1' } }), pacLoc);
    if (e.kind !== 'request') return assert.fail('a request');
    const failed = p.failure(e.id, 'deadline', 'the EPOS did not answer in time', 'trace-1');
    assert.deepEqual(JSON.parse(p.encode(failed, e.id)!), { jsonrpc: '2.0', id: 'sig-7', error: { code: ConnectPac.PAC_ERROR_CODES.internalError, message: 'the EPOS did not answer in time', data: { traceId: 'trace-1' } } });
  });

  it('refuses what it cannot serve, logs Connect errorMessages', () => {
    const p: ConnectionProfile = new ConnectPacProfile();
    const bad = p.decode('{"jsonrpc":"2.0","id":', pacLoc);
    assert.equal(bad.kind, 'reject');
    if (bad.kind === 'reject') assert.equal(JSON.parse(p.encode(bad.response('t'), bad.id)!).method, 'errorMessage');
    const unknown = p.decode(JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tableLockRequest', params: {} }), pacLoc);
    assert.equal(unknown.kind, 'reject');
    if (unknown.kind === 'reject') assert.equal(JSON.parse(p.encode(unknown.response('t'), unknown.id)!).error.code, ConnectPac.PAC_ERROR_CODES.methodNotFound);
    const notice = p.decode(JSON.stringify({ jsonrpc: '2.0', method: 'errorMessage', params: { code: 3, message: 'terminal offline' } }), pacLoc);
    assert.equal(notice.kind, 'ignore');
  });

  it('a PAC link beside the location dials with the counter link token, URL and settings; a connect-pac location has none beside', () => {
    const epos: LocationConfig = { ...pacLoc, apiKey: 'sk_sandbox_x', profile: 'epos-data', settings: {}, wsUrl: 'ws://dojo', counter: { token: 'tok-2', settings, wsUrl: 'ws://sb/pac', enabled: true } };
    const side = besideCounterConfig(epos)!;
    assert.equal(side.profile, 'connect-pac');
    assert.equal(side.apiKey, 'tok-2');
    assert.equal(side.wsUrl, 'ws://sb/pac');
    assert.deepEqual(side.settings, settings);
    assert.equal(side.id, epos.id);
    assert.equal(besideCounterConfig({ ...epos, counter: { ...epos.counter!, enabled: false } }), undefined);
    assert.equal(besideCounterConfig({ ...pacLoc, counter: { token: 'x', settings, enabled: true } }), undefined);
    assert.equal(besideCounterConfig({ ...epos, counter: undefined }), undefined);
  });

  it('fills the documented defaults of stored PAC settings', () => {
    assert.deepEqual(pacSettingsOf({ hostAddress: 'h', installerId: 'i' }), { hostAddress: 'h', environment: 'production', installerId: 'i', signatureDefault: 'decline', signatureWaitMs: 30_000 });
    assert.deepEqual(pacSettingsOf(settings), settings);
  });
});

describe('dispatching a PAC link in order', () => {
  it("applies notifications one after another in arrival order, and hands a transaction's reply on only after them", async () => {
    const started: string[] = [];
    const pending: (() => void)[] = [];
    const rpc = {
      // Each call is answered only when the test says so (a slow worker).
      call: (job: { params: unknown; rpcId: string }) =>
        new Promise<JsonRpcResponse>((resolve) => {
          started.push((job.params as { notificationValue: string }).notificationValue);
          pending.push(() => resolve(ok(job.rpcId, {})));
        }),
    };
    const dispatcher = new RequestDispatcher(rpc, { maxMessageBytes: 1 << 20, replyCacheMs: 0, deadlineOverrideMs: 0 }, createLogger('test', 'silent'));
    const replies: unknown[] = [];
    const ctx = { location: pacLoc, fence: 1, profile: new ConnectPacProfile(), receivedAt: Date.now(), onReply: (r: unknown) => replies.push(r) };
    const frame = (v: string) => Buffer.from(JSON.stringify({ jsonrpc: '2.0', method: 'terminalNotification', params: { tid: 'VT-1', notificationValue: v } }));
    const all = [
      dispatcher.handle(ctx, frame('APPROVED')),
      dispatcher.handle(ctx, frame('REMOVE_CARD')),
      dispatcher.handle(ctx, frame('TRANSACTION_FINISHED')),
      dispatcher.handle(ctx, Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 'tx-1', result: { transactionResult: 'SUCCESSFUL' } }))),
    ];
    await waitFor(() => started.length === 1, 'the first is dispatched');
    await new Promise((r) => setTimeout(r, 30));
    assert.deepEqual(started, ['APPROVED'], 'the next waits for the first to be answered');
    for (const expected of [['APPROVED', 'REMOVE_CARD'], ['APPROVED', 'REMOVE_CARD', 'TRANSACTION_FINISHED']]) {
      pending.shift()!();
      await waitFor(() => started.length === expected.length, 'the next is dispatched');
      assert.deepEqual(started, expected);
      assert.equal(replies.length, 0, 'the reply waits for the notifications before it');
    }
    pending.shift()!();
    assert.deepEqual(await Promise.all(all), [undefined, undefined, undefined, undefined], 'nothing is sent back for any of them');
    assert.deepEqual(replies, [{ kind: 'reply', id: 'tx-1', result: { transactionResult: 'SUCCESSFUL' } }]);
  });
});
