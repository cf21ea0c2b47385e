import { Agent, request } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { LatencyStats } from '@app/dojo-sandbox';
import { dojoSignature, summarize } from '@app/dojo-sandbox';
import type { Platform } from '../lib/platform';
import { sleep, until } from '../lib/procs';
import type { LocationFixture } from '@app/testing';
import { fixtures } from '@app/testing';
import { benchVenues } from '../lib/seed';

export interface WebhookRun {
  /** Whether the events worker was running (applying events) during the run, or only the ingest path was. */
  eventsWorker: boolean;
  offered: number;
  durationMs: number;
  sent: number;
  duplicatesSent: number;
  accepted: number;
  acceptedPerSec: number;
  acceptedDuplicates: number;
  non2xx: number;
  failed: number;
  ack: LatencyStats;
  cpu: Record<string, number>;
  errorSamples: string[];
}

export interface WebhookResult {
  scenario: 'webhook';
  locations: number;
  duplicateShare: number;
  runs: WebhookRun[];
  check: {
    uniqueEventsAccepted: number;
    rows: number;
    deliveriesSum: number;
    deliveriesExpected: number;
    rowsWithWrongDeliveries: number;
    missingRows: number;
    extraRows: number;
    states: Record<string, number>;
    exactlyOnce: boolean;
    settleMs: number;
  };
}

interface Sent {
  body: string;
  signature: string;
  accepted: number;
}

/**
 * Signed payment-intent webhooks at a fixed rate, `duplicateShare` of them
 * repeats of events already sent (same bytes, as Dojo's retries are), over
 * keep-alive HTTP; then checks Postgres: one dojo_events row per distinct
 * event and a deliveries count equal to the times it was accepted.
 */
async function fire(url: string, locs: LocationFixture[], events: Map<string, Sent>, o: { rate: number; durationMs: number; duplicateShare: number; maxInFlight: number }) {
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const target = new URL('/webhooks/dojo', url);
  const samples: number[] = [];
  const r = { sent: 0, duplicatesSent: 0, accepted: 0, acceptedDuplicates: 0, non2xx: 0, failed: 0, errorSamples: [] as string[] };
  const recent: string[] = [];
  let inFlight = 0;
  let n = 0;
  let done!: () => void;
  const drained = new Promise<void>((res) => (done = res));
  let sending = true;
  const post = (id: string, ev: Sent, dup: boolean) => {
    r.sent++;
    if (dup) r.duplicatesSent++;
    inFlight++;
    const started = performance.now();
    const req = request(
      target,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(ev.body), 'dojo-signature': ev.signature } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          samples.push(performance.now() - started);
          if (res.statusCode === 200) {
            r.accepted++;
            ev.accepted++;
            if (dup) r.acceptedDuplicates++;
          } else {
            r.non2xx++;
            if (r.errorSamples.length < 10) r.errorSamples.push(`${res.statusCode}: ${Buffer.concat(chunks).toString('utf8').slice(0, 200)}`);
          }
          finish();
        });
      },
    );
    req.on('error', (err) => {
      r.failed++;
      if (r.errorSamples.length < 10) r.errorSamples.push(err.message);
      finish();
    });
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.end(ev.body);
  };
  const finish = () => {
    inFlight--;
    if (!sending && inFlight === 0) done();
  };
  const sendOne = () => {
    if (inFlight >= o.maxInFlight) return;
    if (recent.length > 0 && Math.random() < o.duplicateShare) {
      const id = recent[Math.floor(Math.random() * recent.length)]!;
      post(id, events.get(id)!, true);
      return;
    }
    const loc = locs[n % locs.length]!;
    const id = `evt_bench_${randomBytes(9).toString('base64url')}`;
    const body = JSON.stringify({
      id,
      event: 'payment_intent.status_updated',
      accountId: loc.dojoAccountId,
      createdAt: new Date().toISOString(),
      data: { paymentIntentId: `pi_wh_${randomBytes(6).toString('hex')}`, paymentStatus: 'Authorized', captureMode: 'Auto' },
    });
    const ev: Sent = { body, signature: dojoSignature(loc.webhookSecrets[0]!.value, body), accepted: 0 };
    events.set(id, ev);
    recent.push(id);
    if (recent.length > 2_000) recent.shift();
    post(id, ev, false);
  };
  const t0 = performance.now();
  let due = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = Math.min(performance.now() - t0, o.durationMs);
      const want = Math.floor((elapsed * o.rate) / 1000);
      while (due < want) {
        due++;
        n++;
        sendOne();
      }
      if (elapsed >= o.durationMs) {
        clearInterval(timer);
        resolve();
      }
    }, 5);
  });
  const sendWindow = performance.now() - t0;
  sending = false;
  if (inFlight > 0) await Promise.race([drained, sleep(15_000)]);
  agent.destroy();
  return { ...r, sendWindow, ack: summarize(samples, r.non2xx + r.failed), skipped: due - r.sent };
}

