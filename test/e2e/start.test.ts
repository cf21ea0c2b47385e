import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { watchFlow } from '@app/dojo-sandbox';
import { freePort } from '@app/infra';
import { waitFor } from '@app/testing';
import type { TerminalProcess } from './terminal';
import { assertPortsClosed, pressCtrlC, processesLeft, spawnInTerminal, stackPorts, startEnv } from './terminal';

// The README's run command, end to end: its own Postgres and Redis, the sandbox,
// the four apps as processes, the demo venue and a pay-at-table flow; then the
// other flows against the running platform, and Ctrl-C the way a terminal sends it:
// SIGINT to the whole foreground process group (the script and its apps at once).
describe('npm start', () => {
  let term: TerminalProcess | undefined;
  after(() => term?.kill());

  it('brings the platform up, runs every flow green, and stops cleanly on Ctrl-C', async () => {
    const [admin, gateway, worker, webhook, sandbox] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    const env: NodeJS.ProcessEnv = startEnv({ admin, gateway, worker, webhook, sandbox }, {
      EPOS_RELAY_NO_APT: '1',
    });
    const started = Date.now();
    term = spawnInTerminal(join(__dirname, '..', '..', 'scripts', 'start.js'), env);
    const { child } = term;
    const out = () => term!.output();
    await waitFor(() => out().includes('keeps running') || child.exitCode !== null, 'the platform to start and run the demo flow', 90_000, 100);
    assert.equal(child.exitCode, null, out());
    const seconds = (Date.now() - started) / 1000;
    for (const step of ['SearchOrdersV1', 'GetOrderByIdV1', 'CreateOrderLockV1', 'RecordOrderPaymentByIdV1 (1/2)', 'RecordOrderPaymentByIdV1 (2/2)', 'DeleteOrderLockV1']) {
      assert.match(out(), new RegExp(`ok\\s+${step.replace(/[()/]/g, '\\$&')}`), `step ${step} succeeded:\n${out()}`);
    }
    assert.match(out(), /pay-at-table: SUCCESS/);
    // The second demo venue, on the legacy Tables API, after the first.
    for (const step of ['ListSessions', 'GetSession', 'LockSession (1/2)', 'RecordPayment (1/2)', 'UnlockSession (1/2)', 'RecordPayment (2/2)', 'GetFullBill']) {
      assert.match(out(), new RegExp(`ok\\s+${step.replace(/[()/]/g, '\\$&')}`), `Tables step ${step} succeeded:\n${out()}`);
    }
    assert.match(out(), /pay-at-table \(Tables API\): SUCCESS/);
    assert.ok(out().indexOf('pay-at-table: SUCCESS') < out().indexOf('pay-at-table (Tables API): SUCCESS'), 'printed after the first');
    // The third, a counter on Connect pay at counter: the POS's flow with the terminal's notifications as a transcript.
    for (const step of ['terminals (venue API)', 'start a sale on VT-SIGNATURE (venue API)', 'retry the sale (same Idempotency-Key)', 'VT-SIGNATURE  PRESENT_CARD', 'answer the signature (venue API)', 'order paid (venue API)', 'receipt (venue API)', 'VT-DECLINE  DECLINED', 'declined, nothing recorded (venue API)']) {
      assert.match(out(), new RegExp(`ok\\s+${step.replace(/[()/]/g, '\\$&')}`), `counter step ${step} succeeded:\n${out()}`);
    }
    assert.match(out(), /pay-at-counter: SUCCESS/);
    assert.match(out(), /admin API docs\s+http:\/\/127\.0\.0\.1:\d+\/docs/);
    assert.match(out(), /operator console\s+http:\/\/127\.0\.0\.1:\d+\/console/);
    assert.match(out(), /sandbox flows\s+http:\/\/127\.0\.0\.1:\d+\/flows/);
    assert.ok(seconds < 60, `pay-at-table shown ${seconds} s after start`);
    // The online payment of an open demo order: its checkout link on the simulator, and the flow that pays it.
    const link = /checkout link\s+(http:\/\/127\.0\.0\.1:\d+\/checkout\/pi_sandbox_\S+)/.exec(out());
    assert.ok(link, out());
    const checkout = await fetch(link[1]!);
    assert.equal(checkout.status, 200);
    assert.match(await checkout.text(), /Card number/);
    const flowLine = /npm run flow -- online-payment (.+)/.exec(out());
    assert.ok(flowLine, out());
    const onlineParams = Object.fromEntries([...flowLine[1]!.matchAll(/--param (\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
    assert.deepEqual(Object.keys(onlineParams).sort(), ['locationId', 'paymentIntentId', 'venueApi', 'venueToken']);

    const counterLine = /npm run flow -- pay-at-counter (.+)/.exec(out());
    assert.ok(counterLine, out());
    const counterParams = Object.fromEntries([...counterLine[1]!.matchAll(/--param (\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]));
    assert.deepEqual(Object.keys(counterParams).sort(), ['locationId', 'venueApi', 'venueToken']);

    const sandboxUrl = `http://127.0.0.1:${sandbox}`;
    for (const [flow, params] of [
      ['order-and-pay', {}],
      ['bookings', { tableId: 'T3' }],
      ['events', {}],
      ['pay-at-table', { tableId: 'T5' }],
      ['pay-at-table', { accountId: 'acctables0001', tableId: 'Table 5' }],
      ['online-payment', onlineParams],
      ['pay-at-counter', { accountId: 'acccounter0001', ...counterParams }],
    ] as const) {
      const steps: string[] = [];
      const status = await watchFlow({
        sandboxUrl,
        flow,
        params: { accountId: 'acc_demo_0001', ...params },
        timeoutMs: 30_000,
        onStep: (s) => steps.push(`${s.status} ${s.name} ${(s.additionalInformation ?? []).join('; ')}`),
      });
      assert.equal(status, 'SUCCESS', `${flow}:\n${steps.join('\n')}`);
      assert.ok(steps.length > 0);
    }

    const stack = stackPorts(out());
    assert.deepEqual(Object.keys(stack).sort(), ['postgres', 'redis'], out());
    const stop = await pressCtrlC(term);
    assert.equal(stop.code, 0, out());
    assert.ok(stop.seconds < 15, `stopped ${stop.seconds} s after Ctrl-C`);
    await assertPortsClosed({ admin, gateway, worker, webhook, sandbox, ...stack }, out());
    assert.deepEqual(processesLeft(child.pid!, [`epos-relay-pg-${child.pid}-`, `redis-server 127.0.0.1:${stack.redis}`]), [], out());
  });
});
