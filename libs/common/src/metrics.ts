import { Controller, Get, Inject, Optional, Res } from '@nestjs/common';
import type { Response } from 'express';
import { collectDefaultMetrics, Counter, Gauge, Histogram, register, Registry } from 'prom-client';
import { bearerToken, SecretTokens } from './bearer-tokens';
import { CONFIG } from './tokens';

/**
 * Prometheus metrics of the platform, in one place.
 *
 * - One registry per process (prom-client's default one), served at GET /metrics
 *   by every app (MetricsController, mounted by CoreModule).
 * - Families are grouped per component and created on first use
 *   (`gatewayMetrics()`, `webhookMetrics()`...), so an app only shows the
 *   families of the code it runs. Several apps booted in one process (tests)
 *   share them.
 * - Labels are bounded: methods, outcomes, states, queue names, reasons,
 *   route templates. Never a venue, location, account or raw URL.
 * - Hot paths hold pre-bound label children (`counter.labels(...)` once), so
 *   an observation allocates nothing.
 * - Values read from Postgres or Redis at scrape time (queue depths, pending
 *   events) come from "sources" an app registers; the scrape reads them through
 *   a short cache (`cachedSource`).
 */
export const METRICS_PREFIX = 'epos_relay_';
export const metricsRegistry: Registry = register;

let defaultsOn = false;
/**
 * How often the event-loop lag monitor samples (ms). prom-client's default, 10 ms, is a repeating timer that wakes an
 * idle process 100 times a second; on this platform every wake-up costs about 0.1 ms of CPU (docs/performance.md), so
 * at 200 requests/s that default alone added half a wake-up per request to every process. At 100 ms a scrape every
 * 15 s still rests on 150 samples, and any stall longer than 100 ms is seen.
 */
export const EVENT_LOOP_SAMPLE_MS = 100;

