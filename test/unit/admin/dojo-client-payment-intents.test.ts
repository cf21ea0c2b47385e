import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DojoApiError, DojoClient, DojoContractError } from '@app/dojo-client';
import { DojoStandIn } from '../../integration/admin/support/dojo-stand-in';

const intent = (id: string, status = 'Created') => ({ id, status, captureMode: 'Auto', amount: { value: 1000, currencyCode: 'GBP' }, reference: 'o1' });

describe('DojoClient payment intents', () => {
  let dojo: DojoStandIn;
  let client: DojoClient;
  const creds = () => ({ apiKey: 'sk_sandbox_pi', baseUrl: dojo.url });
  before(async () => {
    dojo = await new DojoStandIn().start();
    client = new DojoClient({ baseUrl: 'http://unused.invalid', apiVersion: '2026-02-27', maxAttempts: 3, backoffBaseMs: 5 });
  });
  after(async () => dojo.stop());

  it('reads an intent with the version header and repeats the read after 429 and 503', async () => {
    let n = 0;
    const stop = dojo.respond((r) =>
      r.path.startsWith('/payment-intents/pi_get') ? (n++ < 2 ? { status: n === 1 ? 429 : 503, body: { title: 'busy' } } : { status: 200, body: intent('pi_get', 'Captured') }) : undefined,
    );
    const pi = await client.getPaymentIntent(creds(), 'pi_get');
    stop();
    assert.equal(pi.status, 'Captured');
    const reqs = dojo.find((r) => r.path.startsWith('/payment-intents/pi_get'));
    assert.equal(reqs.length, 3);
    assert.equal(reqs[2]!.method, 'GET');
    assert.equal(reqs[2]!.path, '/payment-intents/pi_get?returnCanceled=true');
    assert.equal(reqs[2]!.headers.version, '2026-02-27');
    assert.equal(reqs[2]!.headers.authorization, 'Basic sk_sandbox_pi');
  });

  it('creates once: a 502 is not repeated (no idempotency at Dojo), the key is sent, the error quotes Dojo', async () => {
    const stop = dojo.respond((r) => (r.method === 'POST' && r.path === '/payment-intents' ? { status: 502, body: { title: 'Bad gateway', detail: 'upstream acquirer down' } } : undefined));
    await assert.rejects(
      client.createPaymentIntent(creds(), { amount: { value: 1000, currencyCode: 'GBP' }, reference: 'o1', captureMode: 'Auto' }, 'key-create-1'),
      (err: unknown) => err instanceof DojoApiError && err.status === 502 && /upstream acquirer down/.test(err.message) && !err.message.includes('sk_sandbox_pi'),
    );
    stop();
    const reqs = dojo.find((r) => r.method === 'POST' && r.path === '/payment-intents');
    assert.equal(reqs.length, 1);
    assert.equal(reqs[0]!.headers.idempotencykey, 'key-create-1');
    assert.deepEqual(reqs[0]!.body, { amount: { value: 1000, currencyCode: 'GBP' }, reference: 'o1', captureMode: 'Auto' });
  });

  it('repeats a refund after a 500 with the same idempotency key, and never a capture or a reversal', async () => {
    let refunds = 0;
    const stop = dojo.respond((r) => {
      if (r.path === '/payment-intents/pi_r/refunds') return refunds++ === 0 ? { status: 500, body: { title: 'oops' } } : { status: 200, body: { paymentIntentId: 'pi_r', refundId: 'rfnd_1' } };
      if (r.path === '/payment-intents/pi_r/captures' || r.path === '/payment-intents/pi_r/reversal') return { status: 503, body: { title: 'busy' } };
      return undefined;
    });
    const res = await client.refundPaymentIntent(creds(), 'pi_r', { amount: 500, refundReason: 'cold soup' }, 'key-refund-1');
    assert.equal(res.refundId, 'rfnd_1');
    const sent = dojo.find((r) => r.path === '/payment-intents/pi_r/refunds');
    assert.equal(sent.length, 2);
    assert.ok(sent.every((r) => r.headers.idempotencykey === 'key-refund-1'));
    assert.deepEqual(sent[1]!.body, { amount: 500, refundReason: 'cold soup' });
    await assert.rejects(client.capturePaymentIntent(creds(), 'pi_r', { amount: 500 }, 'key-cap'), (e: unknown) => e instanceof DojoApiError && e.attempts === 1);
    await assert.rejects(client.reversePaymentIntent(creds(), 'pi_r', 'key-rev'), (e: unknown) => e instanceof DojoApiError && e.attempts === 1);
    stop();
    assert.equal(dojo.find((r) => r.path === '/payment-intents/pi_r/captures').length, 1);
    assert.equal(dojo.find((r) => r.path === '/payment-intents/pi_r/reversal').length, 1);
  });

  it('cancels with DELETE and sets tips with the contract body', async () => {
    const stop = dojo.respond((r) => (r.path.startsWith('/payment-intents/pi_c') ? { status: 200, body: intent('pi_c', r.method === 'DELETE' ? 'Canceled' : 'Created') } : undefined));
    assert.equal((await client.cancelPaymentIntent(creds(), 'pi_c')).status, 'Canceled');
    await client.setPaymentIntentTips(creds(), 'pi_c', { value: 150, currencyCode: 'GBP' });
    stop();
    const tips = dojo.find((r) => r.path === '/payment-intents/pi_c/tips-amount');
    assert.deepEqual(tips[0]!.body, { tipsAmount: { value: 150, currencyCode: 'GBP' } });
    assert.equal(dojo.find((r) => r.method === 'DELETE' && r.path === '/payment-intents/pi_c').length, 1);
  });

  it('refuses to send a body that does not fit dojo-api-openapi.json, naming the field', async () => {
    const before = dojo.requests.length;
    await assert.rejects(
      client.createPaymentIntent(creds(), { amount: { value: 1.5, currencyCode: 'GBP' }, reference: 'o1' }, 'k'),
      (e: unknown) => e instanceof DojoContractError && e.field === 'amount.value',
    );
    await assert.rejects(
      client.createPaymentIntent(creds(), { amount: { value: 100, currencyCode: 'GBP' }, reference: '' }, 'k'),
      (e: unknown) => e instanceof DojoContractError && e.field === 'reference',
    );
    assert.equal(dojo.requests.length, before);
  });
});
