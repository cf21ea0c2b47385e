/**
 * The forms REDIS_URL takes (README "Redis"):
 *
 * - `redis://[[user]:password@]host:port[/db]` (or `rediss://` for TLS): one Redis;
 * - `redis+cluster://[[user]:password@]host1:port1,host2:port2,...` (or
 *   `rediss+cluster://`): a Redis Cluster, reached through any of the seed nodes
 *   (ioredis then learns the others); no database number, Cluster has only 0;
 * - `redis+sentinel://[[user]:password@]sentinel1:26379,sentinel2:26379/<master name>[/db][?sentinelPassword=...]`
 *   (or `rediss+sentinel://`): the master the Sentinels name, followed across
 *   failovers. The credentials are the data nodes'; `sentinelPassword` (and
 *   `sentinelUsername`) those of the Sentinels when they need any;
 * - `redis+unix:///absolute/path/to/redis.sock[?db=N][&username=...][&password=...]`:
 *   one Redis on this machine, over its Unix socket (`unixsocket` in redis.conf).
 */
export type RedisTarget =
  | { kind: 'single'; url: string }
  | { kind: 'socket'; path: string; db: number; username?: string; password?: string }
  | { kind: 'cluster'; nodes: RedisNode[]; username?: string; password?: string; tls: boolean }
  | {
      kind: 'sentinel';
      sentinels: RedisNode[];
      name: string;
      db: number;
      username?: string;
      password?: string;
      sentinelUsername?: string;
      sentinelPassword?: string;
      tls: boolean;
    };

export interface RedisNode {
  host: string;
  port: number;
}

const SCHEME = /^(rediss?)(\+(cluster|sentinel))?:\/\/(.*)$/;
const SOCKET = /^redis\+unix:\/\/([^?#]*)(?:\?([^#]*))?$/;

/** Parses REDIS_URL; throws an Error whose message says what is wrong (never echoing a password). */
export function parseRedisUrl(url: string): RedisTarget {
  const socket = SOCKET.exec(url);
  if (socket) {
    const path = decodeURIComponent(socket[1]!);
    if (!path.startsWith('/')) throw new Error('a redis+unix:// URL names an absolute socket path: redis+unix:///run/redis/redis.sock');
    const params = new URLSearchParams(socket[2] ?? '');
    const db = params.get('db') ?? '0';
    if (!/^\d+$/.test(db)) throw new Error('the db parameter must be a number');
    return { kind: 'socket', path, db: Number(db), username: params.get('username') ?? undefined, password: params.get('password') ?? undefined };
  }
  const m = SCHEME.exec(url);
  if (!m) throw new Error('must start with redis://, rediss://, redis+cluster://, rediss+cluster://, redis+sentinel://, rediss+sentinel:// or redis+unix://');
  const [, base, , topology, rest] = m as unknown as [string, 'redis' | 'rediss', string | undefined, 'cluster' | 'sentinel' | undefined, string];
  if (!topology) {
    try {
      new URL(url);
    } catch {
      throw new Error('is not a valid URL');
    }
    return { kind: 'single', url };
  }
  const tls = base === 'rediss';
  const [beforeQuery, query = ''] = splitOnce(rest, '?');
  const [authority, path = ''] = splitOnce(beforeQuery, '/');
  const at = authority.lastIndexOf('@');
  const userinfo = at >= 0 ? authority.slice(0, at) : undefined;
  const hostList = at >= 0 ? authority.slice(at + 1) : authority;
  let username: string | undefined;
  let password: string | undefined;
  if (userinfo !== undefined) {
    const [u, p] = splitOnce(userinfo, ':');
    username = u ? decodeURIComponent(u) : undefined;
    password = p !== undefined ? decodeURIComponent(p) : undefined;
  }
  const nodes = hostList.split(',').map((h) => parseNode(h, topology === 'sentinel' ? 26379 : 6379));
  if (nodes.length === 0 || !hostList) throw new Error('names no host');
  const params = new URLSearchParams(query);
  if (topology === 'cluster') {
    if (path.replace(/\/$/, '') !== '' && path !== '0') throw new Error('a Redis Cluster URL takes no database number (Cluster has only database 0)');
    return { kind: 'cluster', nodes, username, password, tls };
  }
  const [name, dbText = '0'] = splitOnce(path.replace(/\/$/, ''), '/');
  if (!name) throw new Error('a Sentinel URL names the master after the hosts: redis+sentinel://host:26379/<master name>');
  if (!/^\d+$/.test(dbText)) throw new Error('the database after the master name must be a number');
  const sentinelUsername = params.get('sentinelUsername') ?? undefined;
  const sentinelPassword = params.get('sentinelPassword') ?? undefined;
  return { kind: 'sentinel', sentinels: nodes, name: decodeURIComponent(name), db: Number(dbText), username, password, sentinelUsername, sentinelPassword, tls };
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

function parseNode(text: string, defaultPort: number): RedisNode {
  // [v6]:port, host:port or host
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(text.trim());
  if (!m) throw new Error(`has a malformed host "${text}" (host:port expected)`);
  const port = m[3] ? Number(m[3]) : defaultPort;
  if (port < 1 || port > 65535) throw new Error(`has a port out of range in "${text}"`);
  return { host: (m[1] ?? m[2])!, port };
}
