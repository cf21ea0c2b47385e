/**
 * The counter pump against an in-memory CounterCommandPort (the claim rules of
 * counter.ts's state machine, kept in a Map) and an in-memory socket: what it
 * writes, how it matches Connect's replies by id in any order, what it hands
 * to the settle queue, and how it recovers what it lost (socket drop, reply
 * timeout) with connectedTerminals + duplicate.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { CounterCommandPort, CounterSettleJob, CounterTerminalsSnapshot, CounterWork } from '@app/contracts';
import { ConnectPac } from '@app/contracts';
import { createLogger } from '@app/common';
import type { PacSocket } from '@app/gateway';
import { CounterPump } from '@app/gateway';
import { waitFor } from '@app/testing';

const LOC = '22222222-2222-2222-2222-222222222222';

interface Tx {
  id: string;
  kind: 'sale' | 'refund' | 'duplicate';
  tid: string;
  amount?: number;
  currency: string;
  state: 'accepted' | 'sent' | 'cancel_requested' | 'recovering' | 'finished';
  fence?: number;
  cancelPending?: boolean;
  sentAt?: string;
}

/** The port's contract in memory: claims are exclusive, one open transaction per tid, lost in-flight work comes back as recover. */
class MemoryPort implements CounterCommandPort {
  readonly txs = new Map<string, Tx>();
  readonly calls: { inFlight: string[]; fence: number }[] = [];
  concurrent = 0;
  maxConcurrent = 0;

  add(t: Partial<Tx> & Pick<Tx, 'tid'>): Tx {
    const tx: Tx = { id: randomUUID(), kind: 'sale', amount: 1000, currency: 'GBP', state: 'accepted', ...t };
    this.txs.set(tx.id, tx);
    return tx;
  }

  async takeWork(locationId: string, owner: { fence: number; replicaId: string; inFlight: readonly string[] }): Promise<CounterWork[]> {
    assert.equal(locationId, LOC);
    this.concurrent++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
    this.calls.push({ inFlight: [...owner.inFlight], fence: owner.fence });
    await new Promise((r) => setTimeout(r, 2));
    const work: CounterWork[] = [];
    for (const t of this.txs.values()) {
      const open = t.state === 'sent' || t.state === 'cancel_requested' || t.state === 'recovering';
      if (open && !owner.inFlight.includes(t.id)) {
        t.state = 'recovering';
        t.fence = owner.fence;
        work.push({ op: 'recover', transactionId: t.id, kind: t.kind, tid: t.tid, amount: t.amount, currency: t.currency, sentAt: t.sentAt! });
      }
      if (t.cancelPending) {
        t.cancelPending = false;
        work.push({ op: 'cancel', transactionId: t.id, tid: t.tid });
      }
    }
    for (const t of this.txs.values()) {
      if (t.state !== 'accepted') continue;
      const busy = [...this.txs.values()].some((o) => o.tid === t.tid && o !== t && o.state !== 'accepted' && o.state !== 'finished');
      if (busy) continue;
      t.state = 'sent';
      t.fence = owner.fence;
      t.sentAt = new Date().toISOString();
      work.push({ op: 'send', transactionId: t.id, kind: t.kind, tid: t.tid, ...(t.kind === 'duplicate' ? {} : { amount: t.amount }), currency: t.currency });
    }
    this.concurrent--;
    return work;
  }

  /** What the worker does with a settle job: the transaction ends once. */
  finish(id: string): void {
    this.txs.get(id)!.state = 'finished';
  }
}

class MemorySocket implements PacSocket {
  readonly frames: any[] = [];
  open = true;
  constructor(readonly fence: number) {}
  async send(text: string): Promise<boolean> {
    if (!this.open) return false;
    this.frames.push(JSON.parse(text));
    return true;
  }
  sent(method: string): any[] {
    return this.frames.filter((f) => f.method === method);
  }
}

const sale = (tid: string, result: string, extra: object = {}) => ({
  tid,
  transactionType: 'SALE',
  transactionResult: result,
  currency: 'GBP',
  amountBase: 1000,
  amountTotal: 1000,
  transactionTime: new Date().toISOString(),
  ...extra,
});

