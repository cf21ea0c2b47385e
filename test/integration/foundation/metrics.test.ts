import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { sign } from '@app/domain/events/webhook-signature';
import { QueueName } from '@app/queue';
import type { Fixtures, LocationFixture, TestDatabase} from '@app/testing';
import { appEnv, createTestDatabase, fixtures, uniquePrefix, waitFor } from '@app/testing';
import { FakeDojo } from '../gateway/support/fake-dojo';
import { DojoStandIn } from '../admin/support/dojo-stand-in';
import { apiClient, sampleOrder } from '../admin/support/helpers';
import type { Family} from '../../support/prometheus-text';
import { labelNames, parsePrometheusText, sampleSum } from '../../support/prometheus-text';
import { alertMetricNames, alertRules } from '../../support/alert-rules';
import type { AppProcess } from '../../support/app-processes';
import { killApps, spawnApps } from '../../support/app-processes';

const TOKEN = 'operator-token-metrics-0001';
const METRICS_TOKEN = 'metrics-token-0123456789';
const SECRET = 'whsec_metrics_test';
const REFUSED_KEY = 'sk_sandbox_refused_metrics_0001';

/** Families every app exposes: its pool's announcements of order changes after their commit. */
const EVERY_APP: Record<string, [string, string[]]> = {
  epos_relay_db_announced_changes_total: ['counter', []],
  epos_relay_db_announce_failures_total: ['counter', []],
};

/** Family → [type, label names] that each app must expose. */
const EXPECTED: Record<string, Record<string, [string, string[]]>> = {
  gateway: {
    ...EVERY_APP,
    epos_relay_gateway_links: ['gauge', ['protocol', 'state']],
    epos_relay_gateway_connects_total: ['counter', ['protocol']],
    epos_relay_gateway_reconnects_total: ['counter', ['protocol']],
    epos_relay_gateway_auth_refusals_total: ['counter', ['protocol']],
    epos_relay_gateway_handshake_failures_total: ['counter', ['protocol', 'reason']],
    epos_relay_gateway_ping_rtt_seconds: ['histogram', ['protocol']],
    epos_relay_gateway_frames_total: ['counter', ['direction', 'protocol']],
    epos_relay_gateway_requests_total: ['counter', ['method', 'outcome']],
    epos_relay_gateway_request_duration_seconds: ['histogram', ['method']],
    epos_relay_gateway_read_db_duration_seconds: ['histogram', ['method']],
    epos_relay_gateway_requests_in_flight: ['gauge', []],
    epos_relay_gateway_lease_renewals_total: ['counter', ['outcome']],
    epos_relay_gateway_fencing_step_downs_total: ['counter', ['reason']],
  },
  worker: {
    ...EVERY_APP,
    epos_relay_worker_job_duration_seconds: ['histogram', ['job', 'queue']],
    epos_relay_worker_db_duration_seconds: ['histogram', ['method']],
    epos_relay_worker_deadline_misses_total: ['counter', ['method', 'stage']],
    epos_relay_worker_replays_total: ['counter', ['method']],
    epos_relay_queue_jobs: ['gauge', ['queue', 'state']],
    epos_relay_queue_oldest_waiting_age_seconds: ['gauge', ['queue']],
    epos_relay_dojo_events_pending: ['gauge', ['state']],
    epos_relay_dojo_events_oldest_pending_age_seconds: ['gauge', []],
    epos_relay_outbox_pending: ['gauge', []],
    epos_relay_outbox_oldest_pending_age_seconds: ['gauge', []],
    epos_relay_dead_letters: ['gauge', ['kind']],
    epos_relay_retention_removed_total: ['counter', ['record']],
    epos_relay_retention_last_pass_timestamp_seconds: ['gauge', []],
    epos_relay_dojo_events_applied_total: ['counter', ['outcome']],
    epos_relay_dojo_events_failed_total: ['counter', []],
    epos_relay_dojo_events_applied_together: ['histogram', []],
    epos_relay_dojo_events_shared_failed_total: ['counter', []],
    epos_relay_outbox_sent_total: ['counter', []],
    epos_relay_outbox_failures_total: ['counter', ['kind']],
    epos_relay_dojo_api_requests_total: ['counter', ['endpoint', 'status']],
    epos_relay_dojo_api_request_duration_seconds: ['histogram', ['endpoint']],
  },
  webhook: {
    ...EVERY_APP,
    epos_relay_webhook_received_total: ['counter', []],
    epos_relay_webhook_accepted_total: ['counter', []],
    epos_relay_webhook_duplicates_total: ['counter', []],
    epos_relay_webhook_rejected_total: ['counter', ['reason']],
    epos_relay_webhook_ack_duration_seconds: ['histogram', ['outcome']],
  },
  admin: { ...EVERY_APP },
};

