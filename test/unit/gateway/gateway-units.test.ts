import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { JsonRpcCode } from '@app/contracts';
import { gatewayEnv, loadConfig } from '@app/config';
import type { LocationConfig } from '@app/gateway';
import { Backoff, EposDataProfile, gatewayManagerOptions, keepaliveCheckAt, keepaliveSlotMs, rendezvousOwner, shutdownReplyWaitMs } from '@app/gateway';

const loc: LocationConfig = {
  id: '11111111-1111-1111-1111-111111111111',
  name: 'v',
  enabled: true,
  configVersion: 1,
  capabilities: ['GetOrderById'],
  apiKey: 'sk_sandbox_abc',
  softwareHouseId: 'sh-1',
  profile: 'epos-data',
};

describe('gateway units', () => {
  it('backoff doubles from the base, caps, jitters downward only, and resets', () => {
    const b = new Backoff({ baseMs: 1000, maxMs: 30_000, authBaseMs: 300_000, authMaxMs: 3_600_000, random: () => 0 });
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map(() => b.next('error')), [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    b.reset();
    assert.equal(b.next('error'), 1000);
    const j = new Backoff({ baseMs: 1000, maxMs: 30_000, authBaseMs: 300_000, authMaxMs: 3_600_000, random: () => 1 });
    assert.equal(j.next('error'), 750);
    assert.equal(j.next('auth'), 225_000);
    assert.equal(j.next('auth'), 450_000);
  });

  it('a stopping replica waits for replies within SHUTDOWN_TIMEOUT_MS, keeping 2 s (or half a short budget) to hand over', () => {
    assert.equal(shutdownReplyWaitMs(10_000), 8_000);
    assert.equal(shutdownReplyWaitMs(15_000), 13_000);
    assert.equal(shutdownReplyWaitMs(3_000), 1_500);
    assert.equal(shutdownReplyWaitMs(100), 50);
    const config = loadConfig(gatewayEnv, {
      DATABASE_URL: 'postgresql://u:p@127.0.0.1:5432/db',
      REDIS_URL: 'redis://127.0.0.1:6379',
      EPOS_RELAY_ENCRYPTION_KEY: 'a'.repeat(64),
    });
    assert.equal(gatewayManagerOptions(config, 'gw-unit').replyWaitMs, 8_000, 'the default budget (10 s) leaves the longest deadline (10 s) unwaited past 8 s');
  });

  it('auth refusals with the default settings: first retry within 30 s, doubling to a 15-minute cap, reset by new credentials', () => {
    const config = loadConfig(gatewayEnv, {
      DATABASE_URL: 'postgresql://u:p@127.0.0.1:5432/db',
      REDIS_URL: 'redis://127.0.0.1:6379',
      EPOS_RELAY_ENCRYPTION_KEY: 'a'.repeat(64),
    });
    const opts = gatewayManagerOptions(config, 'gw-unit').link.backoff;
    const schedule = (random: number) => {
      const b = new Backoff({ ...opts, random: () => random });
      return [1, 2, 3, 4, 5, 6, 7, 8].map(() => b.next('auth'));
    };
    const MIN = 60_000;
    assert.deepEqual(schedule(0), [30_000, MIN, 2 * MIN, 4 * MIN, 8 * MIN, 15 * MIN, 15 * MIN, 15 * MIN]);
    const jittered = schedule(1);
    assert.equal(jittered[0], 22_500, 'jitter only shortens the delay');
    assert.ok(jittered.every((d) => d <= 15 * MIN));
    const b = new Backoff({ ...opts, random: () => 0 });
    b.next('auth');
    b.next('auth');
    b.reset();
    assert.equal(b.next('auth'), 30_000, 'after a reset the schedule starts again');
    assert.equal(b.next('error'), 1_000, 'ordinary failures keep their own schedule');
  });

  it('keepalive slots: a check runs at the start of the slot its ping falls due in, never after it and at most one slot before', () => {
    assert.equal(keepaliveSlotMs(25_000), 1_000, 'the default interval: one-second slots');
    assert.equal(keepaliveSlotMs(300_000), 1_000, 'never wider than a second');
    assert.equal(keepaliveSlotMs(500), 20);
    assert.equal(keepaliveSlotMs(10), 1);
    for (const interval of [150, 500, 25_000]) {
      const slot = keepaliveSlotMs(interval);
      for (let due = 1_764_547_200_000; due < 1_764_547_200_000 + 5 * slot; due += 7) {
        const at = keepaliveCheckAt(due, slot);
        assert.ok(at <= due && due - at < slot, `due ${due}: checked at ${at} (slot ${slot})`);
        assert.equal(at % slot, 0, 'on a slot boundary, the same for every link');
      }
    }
    // Links whose pings fall due within the same second are checked in the same turn.
    assert.equal(keepaliveCheckAt(1_764_547_200_100, 1_000), keepaliveCheckAt(1_764_547_200_900, 1_000));
    assert.notEqual(keepaliveCheckAt(1_764_547_200_900, 1_000), keepaliveCheckAt(1_764_547_201_000, 1_000));
  });

  it('rendezvous ownership moves only the keys a new member wins', () => {
    const keys = Array.from({ length: 300 }, (_, i) => `loc-${i}`);
    const two = new Map(keys.map((k) => [k, rendezvousOwner(k, ['a', 'b'])]));
    const three = new Map(keys.map((k) => [k, rendezvousOwner(k, ['a', 'b', 'c'])]));
    for (const k of keys) if (two.get(k) !== three.get(k)) assert.equal(three.get(k), 'c');
    const share = keys.filter((k) => three.get(k) === 'c').length;
    assert.ok(share > 60 && share < 140, `roughly a third moves (${share})`);
    assert.equal(rendezvousOwner('x', []), undefined);
  });

  it('EPOS Data profile: raw key in Basic auth, reseller only when set, URL override', () => {
    const p = new EposDataProfile();
    assert.deepEqual(p.handshakeHeaders(loc), { Authorization: 'Basic sk_sandbox_abc', 'software-house-id': 'sh-1' });
    assert.equal(p.handshakeHeaders({ ...loc, resellerId: 'r' })['reseller-id'], 'r');
    assert.equal(p.buildUrl(loc, 'wss://eu.ws.dojo.tech/epos'), 'wss://eu.ws.dojo.tech/epos');
    assert.equal(p.buildUrl({ ...loc, wsUrl: 'ws://x/epos' }, 'wss://eu.ws.dojo.tech/epos'), 'ws://x/epos');
  });

  it('EPOS Data profile decodes and rejects with the right codes', () => {
    const p = new EposDataProfile();
    const d = p.decode(JSON.stringify({ jsonrpc: '2.0', id: 'a', method: 'GetOrderByIdV1', params: { orderId: 'o', headers: {} } }), loc);
    assert.equal(d.kind, 'request');
    const code = (text: string) => {
      const r = p.decode(text, loc);
      return r.kind === 'reject' ? (r.response('t') as { error: { code: number } }).error.code : 0;
    };
    assert.equal(code('nope'), JsonRpcCode.ParseError);
    assert.equal(code('{"jsonrpc":"2.0","method":"GetOrderByIdV1"}'), JsonRpcCode.InvalidRequest);
    assert.equal(code('{"jsonrpc":"2.0","id":"x"}'), JsonRpcCode.InvalidRequest);
    assert.equal(code('{"jsonrpc":"2.0","id":"x","method":"SearchOrdersV1","params":{"headers":{}}}'), JsonRpcCode.MethodNotFound);
    assert.equal(code('{"jsonrpc":"2.0","id":"x","method":"GetOrderByIdV1","params":{"headers":{}}}'), JsonRpcCode.InvalidParams);
    // A party's deposit that is not an object (the contract's PartyDeposit has no type: read as one) is InvalidRequest naming it.
    const party = { headers: {}, dojoPartyId: 'dp', tableIds: ['t1'], startTime: '2026-11-21T12:00:00Z' };
    const withDeposit = (deposit: unknown) => p.decode(JSON.stringify({ jsonrpc: '2.0', id: 'x', method: 'CreatePartyV1', params: { ...party, deposit } }), { ...loc, capabilities: ['CreateParty'] });
    assert.equal(withDeposit({ totalAmount: { value: 500, currencyCode: 'GBP' }, paymentIntentIds: [] }).kind, 'request');
    for (const bad of [[], 'abc', 5, true]) {
      const r = withDeposit(bad);
      assert.equal(r.kind, 'reject', JSON.stringify(bad));
      const { error } = (r as { response: (t: string) => { error: { code: number; errorType: string; debugMessage: string } } }).response('t');
      assert.deepEqual([error.code, error.errorType, error.debugMessage], [JsonRpcCode.InvalidParams, 'InvalidRequest', 'params.deposit must be object'], JSON.stringify(bad));
    }
    assert.equal(p.peekId('{"jsonrpc":"2.0","id":"abc-1","method":"X","params":{"pad":"xxxx'), 'abc-1');
    assert.equal(p.peekId('{"id":17,'), 17);
  });
});
