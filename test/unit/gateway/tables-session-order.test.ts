import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '@app/common';
import { success } from '@app/contracts';
import type { RpcJob } from '@app/queue';
import type { LocationConfig } from '@app/gateway';
import { DojoTablesProfile, RequestDispatcher } from '@app/gateway';

const loc: LocationConfig = {
  id: '44444444-4444-4444-8444-444444444444',
  name: 'v',
  enabled: true,
  configVersion: 1,
  capabilities: [],
  apiKey: 'sk_sandbox_abc',
  softwareHouseId: 'sh-1',
  profile: 'dojo-tables',
  settings: { accountName: 'acct', environment: 'staging' },
};

const frame = (id: string, method: string, params: object) => Buffer.from(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
const lock = (id: string, sessionId: string) => frame(id, 'LockSession', { sessionId });
const unlock = (id: string, sessionId: string) => frame(id, 'UnlockSession', { sessionId });
const pay = (id: string, sessionId: string) =>
  frame(id, 'RecordPayment', { payment: { id: `p-${id}`, sessionId, baseAmount: 1_000, currency: 'GBP', paymentSuccessful: true } });
const turn = () => new Promise((r) => setImmediate(r));
const dispatcher = (rpc: { call: (job: Omit<RpcJob, 'replyTo'>) => Promise<ReturnType<typeof success>> }) =>
  new RequestDispatcher(rpc, { maxMessageBytes: 65_536, replyCacheMs: 60_000, deadlineOverrideMs: 0 }, createLogger('t', 'silent'));
const ctx = () => ({ location: loc, fence: 1, profile: new DojoTablesProfile(), receivedAt: Date.now() });
/** A worker whose calls are held until released by id; each answers `{ ok: id, call: how many calls had started }`. */
const heldCalls = () => {
  const started: string[] = [];
  const release = new Map<string, () => void>();
  const rpc = {
    call: async (job: Omit<RpcJob, 'replyTo'>) => {
      started.push(job.rpcId);
      const call = started.length;
      await new Promise<void>((r) => release.set(job.rpcId, r));
      return success(job.rpcId, { ok: job.rpcId, call });
    },
  };
  return { rpc, started, release };
};

/**
 * The Tables API's requests about one session go to the workers one after another, in the order they arrived
 * (protocols.md, Part 1); other sessions' requests are not held up by them.
 */
describe('request dispatcher: the Tables API, one session at a time', () => {
  it('dispatches a session request only once the previous one of that session was answered; other sessions at once', async () => {
    const { rpc, started, release } = heldCalls();
    const d = dispatcher(rpc);

    const replies = [d.handle(ctx(), lock('l-1', 's-1')), d.handle(ctx(), pay('p-1', 's-1')), d.handle(ctx(), unlock('u-1', 's-1')), d.handle(ctx(), lock('l-2', 's-2'))];
    await turn();
    assert.deepEqual(started, ['l-1', 'l-2'], "session s-1's payment waits for its lock; session s-2's lock goes at once");

    release.get('l-1')!();
    await turn();
    assert.deepEqual(started, ['l-1', 'l-2', 'p-1'], 'the payment goes once the lock was answered, and the unlock still waits');

    release.get('l-2')!();
    await turn();
    assert.deepEqual(started, ['l-1', 'l-2', 'p-1'], "another session's answer lets nothing of s-1 go");

    release.get('p-1')!();
    await turn();
    assert.deepEqual(started, ['l-1', 'l-2', 'p-1', 'u-1']);
    release.get('u-1')!();

    const answers = (await Promise.all(replies)).map((t) => JSON.parse(t!) as { id: string; result: { ok: string } });
    assert.deepEqual(
      answers.map((a) => [a.id, a.result.ok]),
      [
        ['l-1', 'l-1'],
        ['p-1', 'p-1'],
        ['u-1', 'u-1'],
        ['l-2', 'l-2'],
      ],
      'each answered with its own reply',
    );
  });

  it('a request that failed lets the next of its session go', async () => {
    const started: string[] = [];
    const rpc = {
      call: async (job: Omit<RpcJob, 'replyTo'>) => {
        started.push(job.rpcId);
        if (job.rpcId === 'l-1') throw new Error('queue unreachable');
        return success(job.rpcId, { ok: job.rpcId });
      },
    };
    const d = dispatcher(rpc);
    const [failed, next] = await Promise.all([d.handle(ctx(), lock('l-1', 's-1')), d.handle(ctx(), unlock('u-1', 's-1'))]);
    assert.match(failed!, /errorCode/, 'the failed lock is answered with an error');
    assert.deepEqual(JSON.parse(next!).result, { ok: 'u-1' });
    assert.deepEqual(started, ['l-1', 'u-1']);
  });

  it('a repeat of an id still waiting for its turn joins it: one call, the same reply to both', async () => {
    const { rpc, started, release } = heldCalls();
    const d = dispatcher(rpc);
    const first = d.handle(ctx(), lock('l-1', 's-1'));
    const waiting = d.handle(ctx(), pay('p-1', 's-1'));
    await turn();
    const repeat = d.handle(ctx(), pay('p-1', 's-1'));
    await turn();
    assert.deepEqual(started, ['l-1'], 'the payment and its repeat wait for the lock');
    assert.equal(d.inFlight, 2, "the waiting payment is counted in flight (the replica's status)");

    release.get('l-1')!();
    await turn();
    assert.deepEqual(started, ['l-1', 'p-1'], 'the payment goes once, not a second time for its repeat');
    release.get('p-1')!();
    await turn();
    assert.deepEqual(started, ['l-1', 'p-1'], 'the answered payment lets no second call of it go');
    const [a, b, c] = await Promise.all([first, waiting, repeat]);
    assert.deepEqual(JSON.parse(a!).result, { ok: 'l-1', call: 1 });
    assert.deepEqual(JSON.parse(b!).result, { ok: 'p-1', call: 2 });
    assert.equal(c, b, 'the repeat is answered with the same reply');
  });

  it('the profile names the session a request is about; requests about no session are not ordered', () => {
    const p = new DojoTablesProfile();
    const d1 = p.decode(lock('a', 's-9').toString());
    const d2 = p.decode(pay('b', 's-9').toString());
    const d3 = p.decode(frame('c', 'ListSessions', {}).toString());
    assert.equal(d1.kind === 'request' && d1.orderedBy, 's-9');
    assert.equal(d2.kind === 'request' && d2.orderedBy, 's-9');
    assert.equal(d3.kind === 'request' && d3.orderedBy, undefined);
  });
});
