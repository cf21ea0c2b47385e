import { z } from 'zod';
import { env } from './load';

/** Variables every app reads. */
export const commonEnv = {
  NODE_ENV: z.enum(['development', 'test', 'production']).optional().transform((v) => v ?? 'development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional().transform((v) => v ?? 'info'),
  DATABASE_URL: env.url(['postgres', 'postgresql']),
  /** One Redis, a Redis Cluster (redis+cluster://) or Sentinels (redis+sentinel://): redis-url.ts. */
  REDIS_URL: env.redisUrl(),
  /** 32-byte key that encrypts Dojo API keys and webhook secrets at rest. */
  EPOS_RELAY_ENCRYPTION_KEY: env.key32(),
  /** Previous encryption keys, comma-separated: they still decrypt, never encrypt (key rotation, docs/operations.md). */
  EPOS_RELAY_ENCRYPTION_KEYS_OLD: env.list().pipe(z.array(z.string().regex(/^([0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)$/, 'each key must be 32 bytes as 64 hex or 44 base64 characters'))),
  DB_POOL_SIZE: env.int(10, 1, 500),
  /**
   * How long a pooled connection may sit idle before the pool closes it; 0 (default): never, so a pool that grew
   * for a peak keeps its connections. A pool that shrinks in a quiet spell opens them again when load returns, each a
   * new Postgres backend with empty caches, all at the moment latency matters most.
   */
  DB_POOL_IDLE_TIMEOUT_MS: env.int(0, 0, 86_400_000),
  DB_ACQUIRE_TIMEOUT_MS: env.int(5_000, 100, 120_000),
  /**
   * Named prepared statements for the request path's SQL (parsed once per connection). Leave off when a
   * transaction-mode pooler such as PgBouncer sits between the apps and Postgres: it cannot carry them.
   */
  DB_PREPARED_STATEMENTS: env.bool(false),
  /**
   * Most pooled connections that carry the request path's reads at once. Reads that arrive while all are busy
   * wait and then go out together, several in one round trip (SqlRunner.read); 0 sends each read on its own.
   */
  DB_READ_LANES: env.int(4, 0, 100),
  /**
   * The apps announce their changes to orders, tables and parties after the commit (one lock-free pg_notify on a
   * connection of their own) instead of in it, where every announcing commit holds a server-wide lock through its WAL
   * flush and they commit one at a time. false: announced in the transaction (no window in which a process that
   * dies after its commit leaves a change unannounced; see docs/operations.md).
   */
  DB_ANNOUNCE_AFTER_COMMIT: env.bool(true),
  /** Prefix of every BullMQ key, so several deployments can share one Redis. No braces: the keys' own `{hash tags}` follow it. */
  QUEUE_PREFIX: env.str('epos-relay').pipe(z.string().regex(/^[^{}]+$/, 'must not contain { or } (the keys carry their own Redis Cluster hash tags)')),
  /** The gateway -> worker request path: one Redis Stream with a consumer group (default) or a BullMQ queue (gateway and worker must agree). */
  RPC_TRANSPORT: z.enum(['bullmq', 'streams']).optional().transform((v) => v ?? 'streams'),
  HOST: env.str('127.0.0.1'),
  /** Longest time a client may take to send a request's headers (slow clients get 408 and are closed). */
  HTTP_HEADERS_TIMEOUT_MS: env.int(10_000, 100, 600_000),
  /** Longest time a client may take to send a whole request, headers and body (0 = no limit). */
  HTTP_REQUEST_TIMEOUT_MS: env.int(30_000, 0, 3_600_000),
  /** How long an idle keep-alive connection stays open. */
  HTTP_KEEP_ALIVE_TIMEOUT_MS: env.int(5_000, 0, 600_000),
  /** On SIGINT/SIGTERM, how long a graceful close may take before the app logs what it still waits for and exits 1. */
  SHUTDOWN_TIMEOUT_MS: env.int(10_000, 100, 600_000),
  /** On SIGINT/SIGTERM, how long the app keeps serving with GET /health/ready at 503 before it starts closing (load balancers drain it). */
  SHUTDOWN_DRAIN_MS: env.int(0, 0, 120_000),
  /** When set, GET /metrics requires `Authorization: Bearer <METRICS_TOKEN>` (16+ characters); unset, /metrics is open on the app's port. */
  METRICS_TOKEN: z.string().min(16, 'needs 16+ characters').optional(),
};

const optionalInt = (min: number, max: number) =>
  z.string().regex(/^\d+$/, 'must be a whole number').transform(Number).pipe(z.number().int().min(min).max(max)).optional();

/**
 * Retry policy of capability registration jobs, read by the apps that schedule
 * them (admin on a change, worker in its sweep of pending locations). The older
 * ADMIN_ names are still accepted; the new names win when both are set.
 */
const registrationEnv = {
  /** Attempts of one capability registration (PUT /epos/integrations/ws) before it is marked failed [8]. */
  REGISTRATION_ATTEMPTS: optionalInt(1, 100),
  /** First retry delay of a failed registration; BullMQ doubles it per attempt [2000]. */
  REGISTRATION_BACKOFF_MS: optionalInt(1, 3_600_000),
  /** Former name of REGISTRATION_ATTEMPTS. */
  ADMIN_REGISTRATION_ATTEMPTS: optionalInt(1, 100),
  /** Former name of REGISTRATION_BACKOFF_MS. */
  ADMIN_REGISTRATION_BACKOFF_MS: optionalInt(1, 3_600_000),
};

type RegistrationConfig = { [K in keyof typeof registrationEnv]?: number };

/** The registration retry policy of a loaded admin or worker config. */
export function registrationRetry(config: RegistrationConfig): { attempts: number; backoffMs: number } {
  return {
    attempts: config.REGISTRATION_ATTEMPTS ?? config.ADMIN_REGISTRATION_ATTEMPTS ?? 8,
    backoffMs: config.REGISTRATION_BACKOFF_MS ?? config.ADMIN_REGISTRATION_BACKOFF_MS ?? 2_000,
  };
}

export const gatewayEnv = {
  ...commonEnv,
  PORT: env.int(3001, 0, 65535),
  DOJO_WS_URL: env.url(['ws', 'wss']).optional().transform((v) => v ?? 'wss://eu.ws.dojo.tech/epos'),
  /** Stable id of this replica; random when omitted. */
  GATEWAY_REPLICA_ID: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - only').optional(),
  GATEWAY_PING_INTERVAL_MS: env.int(25_000, 100, 30_000),
  GATEWAY_PONG_TIMEOUT_MS: env.int(10_000, 50, 120_000),
  GATEWAY_BACKOFF_BASE_MS: env.int(1_000, 10, 60_000),
  GATEWAY_BACKOFF_MAX_MS: env.int(30_000, 100, 600_000),
  /** First retry after a handshake refused with 401/403: a brief refusal must not keep a venue dark (at most 1 minute). */
  GATEWAY_AUTH_BACKOFF_MS: env.int(30_000, 100, 60_000),
  /** Cap of the doubling auth-refusal backoff (at most 15 minutes). */
  GATEWAY_AUTH_BACKOFF_MAX_MS: env.int(900_000, 100, 900_000),
  GATEWAY_STABLE_AFTER_MS: env.int(60_000, 100, 3_600_000),
  GATEWAY_LEASE_TTL_MS: env.int(10_000, 500, 300_000),
  GATEWAY_MAX_MESSAGE_BYTES: env.int(1_048_576, 1024, 64 * 1_048_576),
  /** Connection attempts per second this replica may start (a thundering-herd cap). */
  GATEWAY_CONNECT_RATE: env.int(200, 1, 100_000),
  /** How often the gateway re-reads all locations from Postgres (safety net behind location-changed messages). */
  GATEWAY_RESYNC_MS: env.int(30_000, 100, 3_600_000),
  /** How long a replica remembers recent replies per location to answer Dojo's retries of the same id (0 = off). */
  GATEWAY_REPLY_CACHE_MS: env.int(60_000, 0, 3_600_000),
  /** WebSocket handshake timeout for outbound links. */
  GATEWAY_HANDSHAKE_TIMEOUT_MS: env.int(10_000, 50, 120_000),
  /** When > 0, replaces every method's deadline (tests and tuning); 0 uses METHOD_INFO[method].deadlineMs. */
  GATEWAY_DEADLINE_OVERRIDE_MS: env.int(0, 0, 600_000),
  /**
   * Who answers a request that only reads (SearchOrdersV1, GetOrderByIdV1, ListSessions, ...): `local`, the gateway
   * replica that owns the socket, against Postgres (default: no queue hops); `queue`, a worker, like every change.
   */
  GATEWAY_READS: z.enum(['local', 'queue']).optional().transform((v) => v ?? 'local'),
  /**
   * With GATEWAY_READS=local: keep a copy of the orders read, per location, and answer Dojo's reads of them from it
   * until Postgres announces a change (LISTEN on the order tables' triggers). Off when the announcements cannot
   * reach the gateway (see DATABASE_LISTEN_URL).
   */
  GATEWAY_READ_CACHE: env.bool(true),
  /** Most orders the read cache holds (searches count their rows); the least recently read venues go first. */
  GATEWAY_READ_CACHE_ORDERS: env.int(50_000, 1, 10_000_000),
  /** A cached read older than this is read again, whatever was announced. */
  GATEWAY_READ_CACHE_MAX_AGE_MS: env.int(60_000, 100, 3_600_000),
  /**
   * How long after first seeing a venue (a takeover) the read cache keeps nothing of it: Dojo's changes sent through
   * the previous owner may commit until their deadline. Default: the longest change deadline (10 s, or
   * GATEWAY_DEADLINE_OVERRIDE_MS) plus 5 s. Shorter is only safe where one gateway serves every venue.
   */
  GATEWAY_READ_CACHE_GRACE_MS: optionalInt(0, 3_600_000),
  /**
   * Where the gateway LISTENs for the announcements (a direct connection: LISTEN does not pass PgBouncer's
   * transaction pooling). Default: DATABASE_URL.
   */
  DATABASE_LISTEN_URL: env.url(['postgres', 'postgresql']).optional(),
  /** Pay at counter: the owner asks for counter work this often per PAC link, besides the wake-up messages. */
  COUNTER_POLL_MS: env.int(1_000, 10, 60_000),
  /** A terminal transaction without Connect's reply this long is recovered with duplicate (Connect ends a stuck terminal at ~200 s). */
  COUNTER_REPLY_TIMEOUT_MS: env.int(230_000, 100, 3_600_000),
  /** A recovery that has not read the terminal's last transaction this long (terminal away or busy, duplicate failing) settles it failed outcome_unknown. */
  COUNTER_RECOVER_GIVE_UP_MS: env.int(240_000, 100, 3_600_000),
  /** connectedTerminals this often per PAC link (the venue API's terminal list). */
  COUNTER_TERMINALS_REFRESH_MS: env.int(15_000, 100, 3_600_000),
};

export const workerEnv = {
  ...commonEnv,
  PORT: env.int(3002, 0, 65535),
  WORKER_CONCURRENCY: env.int(50, 1, 1000),
  /** RPC_TRANSPORT=streams: a request held this long by a worker that stopped answering is taken over by another. */
  RPC_CLAIM_IDLE_MS: env.int(10_000, 100, 600_000),
  /** RPC_TRANSPORT=streams: requests go to one worker while it keeps up; the others take what it leaves (RpcStreamConsumer). */
  RPC_CONCENTRATE: env.bool(true),
  /** With RPC_CONCENTRATE: a worker without the reader lease takes requests once the oldest waiting one is this old. */
  RPC_HELP_AFTER_MS: env.int(20, 0, 10_000),
  /** How long a Tables API LockSession holds the order when nothing releases it (the protocol has no expiry). */
  TABLES_LOCK_TTL_MS: env.int(300_000, 1_000, 3_600_000),
  /** How long a Connect PAT table lock holds the table's orders when the terminal never unlocks (no expiry on the wire). */
  CONNECT_PAT_LOCK_TTL_MS: env.int(600_000, 1_000, 3_600_000),
  /** Dojo events applied at once by this worker. */
  EVENTS_CONCURRENCY: env.int(10, 1, 500),
  /** How often the events sweeper looks for stored events that never reached the queue. */
  EVENTS_SWEEP_INTERVAL_MS: env.int(5_000, 50, 600_000),
  /** A stored event still 'received' after this long is enqueued again by the sweeper. */
  EVENTS_SWEEP_AFTER_MS: env.int(5_000, 0, 3_600_000),
  /** Failed attempts at applying a stored Dojo event before it becomes a dead letter. */
  EVENTS_MAX_ATTEMPTS: env.int(10, 1, 1000),
  DOJO_API_URL: env.url(['http', 'https']).optional().transform((v) => v ?? 'https://api.dojo.tech'),
  /** Dojo API `version` header (a date, YYYY-MM-DD) for the calls to Dojo's REST API. */
  DOJO_API_VERSION: env.date('2026-02-27'),
  /** How often the outbox dispatcher looks for due POS events. */
  OUTBOX_POLL_MS: env.int(500, 10, 60_000),
  /** A worker that does not take requests first (RPC_CONCENTRATE) sends only POS events due for this long; 0: all. */
  OUTBOX_HELP_AFTER_MS: env.int(2_000, 0, 600_000),
  /** First retry delay of a failed POS event; doubles per attempt. */
  OUTBOX_BACKOFF_BASE_MS: env.int(1_000, 10, 600_000),
  /** Longest delay between retries of a POS event. */
  OUTBOX_BACKOFF_MAX_MS: env.int(300_000, 10, 86_400_000),
  /** Failed deliveries of a POS event before it becomes a dead letter. */
  OUTBOX_MAX_ATTEMPTS: env.int(20, 1, 10_000),
  /** POS-event sends out at once to one location, per worker: a backlog or a slow location takes no more of a pass. */
  OUTBOX_SENDS_PER_LOCATION: env.int(10, 1, 50),
  /** Timeout of one call to the Dojo API (capability registration). */
  DOJO_TIMEOUT_MS: env.int(10_000, 100, 120_000),
  /** How often the payment-intent reconciler looks for online intents due for a read from Dojo. */
  PAYMENT_INTENT_RECONCILE_INTERVAL_MS: env.int(5_000, 50, 600_000),
  /** The reconciler's delay after a read that found an intent still open, doubling per read. */
  PAYMENT_INTENT_CHECK_AFTER_MS: env.int(60_000, 10, 86_400_000),
  /** The longest delay between two reads of one intent. */
  PAYMENT_INTENT_CHECK_MAX_MS: env.int(900_000, 10, 86_400_000),
  /** How often a retention pass removes finished records past their period (0: never; else at least a second). */
  RETENTION_INTERVAL_MS: env.int(600_000, 0, 86_400_000).refine((v) => v === 0 || v >= 1_000, 'must be 0 (off) or at least 1000'),
  /** Stored answers to Dojo's requests are kept this many days (0: for ever). */
  RETENTION_REQUESTS_DAYS: env.int(7, 0, 3650),
  /** Delivered POS events, applied Dojo events and venue feed entries are kept this many days (0: for ever). */
  RETENTION_DELIVERED_DAYS: env.int(30, 0, 3650),
  /** Dojo events waiting this many days for a payment that was never recorded are discarded (0: never). */
  RETENTION_PENDING_PAYMENT_DAYS: env.int(30, 0, 3650),
  /** Discarded Dojo and POS events are kept this many days for audit (0: for ever). */
  RETENTION_DISCARDED_DAYS: env.int(90, 0, 3650),
  /** Rows per retention statement. */
  RETENTION_BATCH_SIZE: env.int(1_000, 10, 100_000),
  ...registrationEnv,
};

export const webhookEnv = {
  ...commonEnv,
  PORT: env.int(3003, 0, 65535),
  WEBHOOK_MAX_BODY_BYTES: env.int(65_536, 256, 10_485_760),
};

export const adminEnv = {
  ...commonEnv,
  PORT: env.int(3000, 0, 65535),
  /** Comma-separated bearer tokens for the operator API. */
  ADMIN_OPERATOR_TOKENS: env.list().pipe(z.array(z.string().min(16, 'each operator token needs 16+ characters')).min(1, 'at least one token')),
  DOJO_API_URL: env.url(['http', 'https']).optional().transform((v) => v ?? 'https://api.dojo.tech'),
  DOJO_API_VERSION: env.date('2026-02-27'),
  /** Full public URL Dojo delivers webhooks to (the webhook app's /webhooks/dojo); default target when subscribing through Dojo. */
  WEBHOOK_PUBLIC_URL: env.url(['http', 'https']).optional(),
  /** Largest JSON body the admin API accepts, in bytes. */
  ADMIN_MAX_BODY_BYTES: env.int(1_048_576, 1024, 20 * 1_048_576),
  ...registrationEnv,
  /** Timeout of one call to the Dojo API. */
  DOJO_TIMEOUT_MS: env.int(10_000, 100, 120_000),
  /** Base of the checkout links handed to venues: Dojo's prebuilt checkout page, or the sandbox's. */
  DOJO_CHECKOUT_URL: env.url(['http', 'https']).optional().transform((v) => v ?? 'https://pay.dojo.tech/checkout'),
  /** The reconciler's first read of an online intent, this long after it was created or acted on. */
  PAYMENT_INTENT_CHECK_AFTER_MS: env.int(60_000, 10, 86_400_000),
  /** Pay at counter: how long a command may wait for the owning gateway to send it before it fails not_sent. */
  COUNTER_ACCEPT_TTL_MS: env.int(60_000, 1_000, 3_600_000),
};

/** The Dojo sandbox simulator (apps/dojo-sandbox): no database or Redis. */
export const sandboxEnv = {
  NODE_ENV: commonEnv.NODE_ENV,
  LOG_LEVEL: commonEnv.LOG_LEVEL,
  /** HTTP + WebSocket (/epos) port of the sandbox. */
  SANDBOX_PORT: env.int(4010, 0, 65535),
  /** Interface the sandbox listens on. */
  SANDBOX_HOST: env.str('127.0.0.1'),
  /** Accounts as a JSON array of {apiKey, softwareHouseId, accountId, webhookUrl?, webhookSecret?, capabilities?} or a path to such a file; a demo account when empty. */
  SANDBOX_ACCOUNTS: z.string().optional(),
  /** Interval between the sandbox's WebSocket pings to each EPOS connection. */
  SANDBOX_PING_INTERVAL_MS: env.int(25_000, 50, 600_000),
};

export type CommonConfig = z.infer<z.ZodObject<typeof commonEnv>>;
export type GatewayConfig = z.infer<z.ZodObject<typeof gatewayEnv>>;
export type WorkerConfig = z.infer<z.ZodObject<typeof workerEnv>>;
export type WebhookConfig = z.infer<z.ZodObject<typeof webhookEnv>>;
export type AdminConfig = z.infer<z.ZodObject<typeof adminEnv>>;
