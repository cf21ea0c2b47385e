import { randomUUID } from 'node:crypto';
import pg from 'pg';

/** A probe's payload starts with this (no location id does). */
const PROBE_PREFIX = '~probe:';
const PROBE_TIMEOUT_MS = 3_000;

/**
 * The channel the order tables' triggers notify (migration 20261203000000_order_change_notify): the payload is the
 * changed row's location id, or '*' after a TRUNCATE. Postgres delivers a notification only once its transaction has
 * committed, and folds repeats of one payload within a transaction into one.
 */
export const ORDER_CHANGES_CHANNEL = 'epos_relay_order_changes';

/** The lines a change feed writes (any pino logger). */
interface FeedLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface PgChangeFeedOptions {
  /** A direct connection to Postgres: LISTEN does not work through PgBouncer's transaction pooling. */
  url: string;
  channel: string;
  /** An announcement: the notification's payload. */
  onChange(payload: string): void;
  /**
   * Listening (true: every change committed from now on will be announced) or not any more (false: changes may
   * go unannounced until the next true).
   */
  onLive(live: boolean): void;
  log: FeedLog;
  /** How often the connection is proven alive (a round trip on it); default 5 s. */
  heartbeatMs?: number;
  /** How long that round trip may take before the connection is given up; default 3 s. */
  heartbeatTimeoutMs?: number;
  /** First wait before connecting again; doubles up to 30 s. Default 500 ms. */
  retryMs?: number;
}

/**
 * One dedicated Postgres connection that LISTENs on a channel, for processes
 * that keep a copy of data (the gateway's OrderReadCache) and must hear of
 * every change to it. It says it is live only once its LISTEN has returned
 * and a notification sent from another connection has reached it (a probe:
 * through a transaction-mode pooler LISTEN returns and hears nothing), and
 * says it is not as soon as the connection fails, ends or stops answering its
 * heartbeat (a dead TCP peer does not always close the socket); then it
 * connects and listens again with backoff. Between a false and the next true,
 * changes may have gone unannounced: the owner of the copy drops it.
 */
export class PgChangeFeed {
  private client?: pg.Client;
  private live = false;
  private closed = false;
  private heartbeat?: NodeJS.Timeout;
  private retry?: NodeJS.Timeout;
  private wait: number;
  private starting?: Promise<void>;
  private firstAttempt?: () => void;

  constructor(private readonly opts: PgChangeFeedOptions) {
    this.wait = opts.retryMs ?? 500;
  }

  get isLive(): boolean {
    return this.live;
  }

  /** Connects and listens; resolves once live, or once the first attempt failed (it keeps trying in the background). */
  start(): Promise<void> {
    return (this.starting ??= new Promise<void>((resolve) => {
      this.firstAttempt = resolve;
      void this.connect();
    }));
  }

  private async connect(): Promise<void> {
    this.retry = undefined;
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.opts.url, keepAlive: true, application_name: 'epos-relay change feed' });
    client.on('notification', (n) => {
      // Probes (this feed's or another process's) are not changes.
      if (client === this.client && n.channel === this.opts.channel && n.payload !== undefined && !n.payload.startsWith(PROBE_PREFIX)) {
        this.opts.onChange(n.payload);
      }
    });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      // The channel name is ours (a constant); quoted as an identifier all the same.
      await client.query(`LISTEN ${pg.escapeIdentifier(this.opts.channel)}`);
      await this.probe(client);
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message, channel: this.opts.channel }, 'change feed: could not listen; trying again');
      client.removeAllListeners('end');
      client.on('error', () => undefined);
      void client.end().catch(() => undefined); // already failed; nothing more to learn from closing it
      this.again();
      return;
    }
    if (this.closed) {
      void client.end().catch(() => undefined); // closed while connecting
      return;
    }
    this.client = client;
    this.live = true;
    this.wait = this.opts.retryMs ?? 500;
    this.opts.onLive(true);
    this.opts.log.info({ channel: this.opts.channel }, 'change feed listening');
    this.heartbeat = setInterval(() => void this.beat(client), this.opts.heartbeatMs ?? 5_000);
    this.heartbeat.unref();
    this.firstAttempt?.();
  }

  /**
   * Proves that a notification sent from another connection reaches this one. Through PgBouncer's transaction
   * pooling LISTEN returns but nothing is ever delivered; without this the feed would say it is live and hear
   * nothing.
   */
  private async probe(listener: pg.Client): Promise<void> {
    const token = `${PROBE_PREFIX}${randomUUID()}`;
    let timer: NodeJS.Timeout | undefined;
    let onNote: ((n: pg.Notification) => void) | undefined;
    const heard = new Promise<void>((resolve, reject) => {
      onNote = (n) => {
        if (n.channel === this.opts.channel && n.payload === token) resolve();
      };
      listener.on('notification', onNote);
      timer = setTimeout(
        () => reject(new Error(`a notification sent from another connection did not arrive in ${PROBE_TIMEOUT_MS} ms (a pooler in transaction mode? set DATABASE_LISTEN_URL to Postgres itself)`)),
        PROBE_TIMEOUT_MS,
      );
    });
    heard.catch(() => undefined); // awaited below; this only keeps an early rejection from going unhandled
    const sender = new pg.Client({ connectionString: this.opts.url, application_name: 'epos-relay change feed probe' });
    sender.on('error', () => undefined); // its failure shows as the query's
    try {
      await sender.connect();
      await sender.query('SELECT pg_notify($1, $2)', [this.opts.channel, token]);
      await heard;
    } finally {
      clearTimeout(timer);
      if (onNote) listener.removeListener('notification', onNote);
      await sender.end().catch(() => undefined); // the probe's own connection; nothing depends on its goodbye
    }
  }

  /** A round trip on the listening connection; one that fails or takes too long gives the connection up. */
  private async beat(client: pg.Client): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), this.opts.heartbeatTimeoutMs ?? 3_000)));
    try {
      const r = await Promise.race([client.query('SELECT 1'), late]);
      if (r === 'late') this.lost(client, new Error('heartbeat unanswered'));
    } catch (err) {
      this.lost(client, err as Error);
    } finally {
      clearTimeout(timer);
    }
  }

  private lost(client: pg.Client, err?: Error): void {
    if (client !== this.client) return;
    this.client = undefined;
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    if (this.live) {
      this.live = false;
      this.opts.onLive(false);
    }
    client.removeAllListeners('end');
    client.on('error', () => undefined);
    void client.end().catch(() => undefined); // the connection is being given up
    if (this.closed) return;
    this.opts.log.warn({ err: err?.message ?? 'connection ended', channel: this.opts.channel }, 'change feed lost; listening again');
    this.again();
  }

  private again(): void {
    this.firstAttempt?.();
    if (this.closed) return;
    this.retry = setTimeout(() => void this.connect(), this.wait);
    this.retry.unref();
    this.wait = Math.min(this.wait * 2, 30_000);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    clearInterval(this.heartbeat);
    this.firstAttempt?.();
    const client = this.client;
    this.client = undefined;
    if (this.live) {
      this.live = false;
      this.opts.onLive(false);
    }
    if (client) {
      client.removeAllListeners('end');
      client.on('error', () => undefined);
      await client.end().catch(() => undefined); // closing: a failure to say goodbye changes nothing
    }
  }
}