/** Applied events already in dojo_events when a run starts (the venues' history), as on a platform that has been running. */
export const HISTORY_EVENTS = 50_000;

/**
 * The venues' past events, applied, then ANALYZE (what autovacuum does on a running platform). Without them every run
 * started on an empty table: the apps cache each named statement's plan after a few executions, in the warm-up,
 * when the table held a few hundred rows, and kept that plan for the whole run while the table grew to tens of
 * thousands (a repeat's deliveries count joined by a sequential scan of every row, 1-7 ms a statement, the most
 * costly statement of the run). On a running platform the table is large and analysed, and the same statement is an
 * index lookup. History rows are told apart by their event ids (evt_hist_*) and left out of the exactly-once check.
 */
async function seedHistory(p: Platform, locs: LocationFixture[]): Promise<void> {
  await p.prisma.$executeRawUnsafe(
    `INSERT INTO dojo_events (id, location_id, dojo_account_id, event_id, event_type, payment_intent_id, payment_status, capture_mode,
                              occurred_at, channel, deliveries, payload, state, received_at, applied_at)
     SELECT gen_random_uuid(), l.id, l.dojo_account_id, 'evt_hist_' || g, 'payment_intent.status_updated', 'pi_hist_' || g, 'Captured', 'Auto',
            now() - make_interval(secs => g), 'webhook', 1, '{}'::jsonb, 'applied', now() - make_interval(secs => g), now() - make_interval(secs => g)
       FROM generate_series(1, $1::int) AS g
       JOIN (SELECT id, dojo_account_id, (row_number() OVER (ORDER BY id)) - 1 AS k FROM locations WHERE id = ANY($2::uuid[])) AS l
         ON l.k = g % $3::int`,
    HISTORY_EVENTS,
    locs.map((l) => l.id),
    locs.length,
  );
  await p.prisma.$executeRawUnsafe('ANALYZE dojo_events');
}

