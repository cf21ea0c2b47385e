import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningApp } from '@app/common';
import { SecretTokens } from '@app/common';
import type { CounterSettleJob } from '@app/contracts';
import { JobEnqueuer, JobName, QueueName } from '@app/queue';
import type { TestDatabase} from '@app/testing';
import { appEnv, createTestDatabase, testRedisUrl, uniquePrefix } from '@app/testing';
import { startAdmin } from '../../../apps/admin/src/main';
import { OPERATOR_TOKEN } from './support/helpers';

const SETTLE: CounterSettleJob = {
  locationId: '00000000-0000-4000-8000-000000000001',
  transactionId: '00000000-0000-4000-8000-000000000002',
  outcome: { kind: 'refused', code: 1, message: 'declined' },
  replicaId: 'qboard',
  traceId: 'qboard',
};

/** GET /queues on the admin app: bull-board over every catalog queue, behind the operator token or the epos_op cookie. */
describe('admin: the queue board at /queues', () => {
  let db: TestDatabase;
  let admin: RunningApp;
  let jobs: JobEnqueuer;
  const prefix = uniquePrefix('qboard');

  before(async () => {
    db = await createTestDatabase('qboard');
    admin = await startAdmin(appEnv(db, { ADMIN_OPERATOR_TOKENS: OPERATOR_TOKEN, QUEUE_PREFIX: prefix }));
    jobs = new JobEnqueuer({ redisUrl: testRedisUrl(), prefix });
    // A delayed registration job: the board must read the app's own queues (same prefix).
    await jobs.add(JobName.RegisterCapabilities, { locationId: '00000000-0000-4000-8000-000000000001' }, { delay: 600_000, jobId: 'qboard-1' });
    // A delayed settle job: what a terminal reported, which the board must not let anyone rewrite.
    await jobs.add(JobName.SettleCounter, SETTLE, { delay: 600_000, jobId: 'qboard-settle' });
  });

  after(async () => {
    for (const q of Object.values(QueueName)) await jobs.queue(q).obliterate({ force: true }).catch(() => undefined);
    await jobs?.close();
    await admin?.close();
    await db?.drop();
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${admin.url}${path}`, { headers, redirect: 'manual', signal: AbortSignal.timeout(10_000) });
  const bearer = { authorization: `Bearer ${OPERATOR_TOKEN}` };

  it('refuses the board and its API without an operator token, with a wrong one, and with the token in the URL', async () => {
    for (const path of ['/queues', '/queues/', '/queues/api/queues', `/queues/api/queues?token=${OPERATOR_TOKEN}`]) {
      const res = await get(path);
      assert.equal(res.status, 401, path);
      await res.arrayBuffer();
    }
    assert.equal((await get('/queues/api/queues', { authorization: 'Bearer not-an-operator-token-000' })).status, 401);
    assert.equal((await get('/queues/api/queues', { cookie: 'epos_op=not-an-operator-token-000' })).status, 401);
    const html = await get('/queues', { accept: 'text/html' });
    assert.equal(html.status, 401);
    assert.match(await html.text(), /\/queues\/login/, 'a browser is pointed at the sign-in form');
  });

  it('serves the board and lists every catalog queue with an operator bearer token', async () => {
    const page = await get('/queues', bearer);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await page.text(), /epos-relay queues|bull/i);
    const res = await get('/queues/api/queues', bearer);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { queues: { name: string; counts: Record<string, number>; readOnlyMode?: boolean }[] };
    assert.deepEqual(body.queues.map((q) => q.name).sort(), Object.values(QueueName).sort());
    const reg = body.queues.find((q) => q.name === QueueName.Registration)!;
    assert.equal(reg.counts.delayed, 1, 'the delayed registration job shows');
    for (const q of body.queues) assert.equal(q.readOnlyMode, true, `${q.name} is read-only on the board`);
  });

  it('refuses every write from the board: no job added, edited, retried, promoted, removed, and no queue emptied or paused', async () => {
    const write = (method: string, path: string, body?: unknown) =>
      fetch(`${admin.url}/queues/api/queues/${path}`, {
        method,
        headers: { ...bearer, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
    const forged: CounterSettleJob = { ...SETTLE, outcome: { kind: 'transaction', transaction: { transactionResult: 'SUCCESSFUL' } as never } };
    const q = QueueName.Counter;
    const writes: Array<[string, string, unknown?]> = [
      ['POST', `${q}/add`, { name: JobName.SettleCounter, data: forged, options: {} }],
      ['PATCH', `${q}/qboard-settle/update-data`, { jobData: forged }],
      ['PUT', `${q}/qboard-settle/promote`],
      ['PUT', `${q}/qboard-settle/clean`],
      ['PUT', `${q}/retry/failed`],
      ['PUT', `${q}/clean/delayed`],
      ['PUT', `${q}/empty`],
      ['PUT', `${q}/obliterate`],
      ['PUT', `${q}/pause`],
      ['POST', `${QueueName.Registration}/add`, { name: JobName.RegisterCapabilities, data: { locationId: SETTLE.locationId }, options: {} }],
      ['PUT', `${QueueName.DojoEvents}/empty`],
    ];
    for (const [method, path, body] of writes) {
      const res = await write(method, path, body);
      assert.equal(res.status, 405, `${method} ${path} is refused`);
      await res.arrayBuffer();
    }
    const counter = jobs.queue(q);
    assert.deepEqual(await counter.getJobCounts('delayed', 'waiting', 'prioritized'), { delayed: 1, waiting: 0, prioritized: 0 }, 'nothing was added or moved');
    assert.deepEqual((await counter.getJob('qboard-settle'))?.data, SETTLE, "the settle job's data is as the gateway wrote it");
    assert.equal(await counter.isPaused(), false);
    assert.equal((await jobs.queue(QueueName.Registration).getJobCounts('delayed')).delayed, 1);
  });

  it('signs in with POST /queues/login (token in the body) and then accepts the HttpOnly epos_op cookie; sign-out clears it', async () => {
    assert.equal((await get('/queues/login')).status, 200, 'the sign-in form is public');
    const wrong = await fetch(`${admin.url}/queues/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'not-an-operator-token-000' }) });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers.get('set-cookie'), null);

    const ok = await fetch(`${admin.url}/queues/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: OPERATOR_TOKEN }) });
    assert.equal(ok.status, 204);
    const setCookie = ok.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /^epos_op=[^;]+;/);
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    assert.match(setCookie, /Path=\/queues/);
    const cookie = setCookie.split(';')[0]!;
    assert.ok(!decodeURIComponent(cookie).includes(OPERATOR_TOKEN), 'the cookie is a session made from the token, not the token');
    assert.match(setCookie, /Max-Age=43200/, 'a 12-hour session');
    const res = await get('/queues/api/queues', { cookie });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { queues: unknown[] }).queues.length, Object.values(QueueName).length);

    // The browser form: urlencoded body, answered with a redirect to the board.
    const form = await fetch(`${admin.url}/queues/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: OPERATOR_TOKEN }).toString(),
    });
    assert.equal(form.status, 303);
    assert.equal(form.headers.get('location'), '/queues/');
    assert.match(form.headers.get('set-cookie') ?? '', /^epos_op=/);

    const out = await fetch(`${admin.url}/queues/logout`, { method: 'POST', headers: { cookie } });
    assert.equal(out.status, 204);
    assert.match(out.headers.get('set-cookie') ?? '', /^epos_op=; .*Max-Age=0/);
  });

  it('leaves the operator API as it was: the cookie is not an operator credential for /v1', async () => {
    assert.equal((await get('/v1/locations', { cookie: `epos_op=${OPERATOR_TOKEN}` })).status, 401);
    // Nor is the token itself a board cookie any more, nor a session that has expired or was altered.
    assert.equal((await get('/queues/api/queues', { cookie: `epos_op=${OPERATOR_TOKEN}` })).status, 401);
    const tokens = new SecretTokens([OPERATOR_TOKEN]);
    const expired = tokens.session(OPERATOR_TOKEN, 'queue-board', new Date(Date.now() - 1_000));
    assert.equal((await get('/queues/api/queues', { cookie: `epos_op=${expired}` })).status, 401);
    const live = tokens.session(OPERATOR_TOKEN, 'queue-board', new Date(Date.now() + 60_000));
    assert.equal((await get('/queues/api/queues', { cookie: `epos_op=${live}` })).status, 200);
    const later = live.replace(/^s1\.(\d+)\./, (_m, e: string) => `s1.${Number(e) + 3600}.`);
    assert.equal((await get('/queues/api/queues', { cookie: `epos_op=${later}` })).status, 401, 'an expiry moved on is refused');
    assert.equal((await get('/v1/locations', bearer)).status, 200);
  });
});
