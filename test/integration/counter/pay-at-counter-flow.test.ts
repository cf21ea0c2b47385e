/**
 * The `pay-at-counter` flow against the whole stack: the real admin, worker
 * and gateway apps, Redis, Postgres, and the sandbox's /pac terminals. The
 * location is onboarded as connect-pac through the operator API, exactly as
 * `npm start` does; the flow then plays the venue's POS through the venue API.
 * Also `npm run flow -- pay-at-counter` (dist/scripts/flow.js) as a process:
 * its transcript, and its exit code when the flow fails.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RunningApp } from '@app/common';
import type { FlowResult } from '@app/dojo-sandbox';
import { DojoSandbox } from '@app/dojo-sandbox';
import type { Fixtures, TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, fixtures, uniquePrefix, waitFor } from '@app/testing';
import { startAdmin } from '../../../apps/admin/src/main';
import { startGateway } from '../../../apps/gateway/src/main';
import { startWorker } from '../../../apps/worker/src/main';

const OPERATOR = 'operator-token-pay-at-counter-01';
const CONNECT_TOKEN = 'pac-flow-token-3c9e1f7a2b';
const explain = (r: FlowResult) => r.steps.map((s) => `${s.status} ${s.name} ${s.additionalInformation.join('; ')}`).join('\n');

describe('pay-at-counter flow through the whole stack', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let sim: DojoSandbox;
  let admin: RunningApp;
  let worker: RunningApp;
  let gateway: RunningApp;
  let locationId = '';
  let venueToken = '';
  const account = 'acc_counter_flow';

  const operator = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${admin.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${OPERATOR}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as any };
  };
  const params = () => ({ accountId: account, venueApi: admin.url, locationId, venueToken });

  before(async () => {
    db = await createTestDatabase('pacflow');
    fx = fixtures(db.prisma);
    sim = await DojoSandbox.start({ port: 0, pingIntervalMs: 2_000, pac: { stepDelayMs: 10, signatureWindowMs: 20_000, terminalTimeoutMs: 5_000 } });
    const sh = await fx.softwareHouse();
    sim.addAccount({ apiKey: CONNECT_TOKEN, softwareHouseId: sh.dojoSoftwareHouseId, accountId: account });
    const env = appEnv(db, { QUEUE_PREFIX: uniquePrefix('pacflow'), ADMIN_OPERATOR_TOKENS: OPERATOR, COUNTER_POLL_MS: '200' });
    admin = await startAdmin(env);
    worker = await startWorker(env);
    gateway = await startGateway(env);
    const loc = await operator('POST', '/v1/locations', {
      name: 'Counter Flow Cafe',
      softwareHouseId: sh.id,
      dojoAccountId: account,
      protocol: 'connect-pac',
      apiKey: CONNECT_TOKEN,
      wsUrl: sim.pacUrl,
      connectPac: { hostAddress: 'counterflow', installerId: 'inst-flow', environment: 'test', signatureDefault: 'decline' },
    });
    assert.equal(loc.status, 201, JSON.stringify(loc.body));
    locationId = loc.body.id;
    const vt = await operator('POST', `/v1/locations/${locationId}/venue-tokens`, { name: 'pos' });
    venueToken = vt.body.token;
    await waitFor(() => sim.pac.connectionCounts()[account] === 1 || undefined, 'the gateway opened the PAC link', 20_000);
  });

  after(async () => {
    await gateway?.close().catch(() => undefined);
    await worker?.close().catch(() => undefined);
    await admin?.close().catch(() => undefined);
    await sim?.close().catch(() => undefined);
    await db?.drop();
  });

  it('runs green: terminals, a sale retried once on the terminal, the notifications, the signature, the order paid, the receipt, a refund, a decline', async () => {
    const r = await sim.runFlow('pay-at-counter', params());
    assert.equal(r.status, 'SUCCESS', explain(r));
    const names = r.steps.map((s) => s.name.trim());
    for (const step of [
      'terminals (venue API)',
      'open the event stream (SSE)',
      'put a counter order (venue API)',
      'start a sale on VT-SIGNATURE (venue API)',
      'retry the sale (same Idempotency-Key)',
      'VT-SIGNATURE  PRESENT_CARD',
      'signature.requested',
      'answer the signature (venue API)',
      'signature.answered',
      'VT-SIGNATURE  TRANSACTION_FINISHED',
      'transaction finished',
      'sale result',
      'the terminal ran it once (sandbox)',
      'order paid (venue API)',
      'receipt (venue API)',
      'refund part of the sale on VT-1 (venue API)',
      'refund applied to the order (venue API)',
      'VT-DECLINE  DECLINED',
      'declined, nothing recorded (venue API)',
    ]) {
      assert.ok(names.includes(step), `step ${step}:\n${explain(r)}`);
    }
    // The notifications arrive in the terminal's order.
    const seen = names.filter((n) => n.startsWith('VT-SIGNATURE  ')).map((n) => n.slice('VT-SIGNATURE  '.length));
    assert.deepEqual(seen.slice(0, 2), ['TRANSACTION_STARTED', 'PRESENT_CARD']);
    assert.equal(seen.at(-1), 'TRANSACTION_FINISHED');
    assert.ok(names.indexOf('answer the signature (venue API)') < names.indexOf('VT-SIGNATURE  APPROVED'), 'approved after the POS accepted');

    // What the stack stored: one payment for the sale's order (the transaction id), none for the declined one.
    const sale = r.steps.find((s) => s.name === 'start a sale on VT-SIGNATURE (venue API)')!.additionalInformation[0]!;
    const [, txId, orderId] = /^transaction (\S+): sale .* for order (\S+),/.exec(sale)!;
    const payments = await db.prisma.payment.findMany({ where: { locationId, orderId: orderId! } });
    assert.equal(payments.length, 1);
    assert.equal(payments[0]!.refundedAmount, 250n, 'the refund came off the sale\'s payment');
    const runs = sim.pac.runs.filter((x) => x.accountId === account);
    assert.deepEqual(
      runs.map((x) => [x.tid, x.kind, x.transaction?.transactionResult]),
      [['VT-SIGNATURE', 'sale', 'SUCCESSFUL'], ['VT-1', 'refund', 'SUCCESSFUL'], ['VT-DECLINE', 'sale', 'DECLINED']],
    );
    assert.equal(String(runs[0]!.requestId), txId);
    assert.equal(runs[0]!.signature?.answer, true, 'the POS answered, not the default (decline)');
    const declined = r.steps.find((s) => s.name === 'start a sale on VT-DECLINE (venue API)')!.additionalInformation[0]!;
    const declinedOrder = /for order (\S+)$/.exec(declined)![1]!;
    assert.equal(await db.prisma.payment.count({ where: { locationId, orderId: declinedOrder } }), 0);
  });

  it('npm run flow -- pay-at-counter prints the transcript; a failing flow exits 1 naming the problem', async () => {
    const script = join(__dirname, '..', '..', '..', 'scripts', 'flow.js');
    const args = ['pay-at-counter', '--sandbox', sim.url, '--account', account, ...Object.entries(params()).filter(([k]) => k !== 'accountId').flatMap(([k, v]) => ['--param', `${k}=${v}`])];
    const { stdout } = await promisify(execFile)(process.execPath, [script, ...args], { timeout: 60_000 });
    assert.match(stdout, /ok\s+VT-SIGNATURE {2}PRESENT_CARD\s+.*present the card/);
    assert.match(stdout, /ok\s+VT-SIGNATURE {2}PIN_ENTRY|ok\s+signature\.requested/);
    assert.match(stdout, /ok\s+answer the signature \(venue API\)\s+.*accepted by the POS/);
    assert.match(stdout, /ok\s+VT-DECLINE {2}DECLINED/);
    assert.match(stdout, /\nSUCCESS\n$/);
    assert.ok(!stdout.includes(venueToken), 'the venue token is not printed');

    await assert.rejects(
      promisify(execFile)(process.execPath, [script, ...args, '--param', 'tid=VT-NOPE'], { timeout: 60_000 }),
      (e: { code?: number; stdout?: string }) => e.code === 1 && /FAIL\s+terminals \(venue API\).*VT-NOPE/.test(e.stdout ?? ''),
    );
  });
});