/** Process metrics (CPU, memory, event loop lag, GC, handles), once per process, collected on scrape. */
export function enableDefaultMetrics(): void {
  if (defaultsOn) return;
  defaultsOn = true;
  collectDefaultMetrics({ register: metricsRegistry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
}

/** Buckets of latencies in seconds, from 1 ms to 30 s. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Buckets of network round trips in seconds, from 100 µs to 10 s. */
export const RTT_BUCKETS = [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

/** A counter's child for these label values, shown at 0 from now on (so rate() and increase() see it start). */
export function boundCounter(counter: Counter<string>, ...values: string[]): Counter.Internal {
  const child = counter.labels(...values);
  child.inc(0);
  return child;
}

/**
 * One bound child per label value, bound on first use and kept (prom-client's labels() builds and looks up a key on
 * every call): `perLabel((method) => histogram.labels(method))(method).observe(v)`.
 */
export function perLabel<T>(bind: (value: string) => T): (value: string) => T {
  const children = new Map<string, T>();
  return (value) => {
    let child = children.get(value);
    if (child === undefined) children.set(value, (child = bind(value)));
    return child;
  };
}

function once<T>(make: () => T): () => T {
  let v: T | undefined;
  return () => (v ??= make());
}

/** Every app: its pool's announcements of order changes after their commit (DB_ANNOUNCE_AFTER_COMMIT). */
export const announcementMetrics = once(() => ({
  announced: new Counter({
    name: `${METRICS_PREFIX}db_announced_changes_total`,
    help: 'Locations whose order changes this app announced after their commit (one per location per announcement)',
    registers: [metricsRegistry],
  }),
  failures: new Counter({
    name: `${METRICS_PREFIX}db_announce_failures_total`,
    help: 'Attempts to announce order changes that failed; they are kept and tried again, and the gateways may serve old orders meanwhile',
    registers: [metricsRegistry],
  }),
}));

/**
 * The latest registered provider of a scrape-time value. An app registers one
 * at boot and removes it on shutdown; with several apps in one process the
 * latest registration answers.
 */
export class MetricSource<T> {
  private readonly providers: (() => Promise<T> | T)[] = [];

  /** Registers `fn`; returns the function that removes it. */
  provide(fn: () => Promise<T> | T): () => void {
    this.providers.push(fn);
    return () => {
      const i = this.providers.lastIndexOf(fn);
      if (i >= 0) this.providers.splice(i, 1);
    };
  }

  async read(): Promise<T | undefined> {
    const fn = this.providers[this.providers.length - 1];
    return fn ? await fn() : undefined;
  }
}

/**
 * Wraps a scrape-time reader so that scrapes closer together than `ttlMs`
 * share one read (and concurrent scrapes share one in flight). A failed read
 * is not cached.
 */
export function cachedSource<T>(read: () => Promise<T>, ttlMs = 2_000): () => Promise<T> {
  let at = 0;
  let value: T | undefined;
  let inflight: Promise<T> | undefined;
  return () => {
    if (value !== undefined && performance.now() - at < ttlMs) return Promise.resolve(value);
    inflight ??= read()
      .then((v) => {
        value = v;
        at = performance.now();
        return v;
      })
      .finally(() => (inflight = undefined));
    return inflight;
  };
}

// ---- gateway ---------------------------------------------------------------

/** A link counted by epos_relay_gateway_links. */
export interface LinkSample {
  state: string;
  protocol: string;
}

/** Connection states a link reports (the ConnectionState of @app/contracts, repeated here so every state shows, at 0 too). */
export const LINK_STATES = ['connecting', 'open', 'backing_off', 'auth_failed', 'disabled', 'unowned'] as const;
/** Protocols (connection profiles) a link can speak. */
export const LINK_PROTOCOLS = ['epos-data', 'dojo-tables', 'connect-pat', 'connect-pac'] as const;

/** What the gateway's read cache (OrderReadCache) reports at scrape time. */
export interface ReadCacheSample {
  live: boolean;
  orders: number;
  hits: number;
  misses: number;
}

export const gatewayMetrics = once(() => {
  const links = new MetricSource<Iterable<LinkSample>>();
  const readCache = new MetricSource<ReadCacheSample>();
  // The cache counts its own hits and misses (plain numbers, no metric call per read); the counters take the
  // difference at each scrape.
  let reported = { hits: 0, misses: 0 };
  const readCacheReads = new Counter({
    name: `${METRICS_PREFIX}gateway_read_cache_reads_total`,
    help: "Reads of an order or a search page by this gateway's read cache (GATEWAY_READ_CACHE), by result (hit = answered without Postgres, miss = read from Postgres)",
    labelNames: ['result'] as const,
    registers: [metricsRegistry],
    async collect() {
      const now = await readCache.read();
      if (!now) return;
      if (now.hits >= reported.hits && now.misses >= reported.misses) {
        this.labels('hit').inc(now.hits - reported.hits);
        this.labels('miss').inc(now.misses - reported.misses);
      }
      reported = { hits: now.hits, misses: now.misses };
    },
  });
  const readCacheOrders = new Gauge({
    name: `${METRICS_PREFIX}gateway_read_cache_orders`,
    help: "Orders held by this gateway's read cache (searches count their rows)",
    registers: [metricsRegistry],
    async collect() {
      this.set((await readCache.read())?.orders ?? 0);
    },
  });
  const readCacheLive = new Gauge({
    name: `${METRICS_PREFIX}gateway_read_cache_live`,
    help: "1 while this gateway's read cache hears Postgres' change announcements and may answer reads; 0 when off or not listening",
    registers: [metricsRegistry],
    async collect() {
      this.set((await readCache.read())?.live ? 1 : 0);
    },
  });
  const linksGauge = new Gauge({
    name: `${METRICS_PREFIX}gateway_links`,
    help: 'Venue links held by this gateway replica, by connection state and protocol (open = serving; anything else is a venue that cannot be reached)',
    labelNames: ['state', 'protocol'] as const,
    registers: [metricsRegistry],
    async collect() {
      const counts = new Map<string, number>();
      for (const p of LINK_PROTOCOLS) for (const s of LINK_STATES) counts.set(`${s}\n${p}`, 0);
      for (const l of (await links.read()) ?? []) {
        const k = `${l.state}\n${l.protocol}`;
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      this.reset();
      for (const [k, n] of counts) {
        const [state, protocol] = k.split('\n') as [string, string];
        this.labels(state, protocol).set(n);
      }
    },
  });
  const c = (name: string, help: string, labelNames: readonly string[] = []) =>
    new Counter({ name: `${METRICS_PREFIX}${name}`, help, labelNames, registers: [metricsRegistry] });
  return {
    links,
    linksGauge,
    readCache,
    readCacheReads,
    readCacheOrders,
    readCacheLive,
    connects: c('gateway_connects_total', 'WebSocket handshakes that succeeded (a link opened), by protocol', ['protocol']),
    reconnects: c('gateway_reconnects_total', 'Reconnections scheduled after a link went down or could not be opened, by protocol', ['protocol']),
    authRefusals: c('gateway_auth_refusals_total', 'Handshakes refused with HTTP 401/403 (or a key that cannot be decrypted), by protocol', ['protocol']),
    handshakeFailures: c(
      'gateway_handshake_failures_total',
      'Dials that never opened, by protocol and reason (auth = 401/403, http = another HTTP status, network = timeout, refused or reset)',
      ['protocol', 'reason'],
    ),
    pingRtt: new Histogram({
      name: `${METRICS_PREFIX}gateway_ping_rtt_seconds`,
      help: 'Round trip of the WebSocket pings the gateway sends (ping to pong), by protocol',
      labelNames: ['protocol'] as const,
      buckets: RTT_BUCKETS,
      registers: [metricsRegistry],
    }),
    frames: c('gateway_frames_total', 'WebSocket data frames received (in) and sent (out) on venue links, by protocol', ['direction', 'protocol']),
    requests: c(
      'gateway_requests_total',
      'JSON-RPC requests answered by the gateway, by method and outcome (ok, error = a refusal of the method such as NotFound or Conflict, failed = UnexpectedError incl. deadlines, duplicate = answered from the reply cache or joined to the same id in flight, invalid = refused at the edge, method "invalid")',
      ['method', 'outcome'],
    ),
    requestDuration: new Histogram({
      name: `${METRICS_PREFIX}gateway_request_duration_seconds`,
      help: 'Time from a request frame arriving at the gateway to its reply being ready to send, by method',
      labelNames: ['method'] as const,
      buckets: LATENCY_BUCKETS,
      registers: [metricsRegistry],
    }),
    readDbDuration: new Histogram({
      name: `${METRICS_PREFIX}gateway_read_db_duration_seconds`,
      help: "Time a read answered by this gateway (GATEWAY_READS=local) spent in its use-case (its queries and mapping), by method; the worker's epos_relay_worker_db_duration_seconds covers the requests the workers answer",
      labelNames: ['method'] as const,
      buckets: LATENCY_BUCKETS,
      registers: [metricsRegistry],
    }),
    inFlight: new Gauge({
      name: `${METRICS_PREFIX}gateway_requests_in_flight`,
      help: 'JSON-RPC requests handed to the workers and not yet answered, on this replica',
      registers: [metricsRegistry],
    }),
    leaseRenewals: c('gateway_lease_renewals_total', 'Venue lease renewals, by outcome (renewed, lost)', ['outcome']),
    stepDowns: c(
      'gateway_fencing_step_downs_total',
      'Links this replica dropped because it no longer held the venue lease, by reason (lease_lost at renewal, fence_check before a dial or a reply)',
      ['reason'],
    ),
  };
});

// ---- worker ----------------------------------------------------------------

export const workerMetrics = once(() => ({
  jobDuration: new Histogram({
    name: `${METRICS_PREFIX}worker_job_duration_seconds`,
    help: 'Time a worker spent on one job, from pick-up to reply written (RPC) or job done, by queue and job (the JSON-RPC method for epos-rpc)',
    labelNames: ['queue', 'job'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [metricsRegistry],
  }),
  dbDuration: new Histogram({
    name: `${METRICS_PREFIX}worker_db_duration_seconds`,
    help: "Time an RPC method spent in Postgres, by method: the whole transaction of a state-changing method (locks, the use-case's queries and the stored response, plus the use-case's own JS between them), or the use-case of a read (its queries and mapping)",
    labelNames: ['method'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [metricsRegistry],
  }),
  deadlineMisses: new Counter({
    name: `${METRICS_PREFIX}worker_deadline_misses_total`,
    help: 'RPC jobs that missed their deadline, by method and stage (picked_up_late = not run, finished_late = the answer was written after the deadline)',
    labelNames: ['method', 'stage'] as const,
    registers: [metricsRegistry],
  }),
  replays: new Counter({
    name: `${METRICS_PREFIX}worker_replays_total`,
    help: 'RPC requests answered with a stored response (a retried id already processed, or the answer the gateway stored at the deadline), by method',
    labelNames: ['method'] as const,
    registers: [metricsRegistry],
  }),
}));

/** Job states counted per queue by epos_relay_queue_jobs. */
export const QUEUE_JOB_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed'] as const;
/** What the queue gauges read from Redis at scrape time, per queue name. */
export type QueueSnapshot = Record<
  string,
  {
    counts: Partial<Record<(typeof QUEUE_JOB_STATES)[number], number>>;
    /** Age of the oldest job waiting to be picked up (0 when none). */
    oldestWaitingSeconds: number;
  }
>;

export const queueMetrics = once(() => {
  const snapshot = new MetricSource<QueueSnapshot>();
  let last: Promise<QueueSnapshot | undefined> | undefined;
  // Both gauges are read by one pass over Redis: the first collected in a scrape starts it, the other shares it.
  const read = () => (last ??= snapshot.read().finally(() => setImmediate(() => (last = undefined))));
  const jobs = new Gauge({
    name: `${METRICS_PREFIX}queue_jobs`,
    help: 'BullMQ jobs per queue and state (waiting, active, delayed, prioritized, failed), read from Redis at scrape time (cached for a second or two)',
    labelNames: ['queue', 'state'] as const,
    registers: [metricsRegistry],
    async collect() {
      const byQueue = await read();
      this.reset();
      for (const [queue, q] of Object.entries(byQueue ?? {})) {
        for (const s of QUEUE_JOB_STATES) this.labels(queue, s).set(q.counts[s] ?? 0);
      }
    },
  });
  const oldest = new Gauge({
    name: `${METRICS_PREFIX}queue_oldest_waiting_age_seconds`,
    help: 'Per queue, how long the oldest waiting job has existed (since it was added; 0 when none waits), read from Redis at scrape time',
    labelNames: ['queue'] as const,
    registers: [metricsRegistry],
    async collect() {
      const byQueue = await read();
      this.reset();
      for (const [queue, q] of Object.entries(byQueue ?? {})) this.labels(queue).set(q.oldestWaitingSeconds);
    },
  });
  return { snapshot, jobs, oldest };
});

// ---- Retention -----------------------------------------------------------------

export const retentionMetrics = once(() => ({
  removed: new Counter({
    name: `${METRICS_PREFIX}retention_removed_total`,
    help: 'Finished records removed by retention passes, by record (processed_requests, pos_events_sent, dojo_events_applied, venue_feed...; dojo_events_pending_payment counts events discarded)',
    labelNames: ['record'] as const,
    registers: [metricsRegistry],
  }),
  lastPass: new Gauge({
    name: `${METRICS_PREFIX}retention_last_pass_timestamp_seconds`,
    help: 'When this process last finished a retention pass (0: none yet); a pass that stops failing moves it again',
    registers: [metricsRegistry],
  }),
}));

// ---- Dojo events and the outbox ---------------------------------------------

/** What the pipeline gauges read from Postgres at scrape time. */
/** States of a stored Dojo event not applied yet (epos_relay_dojo_events_pending{state}). */
export const PENDING_EVENT_STATES = ['received', 'queued', 'pending_payment'] as const;

/** Kinds of dead letter (epos_relay_dead_letters{kind}). */
export const DEAD_LETTER_KINDS = ['dojo-event', 'pos-event', 'registration'] as const;

export interface PipelineBacklog {
  /** Stored events not applied yet, per state. */
  eventsPending: Record<(typeof PENDING_EVENT_STATES)[number], number>;
  /** Age of the oldest event still on its way to being applied (received or queued; not those waiting for their payment). */
  eventsOldestPendingSeconds: number;
  outboxPending: number;
  outboxOldestPendingSeconds: number;
  /** Dead letters (given up after their attempts; replay or discard them through the operator API), per kind. */
  deadLetters: Record<(typeof DEAD_LETTER_KINDS)[number], number>;
}

export const pipelineMetrics = once(() => {
  const backlog = new MetricSource<PipelineBacklog>();
  let last: Promise<PipelineBacklog | undefined> | undefined;
  // The five gauges are read by one query: the first gauge collected in a scrape starts it, the others share it.
  const read = () => (last ??= backlog.read().finally(() => setImmediate(() => (last = undefined))));
  const g = (name: string, help: string, pick: (b: PipelineBacklog) => number) =>
    new Gauge({
      name: `${METRICS_PREFIX}${name}`,
      help,
      registers: [metricsRegistry],
      async collect() {
        const b = await read();
        this.set(b ? pick(b) : 0);
      },
    });
  return {
    backlog,
    eventsPending: new Gauge({
      name: `${METRICS_PREFIX}dojo_events_pending`,
      help: 'Stored Dojo events not applied yet, by state (received, queued, pending_payment = waiting for the payment it is about to be recorded), from Postgres at scrape time',
      labelNames: ['state'] as const,
      registers: [metricsRegistry],
      async collect() {
        const b = await read();
        for (const s of PENDING_EVENT_STATES) this.labels(s).set(b?.eventsPending[s] ?? 0);
      },
    }),
    eventsOldestPending: g(
      'dojo_events_oldest_pending_age_seconds',
      'Age of the oldest stored Dojo event still on its way to being applied (received or queued; not those waiting for their payment; 0 when none), from Postgres at scrape time',
      (b) => b.eventsOldestPendingSeconds,
    ),
    outboxPending: g('outbox_pending', 'POS events in the outbox waiting to be sent to Dojo, from Postgres at scrape time', (b) => b.outboxPending),
    outboxOldestPending: g(
      'outbox_oldest_pending_age_seconds',
      'Age of the oldest POS event waiting in the outbox (0 when none), from Postgres at scrape time',
      (b) => b.outboxOldestPendingSeconds,
    ),
    deadLetters: new Gauge({
      name: `${METRICS_PREFIX}dead_letters`,
      help: 'Dead letters by kind (dojo-event, pos-event, registration): given up after their attempts, waiting for an operator to replay or discard them; from Postgres at scrape time',
      labelNames: ['kind'] as const,
      registers: [metricsRegistry],
      async collect() {
        const b = await read();
        for (const k of DEAD_LETTER_KINDS) this.labels(k).set(b?.deadLetters[k] ?? 0);
      },
    }),
    eventsApplied: new Counter({
      name: `${METRICS_PREFIX}dojo_events_applied_total`,
      help: 'Dojo event jobs the events worker finished, by outcome of the application (applied, pending_payment, already_applied, missing...)',
      labelNames: ['outcome'] as const,
      registers: [metricsRegistry],
    }),
    eventsTogether: new Histogram({
      name: `${METRICS_PREFIX}dojo_events_applied_together`,
      help: 'Dojo events per transaction of the events worker: the applies running at once in one process share one (1 = applied alone)',
      buckets: [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 50],
      registers: [metricsRegistry],
    }),
    eventsSharedFailed: new Counter({
      name: `${METRICS_PREFIX}dojo_events_shared_failed_total`,
      help: 'Shared event transactions that failed (nothing of them stayed) and whose events were then applied one by one',
      registers: [metricsRegistry],
    }),
    eventsFailed: new Counter({
      name: `${METRICS_PREFIX}dojo_events_failed_total`,
      help: 'Attempts to apply a Dojo event that threw (BullMQ retries them)',
      registers: [metricsRegistry],
    }),
    outboxSent: new Counter({ name: `${METRICS_PREFIX}outbox_sent_total`, help: 'POS events delivered to Dojo', registers: [metricsRegistry] }),
    outboxFailedTotal: new Counter({
      name: `${METRICS_PREFIX}outbox_failures_total`,
      help: 'POS event deliveries that failed, by kind (retried = backed off for another try, refused = failed for good)',
      labelNames: ['kind'] as const,
      registers: [metricsRegistry],
    }),
  };
});

// ---- webhook ----------------------------------------------------------------

/** Reasons a webhook is rejected (epos_relay_webhook_rejected_total{reason}). */
export const WEBHOOK_REJECTIONS = ['signature', 'size', 'unknown_account', 'malformed', 'unavailable', 'headers', 'unreadable'] as const;
export type WebhookRejectionReason = (typeof WEBHOOK_REJECTIONS)[number];

export const webhookMetrics = once(() => {
  const rejected = new Counter({
    name: `${METRICS_PREFIX}webhook_rejected_total`,
    help: 'Dojo webhooks refused, by reason (signature, size, unknown_account, malformed, headers = several dojo-signature lines, unreadable = the body could not be read, unavailable = not stored, 503)',
    labelNames: ['reason'] as const,
    registers: [metricsRegistry],
  });
  const ack = new Histogram({
    name: `${METRICS_PREFIX}webhook_ack_duration_seconds`,
    help: 'Time from a webhook request arriving to its answer, by outcome (accepted, duplicate, rejected)',
    labelNames: ['outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [metricsRegistry],
  });
  return {
    received: new Counter({ name: `${METRICS_PREFIX}webhook_received_total`, help: 'Dojo webhook requests received', registers: [metricsRegistry] }),
    accepted: new Counter({
      name: `${METRICS_PREFIX}webhook_accepted_total`,
      help: 'Dojo webhooks stored (new events), answered 200',
      registers: [metricsRegistry],
    }),
    duplicates: new Counter({
      name: `${METRICS_PREFIX}webhook_duplicates_total`,
      help: 'Dojo webhooks for events already stored (from either channel), answered 200',
      registers: [metricsRegistry],
    }),
    rejected: Object.fromEntries(WEBHOOK_REJECTIONS.map((r) => [r, boundCounter(rejected, r)])) as Record<WebhookRejectionReason, Counter.Internal>,
    ackAccepted: ack.labels('accepted'),
    ackDuplicate: ack.labels('duplicate'),
    ackRejected: ack.labels('rejected'),
  };
});

// ---- Dojo API (libs/dojo-client) ---------------------------------------------

const MAX_ENDPOINTS = 64;

export const dojoApiMetrics = once(() => {
  const calls = new Counter({
    name: `${METRICS_PREFIX}dojo_api_requests_total`,
    help: 'HTTP calls to the Dojo API (each attempt), by endpoint (method and route template) and status (the HTTP status, or timeout / network)',
    labelNames: ['endpoint', 'status'] as const,
    registers: [metricsRegistry],
  });
  const duration = new Histogram({
    name: `${METRICS_PREFIX}dojo_api_request_duration_seconds`,
    help: 'Duration of one HTTP call to the Dojo API (each attempt), by endpoint',
    labelNames: ['endpoint'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [metricsRegistry],
  });
  // The route templates seen, not the raw paths: a path carries an intent's id, so each intent would be a new path,
  // and the cap would soon be taken by one route's ids and label every new route `other`.
  const templates = new Set<string>();
  return {
    calls,
    duration,
    /** `PUT /epos/integrations/ws`-style label of a call: ids, digits and query strings removed; at most MAX_ENDPOINTS distinct. */
    endpoint(method: string, path: string): string {
      const route = path
        .split('?')[0]!
        .split('/')
        .map((seg) => (/\d/.test(seg) || seg.length > 40 || /^(pi|rfnd|cp|rvs)_/.test(seg) ? ':id' : seg))
        .join('/');
      const t = `${method.toUpperCase()} ${route}`;
      if (templates.has(t)) return t;
      if (templates.size >= MAX_ENDPOINTS) return 'other';
      templates.add(t);
      return t;
    },
  };
});

// ---- GET /metrics --------------------------------------------------------------

/**
 * The METRICS_TOKEN check of every metrics route: true when the request may
 * read (no token configured, or the right bearer); otherwise answers 401 and
 * returns false.
 */
export function metricsAuthorized(res: Response, token: string | undefined): boolean {
  if (!token) return true;
  if (new SecretTokens([token]).accepts(bearerToken(res.req.headers.authorization))) return true;
  res.status(401).json({ statusCode: 401, error: 'Unauthorized', message: 'a metrics bearer token is required (METRICS_TOKEN)' });
  return false;
}

/**
 * GET /metrics on the app's own port: the Prometheus text format. Not
 * authenticated unless METRICS_TOKEN is set (then `Authorization: Bearer
 * <METRICS_TOKEN>` is required); do not expose it publicly either way.
 */
@Controller('metrics')
export class MetricsController {
  private readonly token?: string;

  constructor(@Optional() @Inject(CONFIG) config?: { METRICS_TOKEN?: string }) {
    this.token = config?.METRICS_TOKEN;
  }

  @Get()
  async metrics(@Res() res: Response): Promise<void> {
    if (!metricsAuthorized(res, this.token)) return;
    const text = await metricsRegistry.metrics();
    res.status(200).setHeader('content-type', metricsRegistry.contentType);
    res.end(text);
  }
}
