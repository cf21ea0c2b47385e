/**
 * The sandbox's Connect pay-at-counter endpoint (/pac) on its own, driven by a
 * plain ws client (pac-client.ts) that encodes with the codec and reads every
 * frame with the gateway's decoder: handshake, several sockets, terminals,
 * the outcomes by terminal id and amount, busy terminals, duplicate, cancel,
 * signatures, timeouts, a drop mid-transaction, and every misbehaviour switch
 * through the control API. The platform's side is tested with the gateway.
 */
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectPac } from '@app/contracts';
import { DojoSandbox } from '@app/dojo-sandbox';
import { waitFor } from '@app/testing';
import { errorOf, PacClient, resultOf } from './pac-client';

const E = ConnectPac.PAC_ERROR_CODES;
const sale = (tid: string, amount: number, extra: Partial<ConnectPac.PacRequestParams['sale']> = {}) => ({ tid, currency: 'GBP', amount, ...extra });

describe('dojo sandbox: Connect PAC endpoint /pac', () => {
  let sim: DojoSandbox;
  const clients: PacClient[] = [];
  const url = (o: Partial<ConnectPac.ConnectPacUrlParts> = {}) => ConnectPac.connectPacUrl(sim.pacUrl, { token: 'tok_pac', softwareHouseId: 'sh', installerId: 'inst', ...o });
  const open = async (u = url()) => {
    const c = new PacClient(u);
    clients.push(c);
    return c.open();
  };
  const control = async (path: string, body?: unknown) => {
    const res = await fetch(`${sim.url}/_sandbox/pac/${path}`, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };
  const available = (c: PacClient, tid: string) =>
    waitFor(async () => {
      const r = resultOf(await c.call('terminalDetails', { tid }));
      return (r as unknown as ConnectPac.PacTerminal).status === 'AVAILABLE';
    }, `${tid} AVAILABLE`);

  before(async () => {
    sim = await DojoSandbox.start({ port: 0, pingIntervalMs: 100, pongTimeoutMs: 2_000, pac: { stepDelayMs: 5, terminalTimeoutMs: 600, signatureWindowMs: 400 } });
    sim.addAccount({ apiKey: 'tok_pac', softwareHouseId: 'sh', accountId: 'acc_pac' });
    sim.addAccount({ apiKey: 'tok_other', softwareHouseId: 'sh', accountId: 'acc_other' });
  });

  afterEach(() => {
    for (const c of clients.splice(0)) {
      assert.deepEqual(c.problems, [], 'every frame from the sandbox fits the codec');
      c.close();
    }
    sim.pac.resetSwitches();
  });

  after(async () => {
    for (const c of clients) c.close();
    await sim.close();
  });

  it('checks the handshake like Connect, keeps the exact URI, and serves several sockets per account', async () => {
    const bad: [string, RegExp][] = [
      [url({ token: 'nope' }), /HTTP 401/],
      [url({ softwareHouseId: 'other' }), /HTTP 401/],
      [url().replace('api-version=v1', 'api-version=v0'), /HTTP 400/],
      [url().replace('&api-version=v1', ''), /HTTP 400/],
      [url().replace('&installer-id=inst', ''), /HTTP 400/],
    ];
    for (const [u, re] of bad) await assert.rejects(open(u), re, u);
    const a = await open();
    const b = await open();
    assert.equal(sim.pac.handshakes.at(-1)!.rawUrl, '/pac?token=tok_pac&api-version=v1&software-house-id=sh&installer-id=inst');
    assert.equal(sim.pac.connectionCounts().acc_pac, 2);
    await waitFor(() => sim.pac.connections('acc_pac').every((c) => c.pongsReceived > 0), 'pings answered on both sockets');
    const r = (await control('connections?accountId=acc_pac')).body;
    assert.equal(r.connections.length, 2);
    a.close();
    b.close();
    await waitFor(() => !sim.pac.connectionCounts().acc_pac, 'both closed');

    assert.equal((await control('misbehaviour', { refuseHandshake: 503 })).status, 200);
    await assert.rejects(open(), /HTTP 503/);
    await control('misbehaviour', { refuseHandshake: 0 });
    await open();
  });

  it('lists the terminals, details one, and refuses unknown terminals, methods, bad params and garbage', async () => {
    const c = await open();
    const list = resultOf(await c.call('connectedTerminals', {})) as unknown as { terminals: ConnectPac.PacTerminal[] };
    assert.deepEqual(list.terminals.map((t) => t.tid), ['VT-1', 'VT-2', 'VT-DECLINE', 'VT-SIGNATURE', 'VT-CANCEL', 'VT-TIMEOUT', 'VT-DISCONNECT']);
    assert.ok(list.terminals.every((t) => t.status === 'AVAILABLE' && t.currency === 'GBP'));
    assert.equal((resultOf(await c.call('terminalDetails', { tid: 'VT-2' })) as unknown as ConnectPac.PacTerminal).tid, 'VT-2');
    assert.equal(errorOf(await c.call('terminalDetails', { tid: 'NOPE' })).code, E.terminalNotFound);
    assert.equal(errorOf(await c.call('sale', sale('NOPE', 100))).code, E.terminalNotFound);
    assert.equal(errorOf(await c.call('sale', sale('VT-1', 100, { currency: 'EUR' }))).code, E.invalidParams);

    c.sendRaw(JSON.stringify({ jsonrpc: '2.0', id: 'x1', method: 'sale', params: { tid: 'VT-1', currency: 'GBP', amount: -5 } }), 'x1', 'sale');
    assert.equal(errorOf(await c.reply('x1')).code, E.invalidParams);
    c.sendRaw(JSON.stringify({ jsonrpc: '2.0', id: 'x2', method: 'reportEndOfDay', params: { tid: 'VT-1' } }), 'x2');
    assert.equal(errorOf(await c.reply('x2')).code, E.methodNotFound);
    c.sendRaw('{"jsonrpc":"2.0","id":"x3",');
    await waitFor(() => c.decoded.some((d) => d.kind === 'notice' && d.error.code === E.parseError), 'a parse error without an id');
    assert.ok(sim.pac.requests.some((r) => r.error?.code === E.parseError));

    // Added and removed terminals through the control API.
    assert.equal((await control('terminals', { accountId: 'acc_pac', tid: 'BAR-1', location: 'Bar' })).status, 200);
    const more = resultOf(await c.call('connectedTerminals', {})) as unknown as { terminals: ConnectPac.PacTerminal[] };
    assert.deepEqual(more.terminals.at(-1), { tid: 'BAR-1', status: 'AVAILABLE', currency: 'GBP', location: 'Bar' });
    assert.equal((await control('terminals', { accountId: 'acc_pac', tid: 'BAR-1', remove: true })).status, 200);
    assert.equal(errorOf(await c.call('terminalDetails', { tid: 'BAR-1' })).code, E.terminalNotFound);
    const view = (await control('terminals?accountId=acc_pac')).body;
    assert.equal(view.outcomes.byAmountEnding['02'], 'signature');
  });

  it('approves a sale with its notifications and receipts; the terminal is BUSY meanwhile; duplicate repeats it', async () => {
    const c = await open();
    assert.equal(errorOf(await c.call('duplicate', { tid: 'VT-2' })).code, E.noTransaction, 'nothing ran on VT-2 yet');
    sim.pac.configure({ stepDelayMs: 40 });
    const id = c.send('sale', sale('VT-2', 1250, { amountCashback: 500 }));
    await waitFor(() => c.notifications('VT-2').includes('PRESENT_CARD'), 'PRESENT_CARD');
    assert.equal((resultOf(await c.call('terminalDetails', { tid: 'VT-2' })) as unknown as ConnectPac.PacTerminal).status, 'BUSY');
    assert.equal(errorOf(await c.call('sale', sale('VT-2', 100))).code, E.terminalBusy);
    assert.equal(errorOf(await c.call('duplicate', { tid: 'VT-2' })).code, E.terminalBusy);
    const t = resultOf(await c.reply(id));
    sim.pac.configure({ stepDelayMs: 5 });
    assert.deepEqual(c.notifications('VT-2'), ['TRANSACTION_STARTED', 'PRESENT_CARD', 'PLEASE_WAIT', 'PIN_ENTRY', 'CONNECTING', 'REQUEST_SENT', 'APPROVED', 'REMOVE_CARD', 'TRANSACTION_FINISHED']);
    assert.equal(t.transactionResult, 'SUCCESSFUL');
    assert.equal(t.transactionType, 'SALE');
    assert.equal(t.cardHolderVerificationMethod, 'PIN');
    assert.deepEqual([t.amountBase, t.amountCashback, t.amountTotal, t.currency, t.tid], [1250, 500, 1750, 'GBP', 'VT-2']);
    assert.match(t.authCode!, /^\d{6}$/);
    assert.ok(Date.parse(t.transactionTime!) <= Date.now());
    assert.deepEqual(Object.keys(t.receiptLines!), ['MERCHANT', 'CUSTOMER']);
    assert.ok(t.receiptLines!.CUSTOMER!.some((l) => l.value === 'AMOUNT GBP 12.50'));
    assert.deepEqual(t.notifications, c.notifications('VT-2'));

    const dup = resultOf(await c.call('duplicate', { tid: 'VT-2' }));
    assert.deepEqual(dup, t);
    const runs = (await control('runs?accountId=acc_pac&tid=VT-2')).body;
    assert.equal(runs.length, 1, 'the busy refusal and the duplicate ran nothing');
    assert.equal(runs[0].requestId, id);

    const refund = resultOf(await c.call('refund', sale('VT-2', 700)));
    assert.deepEqual([refund.transactionType, refund.transactionResult, refund.amountBase], ['REFUND', 'SUCCESSFUL', 700]);
  });

  it('declines by terminal (VT-DECLINE) and by amount (..01)', async () => {
    const c = await open();
    for (const [tid, amount] of [['VT-DECLINE', 1000], ['VT-1', 1001]] as const) {
      const t = resultOf(await c.call('sale', sale(tid, amount)));
      assert.equal(t.transactionResult, 'DECLINED', tid);
      assert.equal(t.authCode, undefined);
      assert.ok(t.receiptLines!.MERCHANT!.some((l) => l.type === 'BOX_DECLINE'));
      assert.ok(c.notifications(tid).includes('DECLINED'));
    }
  });

  it('asks the EPOS to verify a signature: accepted, refused (VOID), and unanswered (Connect accepts at its window)', async () => {
    const c = await open();
    c.onSignature = () => true;
    const yes = resultOf(await c.call('sale', sale('VT-SIGNATURE', 1000)));
    assert.deepEqual([yes.transactionResult, yes.cardHolderVerificationMethod], ['SUCCESSFUL', 'SIGNATURE']);
    const req = c.signatureRequests.at(-1)!;
    assert.equal(req.params.tid, 'VT-SIGNATURE');
    assert.ok(req.params.receiptLines?.MERCHANT?.some((l) => /SIGNATURE/.test(l.value ?? '')));
    assert.ok(yes.notifications!.includes('SIGNATURE_VERIFICATION_PROCESS_COMPLETED'));

    c.onSignature = () => false;
    const no = resultOf(await c.call('sale', sale('VT-1', 2002)));
    assert.equal(no.transactionResult, 'VOID');
    assert.ok(no.receiptLines!.CUSTOMER!.some((l) => l.type === 'BOX_VOID'));

    c.onSignature = () => undefined;
    const silent = resultOf(await c.call('sale', sale('VT-SIGNATURE', 1000)));
    assert.equal(silent.transactionResult, 'SUCCESSFUL');
    assert.ok(silent.notifications!.includes('SIGNATURE_VERIFICATION_TIMEOUT'));
    const runs = (await control('runs?accountId=acc_pac')).body.filter((r: any) => r.signature);
    assert.deepEqual(runs.slice(-3).map((r: any) => r.signature.answer), [true, false, 'timeout']);
  });

  it('cancels a waiting sale (..03); a stuck terminal (VT-TIMEOUT) cannot cancel and times out; nothing to cancel is an error', async () => {
    const c = await open();
    assert.equal(errorOf(await c.call('cancelTransaction', { tid: 'VT-1' })).code, E.noTransaction);
    const id = c.send('sale', sale('VT-1', 4003));
    await waitFor(() => c.notifications('VT-1').includes('PRESENT_CARD'), 'waiting at PRESENT_CARD');
    const cancelling = resultOf(await c.call('cancelTransaction', { tid: 'VT-1' })) as unknown as { status: string };
    assert.equal(cancelling.status, 'CANCELLING');
    const t = resultOf(await c.reply(id));
    assert.equal(t.transactionResult, 'CANCELLED');
    assert.ok(t.notifications!.includes('ATTEMPTING_CANCEL'));

    const started = Date.now();
    const stuck = c.send('sale', sale('VT-TIMEOUT', 1000));
    await waitFor(() => c.notifications('VT-TIMEOUT').includes('PRESENT_CARD'), 'stuck at PRESENT_CARD');
    await c.call('cancelTransaction', { tid: 'VT-TIMEOUT' });
    const timedOut = resultOf(await c.reply(stuck));
    assert.equal(timedOut.transactionResult, 'TIMED_OUT');
    assert.ok(Date.now() - started >= 600, 'after the terminal timeout');
    assert.ok(timedOut.notifications!.includes('UNABLE_TO_CANCEL'));
    // ..03 without a cancel also times out.
    assert.equal(resultOf(await c.call('sale', sale('VT-CANCEL', 1000))).transactionResult, 'TIMED_OUT');
  });

  it('drops the socket mid-transaction (..05, VT-DISCONNECT); the terminal still finishes and duplicate recovers it', async () => {
    for (const [tid, amount] of [['VT-1', 3005], ['VT-DISCONNECT', 1000]] as const) {
      const c = await open();
      const id = c.send('sale', sale(tid, amount));
      await waitFor(() => c.closed, 'socket dropped');
      assert.equal(c.repliesTo(id).length, 0);
      const again = await open();
      await available(again, tid);
      const t = resultOf(await again.call('duplicate', { tid }));
      assert.deepEqual([t.transactionResult, t.amountBase], ['SUCCESSFUL', amount]);
      const run = sim.pac.runs.filter((r) => r.requestId === id && r.tid === tid).at(-1)!;
      assert.equal(run.replied, false);
      assert.ok(run.notifications.includes('TRANSACTION_FINISHED'));
    }
  });

  it('misbehaves on request: no reply, two replies, replies out of order, an unreadable result, slow notifications, drops', async () => {
    const c = await open();
    assert.equal((await control('misbehaviour', { neverReply: true })).body.neverReply, true);
    const lost = c.send('sale', sale('VT-1', 100));
    await waitFor(() => sim.pac.runs.filter((r) => r.requestId === lost && r.tid === 'VT-1' && r.amount === 100).at(-1)?.finishedAt, 'the lost sale finished on the terminal');
    await available(c, 'VT-1');
    assert.equal(c.repliesTo(lost).length, 0);
    assert.equal(resultOf(await c.call('duplicate', { tid: 'VT-1' })).amountBase, 100);

    await control('misbehaviour', { reset: true, replyTwice: true });
    const twice = c.send('sale', sale('VT-1', 200));
    await waitFor(() => c.repliesTo(twice).length === 2, 'two replies');
    assert.deepEqual(resultOf(c.repliesTo(twice)[0]!), resultOf(c.repliesTo(twice)[1]!));

    await control('misbehaviour', { reset: true, outOfOrder: true });
    const first = c.send('terminalDetails', { tid: 'VT-1' });
    const second = c.send('connectedTerminals', {});
    await c.reply(first);
    const order = c.replies.filter((r) => [first, second].includes(String(r.id))).map((r) => String(r.id));
    assert.deepEqual(order, [second, first]);
    const single = await c.call('terminalDetails', { tid: 'VT-2' }, 2_000);
    assert.equal(single.kind, 'reply', 'a lone reply still goes after the hold');

    await control('misbehaviour', { reset: true, unreadableResult: true });
    const bad = c.send('sale', sale('VT-2', 300));
    await c.reply(bad);
    assert.match(c.unreadable.at(-1)!, /^sale\.transactionResult /);
    c.unreadable.length = 0;
    await control('misbehaviour', { reset: true });
    assert.equal(resultOf(await c.call('duplicate', { tid: 'VT-2' })).transactionResult, 'SUCCESSFUL', 'the terminal kept a readable record');

    await control('misbehaviour', { slowNotificationsMs: 60 });
    const t0 = Date.now();
    await c.call('sale', sale('VT-2', 400));
    assert.ok(Date.now() - t0 >= 6 * 60, `slow notifications took ${Date.now() - t0} ms`);

    await control('misbehaviour', { reset: true, dropMidTransaction: true });
    c.send('sale', sale('VT-2', 500));
    await waitFor(() => c.closed, 'dropped mid-transaction');
    await control('misbehaviour', { reset: true });
    const d = await open();
    const x = await open();
    assert.equal((await control('drop', { accountId: 'acc_pac' })).body.dropped, 2);
    await waitFor(() => d.closed && x.closed, 'both dropped');
    assert.equal((await control('misbehaviour', { refuseHandshake: 302 })).status, 400);
    assert.equal((await control('settings', { stepDelayMs: -1 })).status, 400);
  });

  it('keeps accounts apart: terminals and their last transactions are per account', async () => {
    const mine = await open();
    const theirs = await open(url({ token: 'tok_other' }));
    await mine.call('sale', sale('VT-1', 900));
    const other = await theirs.call('duplicate', { tid: 'VT-1' });
    assert.equal(errorOf(other).code, E.noTransaction);
  });
});
