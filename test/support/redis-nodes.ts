/**
 * One redis-server process for the Redis topology tests (redis-cluster.ts, redis-sentinel.ts), on a port of its
 * own, with its log in `dir`.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Redis from 'ioredis';
import { freePort, stopChild, waitForPort } from '@app/infra';

export interface RedisNode {
  port: number;
  child: ChildProcess;
}

/** A port no other node of this topology uses (freePort may hand the same free port out twice). */
export async function distinctFreePort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (!taken.has(port)) {
      taken.add(port);
      return port;
    }
  }
}

/**
 * Starts `bin` with the arguments `args(port)` gives for a free port, and waits until it listens there. A port
 * found free can be taken by another process before redis-server binds it (other test files start servers at the
 * same time), so a node that does not listen is started again on a new port, up to three times.
 */
export async function startRedisNode(bin: string, taken: Set<number>, args: (port: number) => Promise<string[]> | string[]): Promise<RedisNode> {
  for (let attempt = 1; ; attempt++) {
    const port = await distinctFreePort(taken);
    const child = spawn(bin, await args(port), { stdio: ['ignore', 'ignore', 'inherit'] });
    try {
      await waitForPort(port, '127.0.0.1', 15_000);
      return { port, child };
    } catch (err) {
      await stopChild(child, [['SIGKILL', 2_000]]);
      if (attempt >= 3) throw err;
    }
  }
}

/** The arguments every test node shares: loopback only, no persistence, in the foreground, its log in `dir`. */
export function nodeArgs(dir: string, port: number): string[] {
  return ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--logfile', join(dir, `redis-${port}.log`),
    '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'];
}

/** Whether the node's process is still running. */
export const alive = (n: RedisNode) => n.child.exitCode === null && n.child.signalCode === null;

/** Runs `fn` on a fresh connection to the node at `port` (no retries: a node that does not answer fails it), then closes it. */
export async function askNode<T>(port: number, fn: (c: Redis) => Promise<T>): Promise<T> {
  const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await c.connect();
    return await fn(c);
  } finally {
    c.disconnect();
  }
}
