/**
 * Frames Connect's codecs refuse (pay at table and pay at counter share the answer: profiles/connect-common.ts):
 * the answer carries the codec's error and the trace id, and the method when the frame had no id; the rejection is
 * labelled with the code's name in the dialect's table.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LocationConfig } from '@app/gateway';
import { defaultProfiles } from '@app/gateway';

const location = (profile: 'connect-pat' | 'connect-pac'): LocationConfig => ({
  id: '44444444-4444-4444-4444-444444444444',
  name: 'connect venue',
  enabled: true,
  configVersion: 1,
  capabilities: [],
  apiKey: 'connect-token-secret',
  softwareHouseId: 'SH-1',
  profile,
  settings: { hostAddress: 'venue1', environment: 'test', installerId: 'INST-9' },
});

function refusal(profile: 'connect-pat' | 'connect-pac', frame: unknown) {
  const d = defaultProfiles().get(profile)!.decode(JSON.stringify(frame), location(profile));
  assert.equal(d.kind, 'reject', JSON.stringify(d));
  if (d.kind !== 'reject') throw new Error('not refused');
  return { errorType: d.errorType, reason: d.reason, answer: d.response('trace-1') as unknown as Record<string, unknown> };
}

/** The answer to a refused frame that had no id: id null, the method named in data beside the trace id. */
const answeredWithoutId = (code: number, message: string, method: string) => ({
  jsonrpc: '2.0',
  id: null,
  error: { code, message, data: { traceId: 'trace-1', method } },
});

describe('Connect: refused frames', () => {
  it('pay at table: a request without its id is answered with id null and the method named in data', () => {
    const r = refusal('connect-pat', { jsonrpc: '2.0', method: 'tableListRequest', params: {} });
    assert.equal(r.errorType, 'invalidRequest');
    assert.deepEqual(r.answer, answeredWithoutId(-32600, r.reason, 'tableListRequest'));
  });

  it('pay at table: a refused frame with an id is answered under it, with no method in data', () => {
    const r = refusal('connect-pat', { jsonrpc: '1.0', id: 7, method: 'tableListRequest', params: {} });
    assert.equal(r.errorType, 'invalidRequest');
    assert.deepEqual(r.answer, { jsonrpc: '2.0', id: 7, error: { code: -32600, message: 'jsonrpc must be "2.0"', data: { traceId: 'trace-1' } } });
  });

  it('pay at counter: a notification with bad params is answered with id null and the method named in data', () => {
    const r = refusal('connect-pac', { jsonrpc: '2.0', method: 'terminalNotification', params: { tid: 42 } });
    assert.equal(r.errorType, 'invalidParams');
    assert.deepEqual(r.answer, answeredWithoutId(-32602, r.reason, 'terminalNotification'));
  });

  it('pay at counter: a frame that is not JSON is a parse error with no id', () => {
    const d = defaultProfiles().get('connect-pac')!.decode('{not json', location('connect-pac'));
    assert.equal(d.kind, 'reject');
    if (d.kind !== 'reject') return;
    assert.equal(d.errorType, 'parseError');
    assert.deepEqual(d.response('trace-2'), { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'the message is not valid JSON', data: { traceId: 'trace-2' } } });
  });
});