export async function webhook(
  p: Platform,
  o: { locations: number; rates: number[]; durationMs: number; duplicateShare: number; ingestOnlyRates: number[]; ingestOnlyMs: number; log: (m: string) => void },
): Promise<WebhookResult> {
  await p.init();
  const locs = await benchVenues(fixtures(p.prisma, p.box), { count: o.locations, prefix: 'wh', ordersPerLocation: 0, webhookSecrets: true });
  await seedHistory(p, locs);
  const hook = await p.startApp('webhook', 'webhook');
  const events = new Map<string, Sent>();
  const runs: WebhookRun[] = [];
  const series = async (rates: number[], durationMs: number, pids: Record<string, number>, eventsWorker: boolean) => {
    for (const rate of rates) {
      const meter = p.meter(pids);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const r = await fire(hook.url!, locs, events, { rate, durationMs, duplicateShare: o.duplicateShare, maxInFlight: 2_000 });
      const cpu = meter.end();
      const c = process.cpuUsage(cpu0);
      cpu['sender (bench process)'] = Math.round(((c.user + c.system) / 1000 / (performance.now() - t0)) * 1000) / 1000;
      const run: WebhookRun = {
        eventsWorker,
        offered: rate,
        durationMs: Math.round(r.sendWindow),
        sent: r.sent,
        duplicatesSent: r.duplicatesSent,
        accepted: r.accepted,
        acceptedPerSec: Math.round((r.accepted / r.sendWindow) * 1000),
        acceptedDuplicates: r.acceptedDuplicates,
        non2xx: r.non2xx,
        failed: r.failed,
        ack: r.ack,
        cpu,
        errorSamples: r.errorSamples,
      };
      runs.push(run);
      o.log(`webhook${eventsWorker ? '' : ' (ingest only)'} @ ${rate}/s: accepted ${run.acceptedPerSec}/s, ack p50 ${run.ack.p50} p99 ${run.ack.p99} ms, non-2xx ${run.non2xx}, failed ${run.failed}`);
      await sleep(500);
    }
  };
  const received = async () => {
    const [row] = await p.prisma.$queryRawUnsafe<{ n: bigint }[]>(`SELECT count(*) AS n FROM dojo_events WHERE state = 'received'`);
    return Number(row?.n ?? 0);
  };
  // Warm-up: not counted in the runs but checked with the rest.
  await fire(hook.url!, locs, events, { rate: 200, durationMs: 1_000, duplicateShare: o.duplicateShare, maxInFlight: 2_000 });
  // 1. The ingest path alone (verify, store, enqueue): no events worker yet, the jobs wait in the queue.
  await series(o.ingestOnlyRates, o.ingestOnlyMs, { webhook: hook.pid }, false);
  // 2. With the events worker applying what arrives; it first drains what the ingest-only runs queued.
  const worker = await p.startApp('worker', 'worker');
  const backlog = await received();
  const d0 = Date.now();
  await until(async () => (await received()) === 0, 60_000, 250);
  if (backlog) o.log(`webhook: the events worker applied the ${backlog} queued events in ${Date.now() - d0} ms`);
  await series(o.rates, o.durationMs, { webhook: hook.pid, worker: worker.pid }, true);
  // Let the events worker apply what was stored, then compare Postgres with what was sent.
  const s0 = Date.now();
  await until(async () => (await received()) === 0, 30_000, 250);
  const settleMs = Date.now() - s0;
  const rows = await p.prisma.$queryRawUnsafe<{ event_id: string; deliveries: number; state: string }[]>(
    `SELECT event_id, deliveries, state::text AS state FROM dojo_events WHERE event_id NOT LIKE 'evt_hist_%'`,
  );
  const byId = new Map(rows.map((x) => [x.event_id, x]));
  let wrong = 0;
  let missing = 0;
  let expected = 0;
  let unique = 0;
  for (const [id, ev] of events) {
    if (ev.accepted === 0) continue;
    unique++;
    expected += ev.accepted;
    const row = byId.get(id);
    if (!row) missing++;
    else if (row.deliveries !== ev.accepted) wrong++;
  }
  const states: Record<string, number> = {};
  for (const x of rows) states[x.state] = (states[x.state] ?? 0) + 1;
  const extraRows = rows.filter((x) => !(events.get(x.event_id)?.accepted ?? 0)).length;
  const deliveriesSum = rows.reduce((a, x) => a + x.deliveries, 0);
  await p.stopApps();
  return {
    scenario: 'webhook',
    locations: o.locations,
    duplicateShare: o.duplicateShare,
    runs,
    check: {
      uniqueEventsAccepted: unique,
      rows: rows.length,
      deliveriesSum,
      deliveriesExpected: expected,
      rowsWithWrongDeliveries: wrong,
      missingRows: missing,
      extraRows,
      states,
      exactlyOnce: wrong === 0 && missing === 0 && extraRows === 0 && deliveriesSum === expected,
      settleMs,
    },
  };
}
