import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningApp } from '@app/common';
import type { TestDatabase} from '@app/testing';
import { appEnv, createTestDatabase, uniquePrefix, waitFor } from '@app/testing';
import { RpcStreamConsumer } from '@app/queue';
import { startWorker } from '../../../apps/worker/src/main';
import { CounterWorker } from '../../../apps/worker/src/counter.worker';
import { EventsWorker } from '../../../apps/worker/src/events.worker';
import { RegistrationWorker } from '../../../apps/worker/src/registration.worker';
import { RpcWorkerService } from '../../../apps/worker/src/rpc-worker.service';

type Check = { ok: boolean; error?: string };
type Health = { status: string; checks: Record<string, Check> };

async function health(app: RunningApp): Promise<{ code: number; body: Health }> {
  const res = await fetch(`${app.url}/health`);
  return { code: res.status, body: (await res.json()) as Health };
}

/**
 * A queue worker whose loop can no longer work must not hide behind a healthy
 * /health: the worker base (libs/queue QueueWorker) reports each loop, and the
 * app answers 503 naming the broken one. Real Redis; the faults are injected
 * into the running app's own workers.
 */
describe('worker app: /health reports a dead queue worker loop', () => {
  let db: TestDatabase;
  let worker: RunningApp;

  before(async () => {
    db = await createTestDatabase('workerhealth');
    worker = await startWorker(appEnv(db, { QUEUE_PREFIX: uniquePrefix('wkhealth'), DOJO_API_URL: 'http://127.0.0.1:9' }));
  });

  after(async () => {
    await worker?.close();
    await db?.drop();
  });

  it('is healthy with every queue worker running, and lists them', async () => {
    const { code, body } = await health(worker);
    assert.equal(code, 200, JSON.stringify(body));
    for (const name of ['worker:epos-rpc', 'worker:dojo-events', 'worker:capability-registration', 'worker:outbox']) {
      assert.deepEqual(body.checks[name], { ok: true }, `${name} is reported: ${JSON.stringify(body.checks)}`);
    }
  });

  it("turns 503 with a readable reason when a worker loop's Redis connection is closed for good", async () => {
    // The dojo-events worker's own connection, closed without reconnecting (as when ioredis gives up).
    const events = worker.app.get(EventsWorker);
    const connection = (events.worker as any).worker.connection as { disconnect(): void };
    connection.disconnect();
    const { body } = await waitFor(async () => {
      const h = await health(worker);
      return h.code === 503 ? h : undefined;
    }, '/health turns 503');
    assert.equal(body.status, 'unhealthy');
    assert.equal(body.checks.postgres?.ok, true);
    assert.equal(body.checks.redis?.ok, true, 'the app connection is fine: only the worker loop is broken');
    assert.equal(body.checks['worker:dojo-events']?.ok, false);
    assert.match(body.checks['worker:dojo-events']?.error ?? '', /dojo-events worker is dead: its Redis connection was closed for good/);
    assert.deepEqual(body.checks['worker:capability-registration'], { ok: true }, 'the other loops are reported separately');
  });

  it('names a worker whose loop ended without being asked to (run() returned)', async () => {
    // Closing the BullMQ worker underneath the app ends its run() loop, as a crash of the loop would.
    const counter = worker.app.get(CounterWorker);
    const bull = (counter.worker as any).worker.worker as { close(): Promise<void> };
    await bull.close();
    const { code, body } = await waitFor(async () => {
      const h = await health(worker);
      return h.body.checks['worker:counter-settle']?.ok === false ? h : undefined;
    }, 'the counter settle worker reported dead');
    assert.equal(code, 503);
    assert.match(body.checks['worker:counter-settle']?.error ?? '', /counter-settle worker is dead: the worker (closed|loop ended) without being asked to/);
  });

  it("names the RPC request stream's consumer (RPC_TRANSPORT=streams, the default) when its blocking connection is closed for good", async () => {
    const rpc = worker.app.get(RpcWorkerService);
    assert.ok((rpc.host as any).worker instanceof RpcStreamConsumer, 'the app reads the request stream by default');
    // The consumer's own XREADGROUP connection, closed without reconnecting (as when ioredis gives up).
    const reader = (rpc.host as any).worker.reader as { disconnect(): void };
    reader.disconnect();
    const { code, body } = await waitFor(async () => {
      const h = await health(worker);
      return h.body.checks['worker:epos-rpc']?.ok === false ? h : undefined;
    }, 'the rpc consumer reported dead');
    assert.equal(code, 503);
    assert.match(body.checks['worker:epos-rpc']?.error ?? '', /epos-rpc worker is dead: its Redis connection was closed for good/);
  });

  it('names a loop that keeps failing (errors for 5 s with no job finishing), and clears it once the loop makes progress', async () => {
    // BullMQ reports a loop that cannot move jobs (e.g. a script error on every fetch) through 'error' events.
    const registration = worker.app.get(RegistrationWorker);
    const bull = (registration.worker as any).worker.worker as { emit(event: string, ...args: unknown[]): boolean };
    const check = async () => (await health(worker)).body.checks['worker:capability-registration'];
    const t0 = Date.now();
    while (Date.now() - t0 < 4_000) {
      bull.emit('error', new Error('ERR Error running script: moveToActive failed'));
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.deepEqual(await check(), { ok: true }, 'a few seconds of errors are tolerated (BullMQ retries)');
    const failing = await waitFor(async () => {
      bull.emit('error', new Error('ERR Error running script: moveToActive failed'));
      const c = await check();
      return c?.ok === false ? c : undefined;
    }, 'the failing loop reported', 5_000, 250);
    assert.match(failing.error!, /capability-registration worker's loop has been failing for \d+ s \(last error: ERR Error running script: moveToActive failed\)/);
    bull.emit('drained');
    assert.deepEqual(await check(), { ok: true }, 'progress clears it');
  });
});
