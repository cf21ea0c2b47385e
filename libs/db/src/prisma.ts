import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from './generated/prisma/client';
import { SqlRunner } from './sql-runner';
import type { AnnouncementCounts } from './announcements';
import { ANNOUNCES_AFTER_COMMIT_PREFIX, ChangeAnnouncer } from './announcements';

export interface PrismaOptions {
  /** Pool size (pg's default of 10 when omitted). */
  poolSize?: number;
  /** How long a pooled connection may sit idle before it is closed (DB_POOL_IDLE_TIMEOUT_MS); 0 or omitted: never. */
  idleTimeoutMs?: number;
  /** How long a query waits for a pooled connection before failing. Prisma 7 over pg sets none by default. */
  acquireTimeoutMs?: number;
  /** Named prepared statements for sqlRunner()'s statements (DB_PREPARED_STATEMENTS); off by default. */
  preparedStatements?: boolean;
  /** Most connections sqlRunner()'s read() keeps busy at once, reads that wait going out together (DB_READ_LANES); 0 (default): off. */
  readLanes?: number;
  /**
   * The pool's connections announce their order changes after the commit (ChangeAnnouncer; DB_ANNOUNCE_AFTER_COMMIT),
   * not in it. Default true.
   */
  announceAfterCommit?: boolean;
  /** The app's name, in the connections' application_name (`epos-relay/<app>`, or `epos-relay <app>`). Default `app`. */
  app?: string;
  /** Where the announcer says that it could not announce yet (any pino logger). */
  log?: { warn(obj: object, msg: string): void };
  /** What the announcer reports (the app's metrics). */
  announcementCounts?: AnnouncementCounts;
}

const runners = new WeakMap<PrismaClient, SqlRunner>();

export function createPrisma(databaseUrl: string, opts: PrismaOptions = {}): PrismaClient {
  const afterCommit = opts.announceAfterCommit ?? true;
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: opts.poolSize ?? 10,
    connectionTimeoutMillis: opts.acquireTimeoutMs ?? 5_000,
    // pg's 0 keeps idle connections open (its default would close them after 10 s).
    idleTimeoutMillis: opts.idleTimeoutMs ?? 0,
    // Held connections may sit idle for hours: TCP keepalive after 30 s idle keeps a NAT or load balancer on the way
    // from dropping them silently (AWS NAT gateways forget a flow after 350 s), and lets the kernel find a dead peer,
    // which the pool then removes (its 'error' listener below) instead of handing it to the next query.
    keepAlive: true,
    keepAliveInitialDelayMillis: 30_000,
    // The order tables' trigger announces after the commit on connections so named (announcements.ts).
    application_name: `${afterCommit ? ANNOUNCES_AFTER_COMMIT_PREFIX : 'epos-relay '}${opts.app ?? 'app'}`,
  });
  const announcer = afterCommit ? new ChangeAnnouncer({ url: databaseUrl, log: opts.log, counts: opts.announcementCounts }) : undefined;
  if (announcer) pool.on('connect', (c) => announcer.watch(c));
  // An idle connection that fails (Postgres restarted, the database dropped) is removed by the pool itself;
  // the next query opens a new one. Without a listener the 'error' event would crash the process.
  pool.on('error', () => undefined);
  // Prisma and sqlRunner() share the one pool; $disconnect() ends it, also when only sqlRunner() used it
  // (Prisma then never connected, and would leave an external pool open).
  const client = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  const disconnect = client.$disconnect.bind(client);
  client.$disconnect = async () => {
    try {
      await disconnect();
      if (!pool.ended) await pool.end();
    } finally {
      // What the last transactions changed is announced before the announcer's connection closes.
      await announcer?.close();
    }
  };
  runners.set(client, new SqlRunner(pool, opts.preparedStatements ?? false, opts.readLanes ?? 0));
  return client;
}

/**
 * Raw SQL on the client's own pg pool, without Prisma's runtime (see SqlRunner);
 * undefined for a client that createPrisma did not make.
 */
export function sqlRunner(prisma: PrismaClient): SqlRunner | undefined {
  return runners.get(prisma);
}