describe('counter pump (in-memory port and socket)', () => {
  let pump: CounterPump | undefined;
  afterEach(() => pump?.stop());

  function setup(opts: { replyTimeoutMs?: number; recoverGiveUpMs?: number; failSettles?: number; settleLater?: boolean } = {}) {
    const port = new MemoryPort();
    const settled: CounterSettleJob[] = [];
    const snapshots: CounterTerminalsSnapshot[] = [];
    let failSettles = opts.failSettles ?? 0;
    pump = new CounterPump(
      { replicaId: 'gw-test', pollMs: 20, replyTimeoutMs: opts.replyTimeoutMs ?? 60_000, recoverGiveUpMs: opts.recoverGiveUpMs ?? 60_000, terminalsRefreshMs: 60_000, requestTimeoutMs: 500 },
      {
        port,
        settler: {
          settle: async (job) => {
            if (failSettles-- > 0) throw new Error('redis down');
            settled.push(job);
            // The worker settles it soon after (or, with settleLater, when the test says so).
            if (!opts.settleLater) port.finish(job.transactionId);
          },
        },
        terminals: { write: async (s) => void snapshots.push(s) },
        logger: createLogger('test', 'silent'),
      },
    );
    return { port, settled, snapshots, pump };
  }

  /** Answers the session's connectedTerminals requests with `terminals()` until stopped. */
  function answerTerminals(p: CounterPump, socket: MemorySocket, terminals: () => { tid: string; status: 'AVAILABLE' | 'BUSY' }[]) {
    const answered = new Set<string>();
    const t = setInterval(() => {
      for (const f of socket.sent('connectedTerminals')) {
        if (answered.has(f.id)) continue;
        answered.add(f.id);
        p.onReply(LOC, socket, { kind: 'reply', id: f.id, result: { terminals: terminals() } });
      }
    }, 5);
    return () => clearInterval(t);
  }

  it('sends an accepted sale with the transaction id as its JSON-RPC id and settles Connect\'s reply once', async () => {
    const { port, settled, pump } = setup();
    const tx = port.add({ tid: 'VT-1', amount: 1234 });
    const socket = new MemorySocket(7);
    pump.attach(LOC, socket);
    const frame = await waitFor(() => socket.sent('sale')[0], 'the sale is written');
    assert.deepEqual(frame, { jsonrpc: '2.0', id: tx.id, method: 'sale', params: { tid: 'VT-1', currency: 'GBP', amount: 1234 } });
    assert.equal(ConnectPac.decodePacRequest(JSON.stringify(frame)).ok, true, 'Connect would accept the frame');
    assert.deepEqual(pump.inFlight(LOC), [tx.id]);
    // While in flight, the port is told so (never recovered behind the pump's back).
    await waitFor(() => port.calls.some((c) => c.inFlight.includes(tx.id)), 'takeWork sees it in flight');
    assert.equal(port.txs.get(tx.id)!.state, 'sent');
    assert.equal(port.calls[0]!.fence, 7);
    pump.onReply(LOC, socket, { kind: 'reply', id: tx.id, result: sale('VT-1', 'SUCCESSFUL') });
    await waitFor(() => settled.length === 1, 'settled');
    assert.equal(settled[0]!.transactionId, tx.id);
    assert.equal(settled[0]!.locationId, LOC);
    assert.equal(settled[0]!.replicaId, 'gw-test');
    assert.deepEqual(settled[0]!.outcome, { kind: 'transaction', transaction: sale('VT-1', 'SUCCESSFUL', { transactionTime: (settled[0]!.outcome as any).transaction.transactionTime }) });
    await waitFor(() => pump.inFlight(LOC).length === 0, 'no longer in flight');
  });

  it('matches replies arriving out of order by id; an error reply is refused and a reply that does not fit is unreadable', async () => {
    const { port, settled, pump } = setup();
    const a = port.add({ tid: 'VT-1' });
    const b = port.add({ tid: 'VT-2', kind: 'refund', amount: 500 });
    const c = port.add({ tid: 'VT-3' });
    const socket = new MemorySocket(1);
    pump.attach(LOC, socket);
    await waitFor(() => socket.frames.filter((f) => f.method === 'sale' || f.method === 'refund').length === 3, 'three requests written');
    assert.equal(socket.sent('refund')[0].params.amount, 500);
    pump.onReply(LOC, socket, { kind: 'reply', id: c.id, result: { transactionResult: 'SUCCESSFUL' } });
    pump.onReply(LOC, socket, { kind: 'reply', id: b.id, error: { code: ConnectPac.PAC_ERROR_CODES.terminalBusy, message: 'terminal busy' } });
    pump.onReply(LOC, socket, { kind: 'reply', id: a.id, result: sale('VT-1', 'DECLINED') });
    await waitFor(() => settled.length === 3, 'three settled');
    const by = new Map(settled.map((j) => [j.transactionId, j.outcome]));
    assert.equal((by.get(a.id) as any).transaction.transactionResult, 'DECLINED');
    assert.deepEqual(by.get(b.id), { kind: 'refused', code: ConnectPac.PAC_ERROR_CODES.terminalBusy, message: 'terminal busy' });
    assert.equal(by.get(c.id)!.kind, 'unreadable');
    assert.match((by.get(c.id) as any).problem, /transactionType/);
  });

  it('settles a successful sale whose fields that decide no money have unexpected values, those values dropped', async () => {
    const { port, settled, pump } = setup();
    const direct = port.add({ tid: 'VT-1' });
    const lost = port.add({ tid: 'VT-2', state: 'sent', sentAt: new Date().toISOString() });
    const socket = new MemorySocket(1);
    pump.attach(LOC, socket);
    const stop = answerTerminals(pump, socket, () => [{ tid: 'VT-2', status: 'AVAILABLE' }]);
    const odd = {
      paymentMethod: 'MOBILE_WALLET',
      cardHolderVerificationMethod: 'CDCVM',
      applicationLabel: 'A'.repeat(65),
      authCode: 123456,
      notifications: 'TRANSACTION_FINISHED',
      receiptLines: { CUSTOMER: [{ type: 'QR_CODE', format: ['BLINK'], value: 'APPROVED' }, { value: 'THANK YOU' }] },
      transactionTime: '2026-11-30 12:00:03',
      transactionId: 'T-77',
      futureField: { kept: true },
    };
    try {
      await waitFor(() => socket.sent('sale').length === 1, 'written');
      pump.onReply(LOC, socket, { kind: 'reply', id: direct.id, result: sale('VT-1', 'SUCCESSFUL', odd) });
      const dup = await waitFor(() => socket.sent('duplicate')[0], 'duplicate asked');
      pump.onReply(LOC, socket, { kind: 'reply', id: dup.id, result: sale('VT-2', 'SUCCESSFUL', { ...odd, receiptLines: [{ value: 'APPROVED' }] }) });
      await waitFor(() => settled.length === 2, 'both settled');
    } finally {
      stop();
    }
    const by = new Map(settled.map((j) => [j.transactionId, j.outcome]));
    const reply = by.get(direct.id) as Extract<CounterSettleJob['outcome'], { kind: 'transaction' }>;
    assert.equal(reply.kind, 'transaction', 'the card was charged: never unreadable for a field that decides no money');
    const t = reply.transaction;
    assert.deepEqual([t.transactionType, t.transactionResult, t.amountBase, t.currency, t.transactionId], ['SALE', 'SUCCESSFUL', 1000, 'GBP', 'T-77']);
    assert.equal(t.transactionTime, '2026-11-30T12:00:03', 'a space for the T is read as ISO 8601');
    for (const f of ['paymentMethod', 'cardHolderVerificationMethod', 'applicationLabel', 'authCode', 'notifications'] as const) assert.equal(t[f], undefined, f);
    assert.deepEqual(JSON.parse(JSON.stringify(t.receiptLines)), { CUSTOMER: [{ value: 'APPROVED' }, { value: 'THANK YOU' }] }, 'an unknown line type or format is dropped, the line kept');
    assert.deepEqual((t as Record<string, unknown>).futureField, { kept: true });
    const recovered = by.get(lost.id) as Extract<CounterSettleJob['outcome'], { kind: 'recovered' }>;
    assert.equal(recovered.kind, 'recovered');
    assert.deepEqual([recovered.transaction!.transactionResult, recovered.transaction!.amountBase, recovered.transaction!.receiptLines], ['SUCCESSFUL', 1000, undefined]);
  });

  it('does not recover a transaction whose outcome is queued while the worker has not settled it yet', async () => {
    const { port, settled, pump } = setup({ settleLater: true });
    const tx = port.add({ tid: 'VT-1' });
    const socket = new MemorySocket(1);
    pump.attach(LOC, socket);
    await waitFor(() => socket.sent('sale').length === 1, 'written');
    pump.onReply(LOC, socket, { kind: 'reply', id: tx.id, result: sale('VT-1', 'SUCCESSFUL') });
    await waitFor(() => settled.length === 1, 'queued');
    const calls = port.calls.length;
    await waitFor(() => port.calls.length >= calls + 5, 'several more takeWork rounds');
    assert.equal(port.txs.get(tx.id)!.state, 'sent', 'never handed out as recover');
    assert.ok(port.calls.at(-1)!.inFlight.includes(tx.id));
    assert.equal(socket.sent('duplicate').length, 0);
    assert.deepEqual(pump.inFlight(LOC), []);
  });

  it('sends one transaction per terminal at a time: the next goes once the first is settled', async () => {
    const { port, settled, pump } = setup();
    const first = port.add({ tid: 'VT-1' });
    const second = port.add({ tid: 'VT-1', amount: 2000 });
    const socket = new MemorySocket(1);
    pump.attach(LOC, socket);
    await waitFor(() => socket.sent('sale').length === 1, 'the first is written');
    const calls = port.calls.length;
    await waitFor(() => port.calls.length >= calls + 3, 'more takeWork rounds');
    assert.equal(socket.sent('sale').length, 1, 'the second waits');
    pump.onReply(LOC, socket, { kind: 'reply', id: first.id, result: sale('VT-1', 'SUCCESSFUL') });
    const next = await waitFor(() => socket.sent('sale')[1], 'the second is written after the first settled');
    assert.equal(next.id, second.id);
    assert.equal(settled.length, 1);
  });

  it('serialises takeWork per location however often it is woken', async () => {
    const { port, pump } = setup();
    const socket = new MemorySocket(1);
    pump.attach(LOC, socket);
    for (let i = 0; i < 50; i++) pump.onCommand({ locationId: LOC, what: 'work' });
    await pump.idle(LOC);
    assert.equal(port.maxConcurrent, 1);
    // Another location's message is not this one's business.
    pump.onCommand({ locationId: randomUUID(), what: 'work' });
  });

  it('sends cancelTransaction for a cancel with its own id; a duplicate command is written as duplicate {tid}', async () => {
    const { port, pump } = setup();
    const tx = port.add({ tid: 'VT-1' });
    const dup = port.add({ tid: 'VT-2', kind: 'duplicate', amount: undefined });
    const socket = new MemorySocket(1);
    pump.attach(LOC, socket);
    await waitFor(() => socket.sent('sale').length === 1 && socket.sent('duplicate').length === 1, 'both written');
    assert.deepEqual(socket.sent('duplicate')[0], { jsonrpc: '2.0', id: dup.id, method: 'duplicate', params: { tid: 'VT-2' } });
    port.txs.get(tx.id)!.cancelPending = true;
    pump.onCommand({ locationId: LOC, what: 'work' });
    const cancel = await waitFor(() => socket.sent('cancelTransaction')[0], 'cancel written');
    assert.deepEqual(cancel.params, { tid: 'VT-1' });
    assert.notEqual(cancel.id, tx.id);
    pump.onReply(LOC, socket, { kind: 'reply', id: cancel.id, result: { status: 'CANCELLING' } });
    assert.deepEqual(pump.inFlight(LOC).sort(), [tx.id, dup.id].sort(), 'the sale waits for its own reply');
  });

  it('after a socket drop, the next socket recovers the transaction: waits while the terminal is BUSY, then duplicate', async () => {
    const { port, settled, pump } = setup();
    const tx = port.add({ tid: 'VT-1' });
    const s1 = new MemorySocket(1);
    pump.attach(LOC, s1);
    await waitFor(() => s1.sent('sale').length === 1, 'written');
    s1.open = false;
    pump.detach(LOC, s1);
    // A reply on the old socket is not taken.
    pump.onReply(LOC, s1, { kind: 'reply', id: tx.id, result: sale('VT-1', 'SUCCESSFUL') });
    assert.equal(settled.length, 0);
    const s2 = new MemorySocket(2);
    let status: 'BUSY' | 'AVAILABLE' = 'BUSY';
    pump.attach(LOC, s2);
    const stop = answerTerminals(pump, s2, () => [{ tid: 'VT-1', status }, { tid: 'VT-2', status: 'AVAILABLE' }]);
    try {
      await waitFor(() => port.txs.get(tx.id)!.state === 'recovering', 'claimed for recovery');
      await waitFor(() => s2.sent('connectedTerminals').length >= 3, 'polls the terminals');
      assert.equal(s2.sent('duplicate').length, 0, 'no duplicate while BUSY');
      assert.ok(port.calls.at(-1)!.inFlight.includes(tx.id), 'a recovery in progress is not handed out again');
      status = 'AVAILABLE';
      const dup = await waitFor(() => s2.sent('duplicate')[0], 'duplicate asked');
      assert.deepEqual(dup.params, { tid: 'VT-1' });
      assert.notEqual(dup.id, tx.id, 'duplicate has its own id');
      pump.onReply(LOC, s2, { kind: 'reply', id: dup.id, result: sale('VT-1', 'SUCCESSFUL') });
      await waitFor(() => settled.length === 1, 'settled');
      assert.equal(settled[0]!.outcome.kind, 'recovered');
      assert.equal((settled[0]!.outcome as any).transaction.transactionResult, 'SUCCESSFUL');
    } finally {
      stop();
    }
  });

  it('recovers with null when the terminal has no transaction; unknown when it stays gone past the give-up time', async () => {
    const { port, settled, pump } = setup({ recoverGiveUpMs: 400 });
    const none = port.add({ tid: 'VT-1', state: 'sent', sentAt: new Date().toISOString() });
    const gone = port.add({ tid: 'VT-GONE', state: 'sent', sentAt: new Date().toISOString() });
    const socket = new MemorySocket(3);
    pump.attach(LOC, socket);
    const stop = answerTerminals(pump, socket, () => [{ tid: 'VT-1', status: 'AVAILABLE' }]);
    try {
      const dup = await waitFor(() => socket.sent('duplicate')[0], 'duplicate asked');
      pump.onReply(LOC, socket, { kind: 'reply', id: dup.id, error: { code: ConnectPac.PAC_ERROR_CODES.noTransaction, message: 'no transaction' } });
      await waitFor(() => settled.length === 2, 'both settled');
      const by = new Map(settled.map((j) => [j.transactionId, j.outcome]));
      assert.deepEqual(by.get(none.id), { kind: 'recovered', transaction: null });
      assert.deepEqual(by.get(gone.id), { kind: 'unknown', reason: 'the terminal was not connected for 0 s' });
      assert.equal(socket.sent('duplicate').length, 1, 'never asks a terminal that is gone');
    } finally {
      stop();
    }
  });

  it('gives up as unknown when duplicate keeps failing or the terminal stays busy, instead of recovering for ever', async () => {
    const { port, settled, pump } = setup({ recoverGiveUpMs: 300 });
    const failing = port.add({ tid: 'VT-1', state: 'sent', sentAt: new Date().toISOString() });
    const busy = port.add({ tid: 'VT-BUSY', state: 'sent', sentAt: new Date().toISOString() });
    const socket = new MemorySocket(4);
    pump.attach(LOC, socket);
    const stop = answerTerminals(pump, socket, () => [{ tid: 'VT-1', status: 'AVAILABLE' }, { tid: 'VT-BUSY', status: 'BUSY' }]);
    // A terminal that does not support duplicate (Connect: Ingenico only) answers every one with an error.
    const answered = new Set<string | number>();
    const refuse = setInterval(() => {
      for (const d of socket.sent('duplicate')) {
        if (answered.has(d.id)) continue;
        answered.add(d.id);
        pump.onReply(LOC, socket, { kind: 'reply', id: d.id, error: { code: -32601, message: 'duplicate not supported' } });
      }
    }, 5);
    try {
      await waitFor(() => settled.length === 2, 'both settled', 5_000);
      const by = new Map(settled.map((j) => [j.transactionId, j.outcome]));
      const f = by.get(failing.id) as { kind: string; reason: string };
      assert.equal(f.kind, 'unknown');
      assert.match(f.reason, /duplicate failed \(-32601: duplicate not supported\)/);
      assert.deepEqual(by.get(busy.id), { kind: 'unknown', reason: 'the terminal stayed busy for 0 s' });
      assert.ok(answered.size >= 2, 'duplicate was tried again meanwhile');
    } finally {
      clearInterval(refuse);
      stop();
    }
  });

  it('drops a transaction without a reply after the reply timeout; it is then recovered', async () => {
    const { port, pump } = setup({ replyTimeoutMs: 60 });
    const tx = port.add({ tid: 'VT-1' });
    const socket = new MemorySocket(1);
    pump.attach(LOC, socket);
    await waitFor(() => socket.sent('sale').length === 1, 'written');
    await waitFor(() => port.txs.get(tx.id)!.state === 'recovering', 'recovered after the timeout');
    await waitFor(() => socket.sent('connectedTerminals').length >= 2, 'asks the terminals');
  });

  it('retries a settle that could not be queued', async () => {
    const { port, settled, pump } = setup({ failSettles: 2 });
    const tx = port.add({ tid: 'VT-1' });
    const socket = new MemorySocket(1);
    pump.attach(LOC, socket);
    await waitFor(() => socket.sent('sale').length === 1, 'written');
    pump.onReply(LOC, socket, { kind: 'reply', id: tx.id, result: sale('VT-1', 'SUCCESSFUL') });
    await waitFor(() => settled.length === 1, 'settled on the third try', 3_000);
  });

  it('writes the terminals snapshot on open and on refresh_terminals', async () => {
    const { snapshots, pump } = setup();
    const socket = new MemorySocket(1);
    pump.attach(LOC, socket);
    const stop = answerTerminals(pump, socket, () => [{ tid: 'VT-1', status: 'AVAILABLE' }]);
    try {
      await waitFor(() => snapshots.length === 1, 'snapshot on open');
      assert.equal(snapshots[0]!.locationId, LOC);
      assert.equal(snapshots[0]!.replicaId, 'gw-test');
      assert.deepEqual(snapshots[0]!.terminals, [{ tid: 'VT-1', status: 'AVAILABLE' }]);
      pump.onCommand({ locationId: LOC, what: 'refresh_terminals' });
      await waitFor(() => snapshots.length === 2, 'snapshot on request');
    } finally {
      stop();
    }
  });

  it('refuses without sending a request Connect would not accept', async () => {
    const { port, settled, pump } = setup();
    const tx = port.add({ tid: 'VT-1', amount: 0 });
    const socket = new MemorySocket(1);
    pump.attach(LOC, socket);
    await waitFor(() => settled.length === 1, 'settled');
    assert.equal(settled[0]!.transactionId, tx.id);
    assert.equal(settled[0]!.outcome.kind, 'refused');
    assert.equal(socket.sent('sale').length, 0);
  });
});