/** Families that only show samples once something happened (labelled families with no child yet: a deadline missed, a retention pass that removed something). */
const MAY_BE_EMPTY = new Set(['epos_relay_worker_deadline_misses_total', 'epos_relay_retention_removed_total']);

/** Label names that would make a series per venue: never allowed. */
const FORBIDDEN_LABELS = /location|venue|account|tenant|url|rpc_?id|trace/i;

/**
 * Boots the four apps as their own processes, scrapes /metrics on each, drives
 * traffic (a request over the gateway's venue link and a retry of it, signed,
 * duplicate and badly signed webhooks, venue API writes that send a POS event
 * to Dojo) and scrapes again: the families, their types and label names, and
 * that the values moved.
 */
describe('metrics: /metrics on every app', () => {
  let db: TestDatabase;
  let fx: Fixtures;
  let fake: FakeDojo;
  let dojo: DojoStandIn;
  let loc: LocationFixture;
  let apps: AppProcess[] = [];
  const by = (n: string) => apps.find((a) => a.name === n)!;

  const scrape = async (name: string): Promise<Map<string, Family>> => {
    const headers: Record<string, string> = name === 'admin' ? { authorization: `Bearer ${METRICS_TOKEN}` } : {};
    const res = await fetch(`${by(name).url}/metrics`, { headers, signal: AbortSignal.timeout(10_000) });
    assert.equal(res.status, 200, `${name} /metrics answers 200`);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return parsePrometheusText(await res.text());
  };

  before(async () => {
    db = await createTestDatabase('metrics');
    fx = fixtures(db.prisma);
    fake = await new FakeDojo().start();
    dojo = await new DojoStandIn().start();
    const sh = await fx.softwareHouse();
    loc = await fx.location({ softwareHouseId: sh.id, webhookSecrets: [{ value: SECRET }], registrationState: 'registered' });
    // A second venue whose key Dojo refuses: its link waits in auth_failed.
    fake.refuse.set(REFUSED_KEY, 401);
    await fx.location({ softwareHouseId: sh.id, apiKey: REFUSED_KEY, registrationState: 'registered' });
    const env = appEnv(db, {
      QUEUE_PREFIX: uniquePrefix('metrics'),
      LOG_LEVEL: 'info',
      DOJO_WS_URL: fake.url,
      DOJO_API_URL: dojo.url,
      ADMIN_OPERATOR_TOKENS: TOKEN,
      GATEWAY_REPLICA_ID: 'gw-metrics',
      GATEWAY_PING_INTERVAL_MS: '200',
      GATEWAY_LEASE_TTL_MS: '1500',
      // Retries of an answered id reach the worker, which replays the stored response.
      GATEWAY_REPLY_CACHE_MS: '0',
      OUTBOX_POLL_MS: '50',
    });
    apps = await spawnApps(['gateway', 'worker', 'webhook', 'admin'], (name) => (name === 'admin' ? { ...env, METRICS_TOKEN } : env));
  });

  after(async () => {
    await killApps(apps);
    await fake?.close();
    await dojo?.stop();
    await db?.drop();
  });

  it('exposes process metrics, the families of each app with their types and label names, and values that move with traffic', async () => {
    await waitFor(() => fake.open().length === 1 && fake.open()[0]!.pings >= 1, 'the gateway links the location and pings it', 20_000);
    await waitFor(() => fake.handshakes.some((h) => h.apiKey === REFUSED_KEY && h.status === 401), 'the refused venue dials', 20_000);
    const before: Record<string, Map<string, Family>> = {};
    for (const a of apps) before[a.name] = await scrape(a.name);

    // Traffic. Venue API: a table and an order (the order becomes a POS event the worker sends to Dojo).
    const api = apiClient(by('admin').url!, TOKEN);
    const tok = await api('POST', `/v1/locations/${loc.id}/venue-tokens`, { body: { name: 'till' } });
    assert.equal(typeof tok.body?.token, 'string', JSON.stringify(tok.body));
    const venue = apiClient(by('admin').url!, tok.body.token);
    assert.equal((await venue('PUT', `/venue/v1/locations/${loc.id}/tables/t1`, { body: { name: 'T1' } })).status, 200);
    assert.equal((await venue('PUT', `/venue/v1/locations/${loc.id}/orders/o-1`, { body: sampleOrder('o-1') })).status, 200);

    // Gateway: a read, a write and the write's retry (same id: the worker replays the stored answer), and a malformed frame.
    const conn = fake.open()[0]!;
    const read = await fake.request(conn, { jsonrpc: '2.0', id: 'r1', method: 'GetOrderByIdV1', params: { orderId: 'o-1', headers: {} } }, 'r1', 10_000);
    assert.ok(read.result, JSON.stringify(read));
    const expiry = new Date(Date.now() + 60_000).toISOString();
    const lock = { jsonrpc: '2.0', id: 'w1', method: 'CreateOrderLockV1', params: { orderId: 'o-1', lockId: 'lk1', expiry, headers: {} } };
    const first = await fake.request(conn, lock, 'w1', 10_000);
    assert.ok(first.result !== undefined, JSON.stringify(first));
    conn.received.length = 0;
    const again = await fake.request(conn, lock, 'w1', 10_000);
    assert.deepEqual(again.result, first.result);
    await fake.sendRaw(conn, '{"jsonrpc":"2.0","id":"bad1","method":"GetOrderByIdV1","params":{}}');

    // Webhook: a new event, the same again (duplicate), and a bad signature.
    const raw = JSON.stringify({
      id: 'evt_metrics_1',
      event: 'payment_intent.status_updated',
      accountId: loc.dojoAccountId,
      createdAt: new Date().toISOString(),
      data: { paymentIntentId: 'pi_metrics_1', paymentStatus: 'Captured', captureMode: 'Auto' },
    });
    const hook = (signature: string) =>
      fetch(`${by('webhook').url}/webhooks/dojo`, { method: 'POST', headers: { 'content-type': 'application/json', 'dojo-signature': signature }, body: raw });
    assert.equal((await hook(sign(SECRET, raw))).status, 200);
    assert.equal((await hook(sign(SECRET, raw))).status, 200);
    assert.equal((await hook(sign('not-the-secret', raw))).status, 401);

    // The worker applies the event and sends the POS event to Dojo.
    await waitFor(() => dojo.find((r) => r.method === 'POST' && r.path === '/epos/events').length >= 1, 'the POS event reaches Dojo', 20_000);
    await waitFor(async () => (await db.prisma.dojoEvent.count({ where: { state: { in: ['applied', 'pending_payment'] } } })) === 1, 'the event is applied', 20_000);

    const after: Record<string, Map<string, Family>> = {};
    // The worker's scrape-time gauges are cached for 2 s: wait out the cache of the first scrape.
    await new Promise((r) => setTimeout(r, 2_100));
    for (const a of apps) after[a.name] = await scrape(a.name);

    const problems: string[] = [];
    for (const [app, families] of Object.entries(after)) {
      for (const f of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds']) {
        if (!families.has(f)) problems.push(`${app}: no process metric ${f}`);
      }
      for (const [name, [type, labels]] of Object.entries(EXPECTED[app]!)) {
        const f = families.get(name);
        if (!f) {
          problems.push(`${app}: no family ${name}`);
          continue;
        }
        if (f.type !== type) problems.push(`${app}: ${name} is a ${f.type}, expected ${type}`);
        if (!f.help) problems.push(`${app}: ${name} has no HELP`);
        if (f.samples.length === 0 && MAY_BE_EMPTY.has(name)) continue;
        if (f.samples.length === 0) problems.push(`${app}: ${name} has no samples`);
        else if (labelNames(f).join(',') !== [...labels].sort().join(',')) problems.push(`${app}: ${name} labels ${labelNames(f).join(',')}, expected ${[...labels].join(',')}`);
      }
      // Naming: every family of ours has the prefix; counters end in _total; no label names a venue; no label value is the venue's id.
      for (const f of families.values()) {
        if (!f.name.startsWith('epos_relay_')) continue;
        if (f.type === 'counter' && !f.name.endsWith('_total')) problems.push(`${app}: counter ${f.name} does not end in _total`);
        if (/_duration|_rtt|_age/.test(f.name) && !/_seconds$/.test(f.name)) problems.push(`${app}: ${f.name} is a time not in _seconds`);
        for (const l of labelNames(f)) if (FORBIDDEN_LABELS.test(l)) problems.push(`${app}: ${f.name} has a per-venue label ${l}`);
        for (const s of f.samples) for (const v of Object.values(s.labels)) if (v === loc.id || v === loc.dojoAccountId) problems.push(`${app}: ${s.name} carries the venue in a label`);
      }
    }
    // Families of one app do not leak into another (each app shows the code it runs).
    if (after.webhook!.has('epos_relay_gateway_links')) problems.push('webhook: shows gateway families');
    if (after.gateway!.has('epos_relay_webhook_received_total')) problems.push('gateway: shows webhook families');
    assert.deepEqual(problems, [], problems.join('\n'));

    const moved = (app: string, family: string, match: Record<string, string> = {}, sample = family) =>
      sampleSum(after[app]!, family, match, sample) - sampleSum(before[app]!, family, match, sample);
    const g = after.gateway!;
    assert.equal(sampleSum(g, 'epos_relay_gateway_links', { state: 'open', protocol: 'epos-data' }), 1, 'one open link');
    assert.equal(sampleSum(g, 'epos_relay_gateway_links', { state: 'backing_off', protocol: 'epos-data' }), 0, 'every state shows, at 0 too');
    assert.equal(sampleSum(g, 'epos_relay_gateway_links', { state: 'auth_failed', protocol: 'epos-data' }), 1, 'the refused venue is dark');
    assert.ok(sampleSum(g, 'epos_relay_gateway_auth_refusals_total', { protocol: 'epos-data' }) >= 1, 'an auth refusal');
    assert.ok(sampleSum(g, 'epos_relay_gateway_handshake_failures_total', { protocol: 'epos-data', reason: 'auth' }) >= 1, 'a failed handshake');
    assert.equal(sampleSum(g, 'epos_relay_gateway_handshake_failures_total', { protocol: 'epos-data', reason: 'network' }), 0);
    assert.ok(sampleSum(g, 'epos_relay_gateway_reconnects_total', { protocol: 'epos-data' }) >= 1, 'a reconnect scheduled');
    assert.ok(sampleSum(g, 'epos_relay_gateway_connects_total', { protocol: 'epos-data' }) >= 1, 'a connect');
    assert.ok(sampleSum(g, 'epos_relay_gateway_ping_rtt_seconds', {}, 'epos_relay_gateway_ping_rtt_seconds_count') >= 1, 'a ping round trip');
    assert.ok(moved('gateway', 'epos_relay_gateway_frames_total', { direction: 'in' }) >= 4, 'frames in');
    assert.ok(moved('gateway', 'epos_relay_gateway_frames_total', { direction: 'out' }) >= 4, 'frames out');
    assert.equal(moved('gateway', 'epos_relay_gateway_requests_total', { method: 'GetOrderByIdV1', outcome: 'ok' }), 1);
    assert.equal(moved('gateway', 'epos_relay_gateway_requests_total', { method: 'CreateOrderLockV1', outcome: 'ok' }), 2);
    assert.equal(moved('gateway', 'epos_relay_gateway_requests_total', { method: 'invalid', outcome: 'invalid' }), 1);
    assert.equal(moved('gateway', 'epos_relay_gateway_request_duration_seconds', { method: 'CreateOrderLockV1' }, 'epos_relay_gateway_request_duration_seconds_count'), 2);
    assert.equal(sampleSum(g, 'epos_relay_gateway_requests_in_flight'), 0);
    assert.ok(moved('gateway', 'epos_relay_gateway_lease_renewals_total', { outcome: 'renewed' }) >= 1, 'lease renewals');

    const w = after.worker!;
    assert.equal(moved('worker', 'epos_relay_worker_job_duration_seconds', { queue: 'epos-rpc', job: 'CreateOrderLockV1' }, 'epos_relay_worker_job_duration_seconds_count'), 2);
    // The read was answered by the gateway (GATEWAY_READS=local), the two locks by the worker (one of them a replay).
    assert.equal(moved('worker', 'epos_relay_worker_db_duration_seconds', { method: 'GetOrderByIdV1' }, 'epos_relay_worker_db_duration_seconds_count'), 0);
    assert.equal(moved('gateway', 'epos_relay_gateway_read_db_duration_seconds', { method: 'GetOrderByIdV1' }, 'epos_relay_gateway_read_db_duration_seconds_count'), 1);
    assert.equal(moved('gateway', 'epos_relay_gateway_read_db_duration_seconds', { method: 'CreateOrderLockV1' }, 'epos_relay_gateway_read_db_duration_seconds_count'), 0);
    assert.equal(moved('worker', 'epos_relay_worker_db_duration_seconds', { method: 'CreateOrderLockV1' }, 'epos_relay_worker_db_duration_seconds_count'), 2);
    assert.equal(moved('worker', 'epos_relay_worker_replays_total', { method: 'CreateOrderLockV1' }), 1, 'the retry was a replay');
    assert.ok(moved('worker', 'epos_relay_dojo_events_applied_total') >= 1, 'an event applied');
    assert.ok(moved('worker', 'epos_relay_dojo_events_applied_together', {}, 'epos_relay_dojo_events_applied_together_count') >= 1, 'its transaction counted');
    assert.ok(moved('worker', 'epos_relay_outbox_sent_total') >= 1, 'a POS event sent');
    assert.ok(moved('worker', 'epos_relay_dojo_api_requests_total', { endpoint: 'POST /epos/events', status: '200' }) >= 1, 'a Dojo API call by route');
    for (const q of Object.values(QueueName)) {
      for (const state of ['waiting', 'active', 'delayed', 'prioritized', 'failed']) {
        assert.ok(w.get('epos_relay_queue_jobs')!.samples.some((s) => s.labels.queue === q && s.labels.state === state), `queue ${q} ${state}`);
      }
    }
    assert.equal(sampleSum(w, 'epos_relay_outbox_pending'), 0);

    // The venue API's table and order were announced after their commits by the admin app's pool, without a failure.
    assert.ok(moved('admin', 'epos_relay_db_announced_changes_total') >= 1, 'the venue writes announced');
    for (const a of apps) assert.equal(sampleSum(after[a.name]!, 'epos_relay_db_announce_failures_total'), 0, `${a.name}: no failed announcement`);

    assert.equal(moved('webhook', 'epos_relay_webhook_received_total'), 3);
    assert.equal(moved('webhook', 'epos_relay_webhook_accepted_total'), 1);
    assert.equal(moved('webhook', 'epos_relay_webhook_duplicates_total'), 1);
    assert.equal(moved('webhook', 'epos_relay_webhook_rejected_total', { reason: 'signature' }), 1);
    assert.equal(moved('webhook', 'epos_relay_webhook_ack_duration_seconds', {}, 'epos_relay_webhook_ack_duration_seconds_count'), 3);

    // The alert rules reference only what the apps expose (or what the dead-letter work will).
    const exposed = new Set<string>();
    for (const families of Object.values(after)) {
      for (const f of families.values()) {
        exposed.add(f.name);
        if (f.type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) exposed.add(f.name + s);
      }
    }
    const rules = parse(readFileSync(join(__dirname, '../../../../deploy/prometheus/alerts.yml'), 'utf8'));
    const missing = alertMetricNames(rules).filter((n) => !exposed.has(n));
    assert.deepEqual(missing, [], `alert rules reference metrics no app exposes: ${missing.join(', ')}`);
    // A metric an absent() rule watches (the app is down when it is gone) must be one app's own, with a sample from
    // boot on: before any traffic, or absent() would fire for an app that is up.
    for (const m of alertRules(rules).map((r) => String(r.expr)).join('\n').matchAll(/\babsent\s*\(\s*(epos_relay_[a-zA-Z0-9_]+)/g)) {
      const name = m[1]!;
      const owners = Object.entries(before).filter(([, families]) => families.has(name)).map(([app]) => app);
      assert.equal(owners.length, 1, `${name} is exposed by one app only (${owners.join(', ')})`);
      assert.ok((before[owners[0]!]!.get(name)?.samples.length ?? 0) > 0, `${name} has a sample on ${owners[0]} before any traffic`);
    }
  });

  it('METRICS_TOKEN, when set, is required as a bearer token', async () => {
    assert.equal((await fetch(`${by('admin').url}/metrics`)).status, 401);
    assert.equal((await fetch(`${by('admin').url}/metrics`, { headers: { authorization: 'Bearer wrong-token-000000000' } })).status, 401);
    assert.equal((await fetch(`${by('admin').url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status, 200);
    assert.equal((await fetch(`${by('webhook').url}/metrics`)).status, 200, 'open where no METRICS_TOKEN is set');
  });
});
