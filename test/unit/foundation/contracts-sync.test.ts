import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ALL_CAPABILITIES, contractValidator, EPOS_METHODS, isStorableDateTime, METHOD_INFO } from '@app/contracts';
import { repoRoot, specsDir } from '@app/infra';
import { deriveContracts, derivePaymentIntentSchemas } from '../../../scripts/generate-contracts';

describe('contracts derived from the AsyncAPI file', () => {
  const specText = readFileSync(join(specsDir(), 'epos-data-asyncapi.yml'), 'utf8');
  const bundle = JSON.parse(readFileSync(join(repoRoot(), 'libs/contracts/src/generated/epos-data.schemas.json'), 'utf8'));

  it('are up to date with ../shared/specs (run `npm run contracts:generate` when this fails)', () => {
    assert.equal(bundle.source.sha256, createHash('sha256').update(specText).digest('hex'));
    const fresh = deriveContracts(specText);
    assert.deepEqual(bundle.schemas, fresh.schemas);
    assert.deepEqual(bundle.methods, fresh.methods);
  });

  it('payment-intent schemas are up to date with dojo-api-openapi.json (run `npm run contracts:generate` when this fails)', () => {
    const apiText = readFileSync(join(specsDir(), 'dojo-api-openapi.json'), 'utf8');
    const pi = JSON.parse(readFileSync(join(repoRoot(), 'libs/contracts/src/generated/dojo-payment-intents.schemas.json'), 'utf8'));
    const fresh = derivePaymentIntentSchemas(apiText);
    assert.equal(pi.source.sha256, fresh.sha256);
    assert.deepEqual(pi.schemas, fresh.schemas);
    assert.ok(pi.schemas.CreatePaymentIntentRequest && pi.schemas.Money && pi.schemas.CreateRefundRequest);
  });

  it('cover exactly the 22 methods of the contract', () => {
    const channels = Object.keys(parse(specText).channels).sort();
    assert.equal(channels.length, 22);
    assert.deepEqual([...EPOS_METHODS].sort(), channels);
    assert.equal(new Set(ALL_CAPABILITIES).size, ALL_CAPABILITIES.length);
    for (const m of EPOS_METHODS) assert.ok(METHOD_INFO[m].capabilities.length > 0);
  });

  it('validate requests and name the offending field', () => {
    const v = contractValidator();
    const ok = {
      jsonrpc: '2.0', id: '1', method: 'RecordOrderPaymentByIdV1',
      params: { headers: {}, orderId: 'o1', paymentIntentId: 'pi_1', paidAmount: { value: 100, currencyCode: 'GBP' } },
    };
    assert.deepEqual(v.validateRequest('RecordOrderPaymentByIdV1', ok), { ok: true });
    const bad = { ...ok, params: { ...ok.params, paidAmount: { value: '100', currencyCode: 'GBP' } } };
    const r = v.validateRequest('RecordOrderPaymentByIdV1', bad);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.field, 'params.paidAmount.value');
    const missing = v.validateRequest('RecordOrderPaymentByIdV1', { ...ok, params: { headers: {}, orderId: 'o1' } });
    assert.equal(!missing.ok && missing.field.startsWith('params.'), true);
  });

  it('take a date-time only when its year in UTC is 1 to 9999 (an offset can move it out), on every edge that validates the schemas', () => {
    for (const ok of ['2026-11-21T12:00:00Z', '9999-12-31T23:59:59Z', '9999-12-31T23:59:59+14:00', '0001-01-01T00:00:00Z', '0001-01-01T10:00:00+09:00']) {
      assert.equal(isStorableDateTime(ok), true, ok);
    }
    // Year 10000 in UTC (toISOString: "+010000-..."), year 0 in UTC, year 0000 as written, a leap second, not RFC 3339.
    for (const bad of ['9999-12-31T23:59:59-14:00', '9999-12-31T12:00:00-12:00', '0001-01-01T00:30:00+01:00', '0000-06-01T00:00:00Z', '2026-12-31T23:59:60Z', '2026-11-21']) {
      assert.equal(isStorableDateTime(bad), false, bad);
    }
    const r = contractValidator().validateSchema('Party', { id: 'p', tableIds: ['t1'], status: 'Seated', startTime: '9999-12-31T23:59:59-14:00' });
    assert.deepEqual(r, { ok: false, field: 'startTime', reason: 'must be an RFC 3339 date-time (e.g. 2026-11-30T10:00:00Z) whose year in UTC is 1 to 9999, without a leap second' });
  });

  it("take a party's deposit only as an object (PartyDeposit has no type in the published file), for Dojo and the venue alike", () => {
    const v = contractValidator();
    const deposit = { totalAmount: { value: 5000, currencyCode: 'GBP' }, paymentIntentIds: ['pi_1'] };
    const party = { id: 'p', tableIds: ['t1'], status: 'Seated', startTime: '2026-11-21T12:00:00Z' };
    const create = (d: unknown) => ({ jsonrpc: '2.0', id: '1', method: 'CreatePartyV1', params: { headers: {}, dojoPartyId: 'dp', tableIds: ['t1'], startTime: '2026-11-21T12:00:00Z', deposit: d } });
    const update = (d: unknown) => ({ jsonrpc: '2.0', id: '1', method: 'UpdatePartyV1', params: { headers: {}, dojoPartyId: 'dp', ...party, deposit: d } });
    assert.deepEqual(v.validateSchema('Party', { ...party, deposit }), { ok: true });
    assert.deepEqual(v.validateRequest('CreatePartyV1', create(deposit)), { ok: true });
    assert.deepEqual(v.validateRequest('UpdatePartyV1', update(deposit)), { ok: true });
    for (const bad of [[], ['x'], 'abc', 5, true, null]) {
      assert.deepEqual(v.validateSchema('Party', { ...party, deposit: bad }), { ok: false, field: 'deposit', reason: 'must be object' }, JSON.stringify(bad));
      assert.deepEqual(v.validateRequest('CreatePartyV1', create(bad)), { ok: false, field: 'params.deposit', reason: 'must be object' }, JSON.stringify(bad));
      assert.deepEqual(v.validateRequest('UpdatePartyV1', update(bad)), { ok: false, field: 'params.deposit', reason: 'must be object' }, JSON.stringify(bad));
    }
  });

  it('accept JSON-RPC responses without `method` (a quirk of the published file)', () => {
    const v = contractValidator();
    const resp = { jsonrpc: '2.0', id: '1', result: [{ id: 'a1', name: 'Main room' }] };
    assert.deepEqual(v.validateResponse('ListAreasV1', resp), { ok: true });
    const err = { jsonrpc: '2.0', id: '1', error: { code: -32004, message: 'Not found', errorType: 'NotFound', debugMessage: 'x', traceId: 't' } };
    assert.deepEqual(v.validateResponse('GetOrderByIdV1', err), { ok: true });
  });
});
