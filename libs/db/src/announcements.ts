import pg from 'pg';
import { ORDER_CHANGES_CHANNEL } from './change-feed';

/**
 * The platform's own connections (createPrisma's pool) are named `epos-relay/<app>`. On such a connection the order
 * tables' trigger (migration 20261205000000_order_change_after_commit) does not notify in the transaction: it raises
 * this INFO message with the location id as its detail, and the pool's ChangeAnnouncer notifies once the transaction
 * has ended. Any other connection (psql, another tool) is announced in its transaction, as before.
 */
export const ANNOUNCES_AFTER_COMMIT_PREFIX = 'epos-relay/';
export const ORDER_CHANGED_NOTICE = 'epos_relay_order_changed';

/** What the announcer writes when it cannot announce (any pino logger). */
interface AnnouncerLog {
  warn(obj: object, msg: string): void;
}

export interface ChangeAnnouncerOptions {
  /** Where to announce (DATABASE_URL), or what gives it for each new connection (tests). */
  url: string | (() => string);
  log?: AnnouncerLog;
  /** First wait before trying again after a failed announcement; doubles up to 5 s. Default 100 ms. */
  retryMs?: number;
  /** Told of each announcement sent (how many locations) and each attempt that failed (the apps' metrics). */
  counts?: AnnouncementCounts;
}

/** What an announcer reports as it goes (the apps count it: epos_relay_db_announced_changes_total, ..._failures_total). */
export interface AnnouncementCounts {
  sent(locations: number): void;
  failed(): void;
}

/**
 * Announces the order changes of the pool's connections after their commits, on one connection of its own.
 *
 * Why: a transaction that notifies takes one lock for the whole database server at commit and holds it until its
 * commit record is flushed (PostgreSQL's async.c, PreCommit_Notify), so notifying transactions commit one at a time,
 * each waiting for its own flush: with a 1 ms flush, at most about 700 a second however many connections write
 * (`bench/diagnostics/announced-commits.js`). `SELECT pg_notify(...)` on its own has no transaction id and nothing to
 * flush, so it holds that lock only briefly, and the writes' commits share their flushes again.
 *
 * How: `watch` follows a pooled client. The trigger's INFO messages name the locations a transaction changed; when
 * the connection is next idle (ReadyForQuery with status I: the transaction committed or rolled back), or when it is
 * lost (its COMMIT may have gone through unanswered), those locations are announced. A rolled-back change is
 * announced too: an announcement only makes a gateway read the location again. Announcements of one moment go out in
 * one statement; while one is on its way the next ones wait and go out together. A failed one is tried again, with
 * backoff, until it goes out or `close`.
 *
 * What it gives up: a process that dies between a commit and its announcement (a fraction of a millisecond) leaves
 * that change unannounced; a gateway then reads the location from its copy until the copy expires
 * (GATEWAY_READ_CACHE_MAX_AGE_MS) or another change of it is announced. Changes are always decided on Postgres'
 * rows, never on the copy. DB_ANNOUNCE_AFTER_COMMIT=false announces in the transaction instead.
 */
export class ChangeAnnouncer {
  private readonly waiting = new Set<string>();
  private client?: pg.Client;
  private sending?: Promise<void>;
  private scheduled = false;
  private closed = false;
  private wait: number;

  constructor(private readonly opts: ChangeAnnouncerOptions) {
    this.wait = opts.retryMs ?? 100;
  }

  /** Follows a pooled client: the locations its transactions change are announced once each transaction ends. */
  watch(client: pg.ClientBase): void {
    let changed = new Set<string>();
    client.on('notice', (msg) => {
      if (msg.message === ORDER_CHANGED_NOTICE && msg.detail) changed.add(msg.detail);
    });
    const flush = () => {
      if (changed.size === 0) return;
      const locations = changed;
      changed = new Set();
      this.announce(locations);
    };
    // A pool's clients are pg Clients; their Connection reports each ReadyForQuery with the transaction status.
    (client as pg.Client).connection.on('readyForQuery', (msg: { status?: string }) => {
      if (msg.status === 'I') flush();
    });
    // Lost with changes noticed: a COMMIT may have been carried out without its answer arriving, so they are announced.
    client.on('end', flush);
  }

  /** Announces these locations' changes (after their commit). */
  announce(locations: Iterable<string>): void {
    for (const l of locations) this.waiting.add(l);
    if (this.scheduled || this.sending || this.waiting.size === 0) return;
    this.scheduled = true;
    // The announcements of this turn of the event loop go out together.
    setImmediate(() => {
      this.scheduled = false;
      this.sending ??= this.send();
    });
  }

  /** Sends what is waiting, and whatever arrived meanwhile, until nothing waits. */
  private async send(): Promise<void> {
    try {
      while (this.waiting.size > 0) {
        const locations = [...this.waiting];
        this.waiting.clear();
        try {
          const client = await this.connection();
          // Unnamed: a pooler in transaction mode may stand between (DATABASE_URL).
          await client.query('SELECT pg_notify($1, l) FROM unnest($2::text[]) AS l', [ORDER_CHANGES_CHANNEL, locations]);
          this.opts.counts?.sent(locations.length);
          this.wait = this.opts.retryMs ?? 100;
        } catch (err) {
          this.opts.counts?.failed();
          for (const l of locations) this.waiting.add(l);
          this.drop();
          if (this.closed) return;
          this.opts.log?.warn({ err: (err as Error).message, locations: locations.length }, 'order changes could not be announced yet; trying again');
          // Unref'd: a closing process does not wait for it (close() has its own bound).
          await new Promise((r) => setTimeout(r, this.wait).unref());
          this.wait = Math.min(this.wait * 2, 5_000);
        }
      }
    } finally {
      this.sending = undefined;
    }
  }

  private async connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    if (this.closed) throw new Error('the announcer is closed');
    const url = typeof this.opts.url === 'string' ? this.opts.url : this.opts.url();
    const client = new pg.Client({
      connectionString: url,
      keepAlive: true,
      application_name: 'epos-relay announcer',
      // A server that stops answering fails the attempt (and it is tried again) rather than holding what waits.
      connectionTimeoutMillis: 5_000,
      query_timeout: 5_000,
    });
    client.on('error', () => this.drop(client)); // a broken connection shows as the next query's failure
    this.client = client;
    try {
      await client.connect();
    } catch (err) {
      this.drop(client);
      throw err;
    }
    return client;
  }

  private drop(client = this.client): void {
    if (!client || client !== this.client) return;
    this.client = undefined;
    void client.end().catch(() => undefined); // given up; a new one is opened for the next announcement
  }

  /**
   * Announces what is still waiting (one try if a try is not already under way; at most `waitMs` spent on it), then
   * closes the connection.
   */
  async close(waitMs = 3_000): Promise<void> {
    if (this.waiting.size > 0 && !this.sending) this.sending = this.send();
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.sending, new Promise<void>((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
    if (this.waiting.size > 0) this.opts.log?.warn({ locations: this.waiting.size }, 'closing with order changes not announced');
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined); // closing: nothing depends on its goodbye
  }
}
