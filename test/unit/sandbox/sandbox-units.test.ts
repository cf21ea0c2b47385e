import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validatePaymentIntentBody } from '@app/contracts';
import { AccountRegistry, dojoSignature, intentBody, parseAccountsSetting, PaymentIntentStore, percentile, SandboxInputError, summarize, TEST_CARDS } from '@app/dojo-sandbox';

describe('sandbox units', () => {
  it('signs webhooks like Dojo (worked example from the webhook docs)', () => {
    const body = JSON.stringify({
      id: 'evt_hnnHxIKR_Uy6bhZCusCltw',
      event: 'payment_intent.created',
      accountId: 'acc_test',
      createdAt: '2022-02-01T13:07:41.8667859Z',
      data: { paymentIntentId: 'pi_vpwd4ooAPEqyNAQe4z89WQ', paymentStatus: 'Created', captureMode: 'Auto' },
    });
    assert.equal(
      dojoSignature('PDYkJQq6sESYHp_zJuTTBQ', body),
      'sha256=4B-49-F8-FE-25-A7-E6-7D-00-4F-A7-9C-F8-0B-63-00-C7-77-B4-F2-2D-E5-E1-22-84-FA-04-18-50-A1-76-FD',
    );
    assert.notEqual(dojoSignature('other', body), dojoSignature('PDYkJQq6sESYHp_zJuTTBQ', body));
  });

  it('computes nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(xs, 50), 50);
    assert.equal(percentile(xs, 95), 95);
    assert.equal(percentile(xs, 99), 99);
    const s = summarize([5, 1, 3], 2);
    assert.deepEqual([s.count, s.errors, s.p50, s.max, s.mean], [3, 2, 3, 5, 3]);
    assert.equal(summarize([]).p99, 0);
  });

  it('parses SANDBOX_ACCOUNTS from JSON or a file', () => {
    const list = [{ apiKey: 'k', softwareHouseId: 's', accountId: 'a' }];
    assert.deepEqual(parseAccountsSetting(JSON.stringify(list)), list);
    const dir = mkdtempSync(join(tmpdir(), 'sbx-'));
    writeFileSync(join(dir, 'accounts.json'), JSON.stringify({ accounts: list }));
    assert.deepEqual(parseAccountsSetting(join(dir, 'accounts.json')), list);
    assert.deepEqual(parseAccountsSetting(undefined), []);
    assert.throws(() => parseAccountsSetting('{"x":1}'), SandboxInputError);
  });

  it('replaces the full capability set on every registration and rejects unknown names', () => {
    const r = new AccountRegistry();
    r.add({ apiKey: 'sk_1', softwareHouseId: 'sh', accountId: 'acc_1' });
    r.register('acc_1', [{ name: 'SearchOrders', version: 'v1' }, { name: 'GetOrderById', version: 'v1' }]);
    r.register('acc_1', [{ name: 'GetOrderById', version: 'v1' }]);
    assert.deepEqual(r.capabilityNames('acc_1'), ['GetOrderById']);
    assert.throws(() => r.register('acc_1', [{ name: 'GetOrder', version: '1.0.0' }]), /unknown capability/);
    assert.equal(r.fromAuthorization('Basic sk_1')?.accountId, 'acc_1');
    assert.equal(r.fromAuthorization(`Basic ${Buffer.from('sk_1').toString('base64')}`), undefined);
    assert.equal(r.fromAuthorization('Bearer sk_1'), undefined);
  });

  it("answers payment intents as Dojo's PaymentIntent schema allows: created, paid with tips, captured manually, refunded", () => {
    const store = new PaymentIntentStore();
    const checkout = 'http://127.0.0.1:1/checkout';
    const valid = (what: string, pi: Parameters<typeof intentBody>[0]) => {
      for (const captures of [true, false]) {
        const body = intentBody(pi, checkout, { captures });
        assert.equal('captures' in body, captures, what);
        assert.deepEqual(validatePaymentIntentBody('PaymentIntent', body), { ok: true }, `${what}${captures ? '' : ' (without captures)'}`);
      }
    };
    const create = (key: string, extra: Record<string, unknown> = {}) =>
      store.create('acc_1', { amount: { value: 2000, currencyCode: 'GBP' }, reference: `ref-${key}`, ...extra }, key);
    const auto = create('k1', { description: 'table 4', config: { payment: { tipsAllowed: true } }, metadata: { orderId: 'ord_1' } });
    valid('created', auto);
    store.pay(auto.id, TEST_CARDS.success, 150);
    assert.equal(auto.captures.length, 1);
    valid('paid with tips and captured', auto);
    store.refund('acc_1', auto.id, { amount: 500 }, 'rk1');
    valid('refunded', auto);
    const manual = create('k2', { captureMode: 'Manual' });
    store.pay(manual.id, TEST_CARDS.manualCapture, undefined);
    valid('authorized', manual);
    store.capture('acc_1', manual.id, { amount: 2000 });
    valid('captured manually', manual);
    const canceled = create('k3');
    store.cancel('acc_1', canceled.id);
    valid('canceled', canceled);
  });
});
