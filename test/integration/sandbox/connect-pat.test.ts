/**
 * The sandbox's Connect PAT endpoint on its own, with a small fake EPOS (a ws
 * client answering from memory): the handshake's query, Connect's last
 * connection wins, pings, and a reply that breaks the codec's schema failing
 * the flow with the message and field named. The platform's side is tested in
 * test/integration/connect-pat.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { ConnectPat } from '@app/contracts';
import { CONNECTION_DISCONTINUED, DojoSandbox } from '@app/dojo-sandbox';
import { waitFor } from '@app/testing';

type Json = Record<string, any>;

/** A fake EPOS on Connect PAT: one table T1 with 1000 due; `corrupt` changes a reply before it goes. */
class FakePatEpos {
  ws!: WebSocket;
  frames: Json[] = [];
  closed: { code: number; reason: string } | undefined;
  corrupt?: (method: string, result: Json) => Json;
  due = 1000;
  constructor(readonly url: string) {}
  async open(): Promise<void> {
    this.ws = new WebSocket(this.url);
    this.ws.on('message', (d: Buffer) => this.onMessage(JSON.parse(d.toString('utf8')) as Json));
    this.ws.on('close', (code, reason) => (this.closed = { code, reason: String(reason) }));
    await new Promise<void>((res, rej) => {
      this.ws.once('open', () => res());
      this.ws.once('unexpected-response', (_req, r) => rej(new Error(`HTTP ${r.statusCode}`)));
      this.ws.once('error', rej);
    });
  }
  private onMessage(m: Json): void {
    this.frames.push(m);
    if (m.id === undefined) return;
    const p = m.params as Json;
    const results: Record<string, Json> = {
      tableListRequest: { tables: ['T1'], currency: 'GBP' },
      tableLockRequest: { tableId: p.tableId, confirmed: true, amount: this.due, currency: 'GBP' },
      posReceiptRequest: { tableId: p.tableId, receiptLines: [{ type: 'TEXT', value: 'Bill' }] },
      transactionResponse: { tableId: p.tableId, recorded: p.payments?.length ?? 0, amountDue: 0, currency: 'GBP' },
      finalPOSReceiptRequest: { tableId: p.tableId, receiptLines: [{ type: 'TEXT', format: ['BOLD'], value: 'PAID IN FULL' }] },
      tableUnlock: { tableId: p.tableId, unlocked: true },
    };
    let result = results[m.method as string] ?? {};
    if (this.corrupt) result = this.corrupt(m.method as string, result);
    this.ws.send(JSON.stringify({ jsonrpc: '2.0', id: m.id, result }));
  }
  close(): void {
    this.ws?.terminate();
  }
}

describe('dojo sandbox: Connect PAT endpoint /pat', () => {
  let sim: DojoSandbox;
  const fakes: FakePatEpos[] = [];
  const url = (o: Partial<ConnectPat.ConnectPatUrlParts> & { raw?: string } = {}) =>
    o.raw ?? ConnectPat.connectPatUrl(sim.patUrl, { token: 'tok_a', softwareHouseId: 'sh', installerId: 'inst', finalPosReceiptRequest: true, ...o });
  const open = async (u: string) => {
    const f = new FakePatEpos(u);
    fakes.push(f);
    await f.open();
    return f;
  };

  before(async () => {
    sim = await DojoSandbox.start({ port: 0, pingIntervalMs: 60, pongTimeoutMs: 1_000, callTimeoutMs: 2_000 });
    sim.addAccount({ apiKey: 'tok_a', softwareHouseId: 'sh', accountId: 'acc_a' });
  });

  after(async () => {
    for (const f of fakes) f.close();
    await sim.close();
  });

  it('refuses a wrong token, software house, version, a missing installer id and a valued flag; keeps the exact URI', async () => {
    const bad: [string, RegExp][] = [
      [url({ token: 'nope' }), /HTTP 401/],
      [url({ softwareHouseId: 'other' }), /HTTP 401/],
      [url().replace('api-version=v1', 'api-version=v0'), /HTTP 400/],
      [url().replace('&installer-id=inst', ''), /HTTP 400/],
      [url().replace('final-pos-receipt-request', 'final-pos-receipt-request=1'), /HTTP 400/],
    ];
    for (const [u, re] of bad) await assert.rejects(open(u), re, u);
    await open(url());
    const last = sim.pat.handshakes.at(-1)!;
    assert.equal(last.status, 101);
    assert.equal(last.rawUrl, '/pat?token=tok_a&api-version=v1&software-house-id=sh&installer-id=inst&final-pos-receipt-request');
    assert.equal(sim.pat.routed('acc_a')?.finalReceipt, true);
    await waitFor(() => (sim.pat.routed('acc_a')?.pongsReceived ?? 0) > 0, 'pings answered');
  });

  it('the last connection of a site wins: the older one gets errorMessage "Connection Discontinued" and is closed', async () => {
    const first = await open(url());
    const second = await open(url());
    await waitFor(() => first.closed !== undefined, 'first closed');
    assert.deepEqual(first.frames.at(-1), { jsonrpc: '2.0', method: 'errorMessage', params: { code: 4000, message: CONNECTION_DISCONTINUED } });
    assert.equal(first.closed!.reason, CONNECTION_DISCONTINUED);
    assert.equal(second.closed, undefined);
    assert.ok(sim.pat.routed('acc_a'));
  });

  it('runs the Connect pay-at-table flow (also as pay-at-table) and fails it on a corrupted reply, naming the message and field', async () => {
    const epos = await open(url());
    await waitFor(() => sim.pat.routed('acc_a') !== undefined, 'connected');
    const ok = await sim.runFlow('pay-at-table', { accountId: 'acc_a' });
    assert.equal(ok.status, 'SUCCESS', JSON.stringify(ok.steps));
    assert.deepEqual(ok.steps.map((s) => s.name), ['tableListRequest', 'tableLockRequest', 'posReceiptRequest', 'transactionResponse (2 payments)', 'finalPOSReceiptRequest', 'tableUnlock']);
    const tx = epos.frames.find((f) => f.method === 'transactionResponse')!;
    assert.equal(tx.params.amountPaid, 1000);
    assert.equal(tx.params.payments.length, 2);

    epos.corrupt = (method, r) => (method === 'tableLockRequest' ? { ...r, amount: '10.00' } : r);
    const bad = await sim.runFlow('connect-pay-at-table', { accountId: 'acc_a' });
    assert.equal(bad.status, 'FAILURE');
    const failed = bad.steps.find((s) => s.status === 'FAILURE')!;
    assert.equal(failed.name, 'tableLockRequest');
    assert.match(failed.additionalInformation.join(' '), /tableLockResponse\.amount /);
    epos.corrupt = undefined;
  });

  it('load generator: the list, lock, receipt and unlock cycle at a target rate, with latency per message', async () => {
    await open(url());
    await waitFor(() => sim.pat.routed('acc_a') !== undefined, 'connected');
    const r = await sim.patLoad({ accountIds: ['acc_a'], ratePerSec: 200, durationMs: 300 });
    assert.ok(r.sent >= 40, `sent ${r.sent}`);
    assert.equal(r.ok, r.sent, JSON.stringify(r.errorSamples));
    assert.deepEqual(Object.keys(r.byMethod).sort(), ['posReceiptRequest', 'tableListRequest', 'tableLockRequest', 'tableUnlock']);
    assert.ok(r.latency.p99 >= 0);
  });
});
