/**
 * Redis behind Sentinel for tests: a master, its replica and one Sentinel
 * (quorum 1) watching them, each a redis-server process. A master killed with
 * kill -9 is declared down after one second and its replica promoted; the
 * apps follow it through REDIS_URL=redis+sentinel://.
 */
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Redis from 'ioredis';
import { findRedisServer, stopChild } from '@app/infra';
import { waitFor } from '@app/testing';
import type { RedisNode } from './redis-nodes';
import { alive, askNode, nodeArgs, startRedisNode } from './redis-nodes';

/** The master's name at the Sentinel. */
const MASTER = 'epos';

export class RedisSentinelProcesses {
  private constructor(
    readonly nodes: RedisNode[],
    readonly sentinel: RedisNode,
    private readonly dir: string,
  ) {}

  /** REDIS_URL for the apps. */
  get url(): string {
    return `redis+sentinel://127.0.0.1:${this.sentinel.port}/${MASTER}`;
  }

  static async start(): Promise<RedisSentinelProcesses> {
    const bin = findRedisServer();
    if (!bin) throw new Error('redis-server is not installed');
    const dir = mkdtempSync(join(tmpdir(), 'epos-redis-sentinel-'));
    const nodes: RedisNode[] = [];
    const children: RedisNode[] = [];
    // If the file ends without stop() (a timeout, a force exit), the processes must not outlive it.
    process.once('exit', () => {
      for (const n of children) if (alive(n)) n.child.kill('SIGKILL');
    });
    const taken = new Set<number>();
    let sentinel: RedisNode | undefined;
    try {
      const master = await startRedisNode(bin, taken, (port) => nodeArgs(dir, port));
      nodes.push(master);
      children.push(master);
      const replica = await startRedisNode(bin, taken, (port) => [...nodeArgs(dir, port), '--replicaof', '127.0.0.1', String(master.port)]);
      nodes.push(replica);
      children.push(replica);
      sentinel = await startRedisNode(bin, taken, (port) => {
        // Sentinel rewrites its own configuration file: one per start, in the topology's directory.
        const conf = join(dir, `sentinel-${port}.conf`);
        writeFileSync(conf, [
          `port ${port}`, 'bind 127.0.0.1', `dir ${dir}`, `logfile ${join(dir, `sentinel-${port}.log`)}`,
          `sentinel monitor ${MASTER} 127.0.0.1 ${master.port} 1`,
          `sentinel down-after-milliseconds ${MASTER} 1000`,
          `sentinel failover-timeout ${MASTER} 10000`,
          '',
        ].join('\n'));
        return [conf, '--sentinel'];
      });
      children.push(sentinel);
      const topology = new RedisSentinelProcesses(nodes, sentinel, dir);
      await topology.waitWatched();
      return topology;
    } catch (err) {
      await Promise.all(children.map((n) => stopChild(n.child, [['SIGKILL', 2_000]])));
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  private ask<T>(fn: (c: Redis) => Promise<T>, port = this.sentinel.port): Promise<T> {
    return askNode(port, fn);
  }

  /** The node the Sentinel names as master now. */
  async master(): Promise<RedisNode> {
    const [, port] = (await this.ask((c) => c.call('SENTINEL', 'get-master-addr-by-name', MASTER))) as [string, string];
    const node = this.nodes.find((n) => n.port === Number(port));
    if (!node) throw new Error(`the Sentinel names an unknown master (port ${port})`);
    return node;
  }

  /** The Sentinel knows the master and a replica that is in sync with it. */
  private async waitWatched(timeoutMs = 20_000): Promise<void> {
    await waitFor(
      async () => {
        try {
          const replicas = (await this.ask((c) => c.call('SENTINEL', 'replicas', MASTER))) as string[][];
          const master = await this.master();
          const info = await this.ask((c) => c.info('replication'), master.port);
          return replicas.length >= 1 && /connected_slaves:1/.test(info) && /state=online/.test(info);
        } catch {
          return false;
        }
      },
      'the Sentinel watching a master and its replica',
      timeoutMs,
      100,
    );
  }

  /** kill -9 of the master; resolves once it is gone. */
  async kill9(node: RedisNode): Promise<void> {
    await stopChild(node.child, [['SIGKILL', 5_000]]);
  }

  /** Waits until the Sentinel names a live master other than `dead`, and that node says it is one. */
  async waitPromoted(dead: RedisNode, timeoutMs = 60_000): Promise<RedisNode> {
    return waitFor(
      async () => {
        const m = await this.master().catch(() => undefined);
        if (!m || m === dead || !alive(m)) return undefined;
        const role = await this.ask((c) => c.info('replication'), m.port).catch(() => '');
        return /role:master/.test(role) ? m : undefined;
      },
      'the replica promoted by the Sentinel',
      timeoutMs,
      100,
    );
  }

  async stop(): Promise<void> {
    await Promise.all([...this.nodes, this.sentinel].map((n) => stopChild(n.child, [['SIGTERM', 3_000], ['SIGKILL', 2_000]])));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
