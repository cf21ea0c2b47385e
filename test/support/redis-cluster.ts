/**
 * A real Redis Cluster for tests: six redis-server processes (three masters,
 * three replicas) joined by `redis-cli --cluster create`, each with its own
 * client and bus port and a short node timeout so that a killed master's
 * replica takes over within a few seconds.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { findRedisServer, stopChild } from '@app/infra';
import { waitFor } from '@app/testing';
import type { RedisNode } from './redis-nodes';
import { alive, askNode, distinctFreePort, nodeArgs, startRedisNode } from './redis-nodes';

const run = promisify(execFile);

export type ClusterNode = RedisNode;

/** One cluster-enabled redis-server, listening (its bus port taken from the same pool). */
async function startNode(bin: string, dir: string, nodeTimeoutMs: number, taken: Set<number>): Promise<ClusterNode> {
  return startRedisNode(bin, taken, async (port) => [
    ...nodeArgs(dir, port), '--cluster-port', String(await distinctFreePort(taken)), '--cluster-enabled', 'yes',
    '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', String(nodeTimeoutMs),
    // A replica may take over however long its link to the master was down (a loaded machine delays pings).
    '--cluster-replica-validity-factor', '0',
  ]);
}

export class RedisClusterProcesses {
  private constructor(
    readonly nodes: ClusterNode[],
    private readonly dir: string,
  ) {}

  /** REDIS_URL for the apps: every node as a seed. */
  get url(): string {
    return `redis+cluster://${this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`;
  }

  static async start(nodeTimeoutMs = 1_000): Promise<RedisClusterProcesses> {
    const bin = findRedisServer();
    if (!bin) throw new Error('redis-server is not installed');
    const cli = bin.replace(/redis-server$/, 'redis-cli');
    const dir = mkdtempSync(join(tmpdir(), 'epos-redis-cluster-'));
    const nodes: ClusterNode[] = [];
    const cluster = new RedisClusterProcesses(nodes, dir);
    // If the file ends without stop() (a timeout, a force exit), the nodes must not outlive it.
    process.once('exit', () => {
      for (const n of nodes) if (alive(n)) n.child.kill('SIGKILL');
    });
    try {
      const taken = new Set<number>();
      for (let i = 0; i < 6; i++) nodes.push(await startNode(bin, dir, nodeTimeoutMs, taken));
      await run(cli, ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes'], { timeout: 30_000 });
      await cluster.waitHealthy();
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  /** Every live node reports cluster_state:ok and sees three masters that each have a live replica... or at least a master per slot. */
  async waitHealthy(timeoutMs = 20_000): Promise<void> {
    await waitFor(
      async () => {
        for (const n of this.nodes) {
          if (!alive(n)) continue;
          const info = await askNode(n.port, async (c) => String(await c.cluster('INFO'))).catch(() => '');
          if (!/cluster_state:ok/.test(info) || !/cluster_slots_ok:16384/.test(info)) return false;
        }
        return true;
      },
      'redis cluster healthy',
      timeoutMs,
      100,
    );
  }

  /** The node (by port) that is master for the slot of `key`, asked of a live node. */
  async masterFor(key: string): Promise<ClusterNode> {
    const live = this.nodes.find((n) => alive(n))!;
    const c = new Redis({ port: live.port, host: '127.0.0.1' });
    try {
      const slot = Number(await c.cluster('KEYSLOT', key));
      const ranges = await c.cluster('SLOTS');
      const hit = ranges.find(([from, to]) => slot >= from && slot <= to);
      const port = hit?.[2]?.[1];
      const node = this.nodes.find((n) => n.port === port);
      if (!node) throw new Error(`no master for slot ${slot}`);
      return node;
    } finally {
      c.disconnect();
    }
  }

  /** Waits until a live node other than `dead` is master for the slot of `key` and the cluster is ok again. */
  async waitPromoted(key: string, dead: ClusterNode, timeoutMs = 60_000): Promise<ClusterNode> {
    const node = await waitFor(
      async () => {
        const m = await this.masterFor(key).catch(() => undefined);
        return m && m !== dead ? m : undefined;
      },
      'a replica promoted',
      timeoutMs,
      100,
    );
    await this.waitHealthy(timeoutMs);
    return node;
  }

  /** kill -9 of one node; resolves once it is gone. */
  async kill9(node: ClusterNode): Promise<void> {
    await stopChild(node.child, [['SIGKILL', 5_000]]);
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => stopChild(n.child, [['SIGTERM', 3_000], ['SIGKILL', 2_000]])));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
