import { Inject, OnModuleDestroy } from '@nestjs/common';
import { ConnectedSocket, MessageBody, OnGatewayConnection, OnGatewayDisconnect, SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import type Redis from 'ioredis';
import WebSocket from 'ws';
import { CONFIG, LOGGER, Logger, PRISMA, REDIS } from '@app/common';
import type { AdminConfig } from '@app/config';
import type { ConnectionStatus } from '@app/contracts';
import type { PrismaClient } from '@app/db';
import { FleetRow, LocationActivityRepository } from '@app/domain/admin';
import { countRecentErrors, readConnectionStatuses } from '@app/queue';
import { OperatorGuard } from '../shared/guards';

/** One row of the console's fleet table. */
export interface FleetItem extends FleetRow {
  /** As the gateways report it; `unknown` while their status records cannot be read (Redis unavailable). */
  state: string;
  replicaId: string | null;
  since: string | null;
  lastPongAt: string | null;
  reconnects: number;
  requestsServed: number;
  errorsLast5m: number;
  lastError: string | null;
  nextAttemptAt: string | null;
}

/** How often statuses are read from Redis while someone watches. */
export const CONSOLE_POLL_MS = 1_500;
/** How often the location list itself is re-read from Postgres. */
const FLEET_REFRESH_MS = 5_000;
/** How often every location's error count is recomputed (it also ages out); otherwise only where requestsServed moved. */
const ERRORS_REFRESH_MS = 15_000;
/** A socket that has not signed in within this long is closed. */
const AUTH_TIMEOUT_MS = 10_000;

const CLOSE_UNAUTHORIZED = 4401;
/**
 * At most this many sockets wait to sign in at once; one more is closed at once (1013, try again later). Each waits
 * up to AUTH_TIMEOUT_MS holding a socket and a timer, so without a bound anyone who can reach the admin could hold
 * open as many as they liked; an operator's page signs in within a moment, so a real one rarely waits.
 */
export const CONSOLE_MAX_UNSIGNED = 64;
const CLOSE_TRY_AGAIN_LATER = 1013;

/** What the page is told while the states cannot be read (the `stale` of a snapshot or update). */
const STATES_UNAVAILABLE = 'connection states cannot be read right now; they show as unknown until they can';
const FLEET_UNAVAILABLE = 'the fleet cannot be read right now; what is shown may be out of date';

/** The fleet as read, and why it is not live when it is not (the page says so). */
interface FleetRead {
  items: FleetItem[];
  stale?: string;
}

/**
 * The console's live fleet, on ws://<admin>/console/ws. The page's first
 * message is `{"event":"auth","data":{"token":"<operator token>"}}` (never in
 * the URL); the answer is `{"event":"snapshot","data":{items}}`, then
 * `{"event":"update","data":{items,removed}}` with only what changed. The
 * admin reads the gateways' status records in Redis every CONSOLE_POLL_MS
 * while at least one signed-in page is open. While they cannot be read (Redis
 * unavailable), the locations (from Postgres) show with state `unknown`, and
 * the snapshot and updates carry `stale` (why the page is not live) until a
 * read succeeds again: an update without `stale` says so.
 */
// The page only ever sends its sign-in message: anything larger than 16 KiB closes the socket (1009).
@WebSocketGateway({ path: '/console/ws', maxPayload: 16 * 1024, perMessageDeflate: false })
export class ConsoleGateway implements OnGatewayConnection, OnGatewayDisconnect, OnModuleDestroy {
  private readonly authed = new Set<WebSocket>();
  private readonly timers = new Map<WebSocket, NodeJS.Timeout>();
  private readonly repo: LocationActivityRepository;
  private fleet: FleetRow[] = [];
  private fleetAt = 0;
  private errorsAt = 0;
  private readonly errors = new Map<string, number>();
  private readonly served = new Map<string, number>();
  /** When each location's requestsServed last moved (as seen here). */
  private readonly activeAt = new Map<string, number>();
  /** What each client was last sent, per location, as JSON. */
  private last = new Map<string, string>();
  /** The `stale` the signed-in pages were last sent (undefined: live). */
  private sentStale: string | undefined;
  private pollTimer?: NodeJS.Timeout;
  private polling = false;
  private closed = false;

  constructor(
    @Inject(PRISMA) prisma: PrismaClient,
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(CONFIG) private readonly config: AdminConfig,
    @Inject(LOGGER) private readonly logger: Logger,
    private readonly operators: OperatorGuard,
  ) {
    this.repo = new LocationActivityRepository(prisma);
  }

  handleConnection(client: WebSocket): void {
    if (this.timers.size >= CONSOLE_MAX_UNSIGNED) {
      client.close(CLOSE_TRY_AGAIN_LATER, 'too many sockets waiting to sign in; try again later');
      return;
    }
    const t = setTimeout(() => client.close(CLOSE_UNAUTHORIZED, 'sign in first'), AUTH_TIMEOUT_MS);
    t.unref();
    this.timers.set(client, t);
  }

  handleDisconnect(client: WebSocket): void {
    clearTimeout(this.timers.get(client));
    this.timers.delete(client);
    this.authed.delete(client);
  }

  @SubscribeMessage('auth')
  async onAuth(@ConnectedSocket() client: WebSocket, @MessageBody() data: unknown): Promise<void> {
    const token = typeof (data as { token?: unknown })?.token === 'string' ? (data as { token: string }).token : '';
    if (!token || !this.operators.accepts(token)) {
      send(client, 'error', { message: 'the operator token is not valid' });
      client.close(CLOSE_UNAUTHORIZED, 'the operator token is not valid');
      return;
    }
    clearTimeout(this.timers.get(client));
    this.timers.delete(client);
    try {
      const { items, stale } = await this.read(true);
      if (client.readyState !== WebSocket.OPEN) return;
      // The first watcher's snapshot is the baseline of the diffs. With others already watching, the baseline
      // stays theirs: the next update may repeat to this page what its snapshot already showed (harmless).
      if (this.authed.size === 0) {
        this.last.clear();
        for (const i of items) this.last.set(i.id, JSON.stringify(i));
        this.sentStale = stale;
      }
      this.authed.add(client);
      send(client, 'snapshot', { items, at: new Date().toISOString(), pollMs: CONSOLE_POLL_MS, ...(stale ? { stale } : {}) });
      this.schedule();
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'console: could not read the fleet');
      send(client, 'error', { message: 'the fleet cannot be read right now' });
      client.close(1011, 'fleet unavailable');
    }
  }

  onModuleDestroy(): void {
    this.closed = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    for (const c of this.authed) c.close(1001, 'going away');
    for (const t of this.timers.values()) clearTimeout(t);
  }

  private schedule(): void {
    if (this.pollTimer || this.polling || this.closed) return;
    this.pollTimer = setTimeout(() => void this.poll(), CONSOLE_POLL_MS);
    this.pollTimer.unref();
  }

  private async poll(): Promise<void> {
    this.pollTimer = undefined;
    if (this.authed.size === 0 || this.closed) {
      this.last.clear();
      return;
    }
    this.polling = true;
    try {
      let read: FleetRead | undefined;
      try {
        read = await this.read(false);
      } catch (err) {
        // The location list itself (Postgres) could not be read: no row changes, but the page is told it is not live.
        this.logger.warn({ err: (err as Error).message }, 'console: status poll failed');
      }
      const stale = read ? read.stale : FLEET_UNAVAILABLE;
      const { changed, removed } = read ? this.diff(read.items) : { changed: [], removed: [] };
      // Every change of liveness is pushed, even with no row changed, so a page never shows "Live" over stale states.
      if (changed.length || removed.length || stale !== this.sentStale) {
        const at = new Date().toISOString();
        for (const c of this.authed) send(c, 'update', { items: changed, removed, at, ...(stale ? { stale } : {}) });
        this.sentStale = stale;
      }
    } finally {
      this.polling = false;
      this.schedule();
    }
  }

  /** What changed since the pages were last sent the fleet (this.last, brought up to date). */
  private diff(items: FleetItem[]): { changed: FleetItem[]; removed: string[] } {
    const removed = new Set(this.last.keys());
    const changed: FleetItem[] = [];
    for (const item of items) {
      removed.delete(item.id);
      const json = JSON.stringify(item);
      if (this.last.get(item.id) !== json) {
        this.last.set(item.id, json);
        changed.push(item);
      }
    }
    for (const id of removed) this.last.delete(id);
    return { changed, removed: [...removed] };
  }

  /**
   * The fleet with live statuses; `full` re-reads everything (a new page's snapshot). Throws only when the location
   * list (Postgres) cannot be read: when the statuses (Redis) cannot, every location is `unknown` and `stale` says so.
   */
  private async read(full: boolean): Promise<FleetRead> {
    const now = Date.now();
    if (full || now - this.fleetAt >= FLEET_REFRESH_MS) {
      this.fleet = await this.repo.fleet();
      this.fleetAt = now;
    }
    let statuses: Map<string, ConnectionStatus>;
    try {
      statuses = await this.readStatuses(full, now);
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'console: connection statuses cannot be read; the fleet shows them as unknown');
      // The error counts come from Redis too: the last ones read are kept (the page says it is not live).
      return { items: this.fleet.map((f) => toItem(f, undefined, this.errors.get(f.id) ?? 0, 'unknown')), stale: STATES_UNAVAILABLE };
    }
    return { items: this.fleet.map((f) => toItem(f, statuses.get(f.id), this.errors.get(f.id) ?? 0)) };
  }

  /** The fleet's status records, and its error counts brought up to date (both from Redis). */
  private async readStatuses(full: boolean, now: number): Promise<Map<string, ConnectionStatus>> {
    const ids = this.fleet.map((f) => f.id);
    const statuses = await readConnectionStatuses(this.redis, this.config.QUEUE_PREFIX, ids);
    // Errors in the last 5 minutes, from the request records. Recounted where requestsServed moved; every
    // ERRORS_REFRESH_MS also where errors are shown (they age out) or requests were served in the window; all of
    // them for a new page's snapshot. Venues idle for longer cost nothing.
    const periodic = now - this.errorsAt >= ERRORS_REFRESH_MS;
    if (periodic || full) this.errorsAt = now;
    const recount: string[] = [];
    for (const id of ids) {
      const served = statuses.get(id)?.requestsServed ?? 0;
      const moved = this.served.has(id) && served !== this.served.get(id);
      if (moved) this.activeAt.set(id, now);
      this.served.set(id, served);
      const recent = now - (this.activeAt.get(id) ?? 0) < 5 * 60_000 + ERRORS_REFRESH_MS;
      if (full || moved || !this.errors.has(id) || (periodic && ((this.errors.get(id) ?? 0) > 0 || recent))) recount.push(id);
    }
    if (recount.length) for (const [id, n] of await countRecentErrors(this.redis, this.config.QUEUE_PREFIX, recount, 5 * 60_000, now)) this.errors.set(id, n);
    return statuses;
  }
}

function toItem(f: FleetRow, s: ConnectionStatus | undefined, errorsLast5m: number, noStatus = 'unowned'): FleetItem {
  return {
    ...f,
    state: s?.state ?? noStatus,
    replicaId: s?.replicaId ?? null,
    // No record (no replica reports on it): readConnectionStatuses stamps `since` with the time of reading; not shown.
    since: s?.updatedAt ? s.since : null,
    lastPongAt: s?.lastPongAt ?? null,
    reconnects: s?.reconnects ?? 0,
    requestsServed: s?.requestsServed ?? 0,
    errorsLast5m,
    lastError: s?.lastError ?? null,
    nextAttemptAt: s?.nextAttemptAt ?? null,
  };
}

function send(client: WebSocket, event: string, data: unknown): void {
  if (client.readyState === WebSocket.OPEN) client.send(JSON.stringify({ event, data }));
}
