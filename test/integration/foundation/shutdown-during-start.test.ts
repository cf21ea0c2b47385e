import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { waitFor } from '@app/testing';

/** This file runs from <out>/test/integration/foundation; the fixture app is <out>/test/support/slow-start-app.js. */
const APP = join(__dirname, '..', '..', 'support', 'slow-start-app.js');

/** Starts the fixture app; resolves with its log messages (in order) and how it ended once it has. */
function startSlowApp(startDelayMs: number, shutdownTimeoutMs: number) {
  const child = spawn(process.execPath, [APP, String(startDelayMs), String(shutdownTimeoutMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: string[] = [];
  child.stdout.on('data', (d) => out.push(String(d)));
  child.stderr.on('data', (d) => out.push(String(d)));
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('close', (code, signal) => r({ code, signal })));
  const lines = () =>
    out
      .join('')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { msg: string; waitingFor?: string[] });
  return { child, out, ended, lines };
}

/**
 * bootstrapHttpApp handles SIGTERM/SIGINT from before listen(): Nest's init runs the onApplicationBootstrap hooks
 * there, and the worker's start consuming their queues in them. A supervisor's stop in that window used to meet
 * Node's default action (the process killed by the signal, no hook closed, log lines lost).
 */
describe('a signal while the app is still starting', () => {
  it('closes gracefully once the start has finished: the hooks that started are closed, exit 0', async () => {
    const app = startSlowApp(1_500, 5_000);
    try {
      await waitFor(() => app.lines().some((l) => l.msg === 'slow start begun') || undefined, `the slow hook began:\n${app.out.join('')}`, 20_000, 20);
      app.child.kill('SIGTERM');
      const { code, signal } = await app.ended;
      const msgs = app.lines().map((l) => l.msg);
      assert.equal(signal, null, `ended by ${signal}, not by its own exit:\n${app.out.join('')}`);
      assert.equal(code, 0, app.out.join(''));
      const order = ['slow start begun', 'slow-start shutting down', 'slow start finished', 'slow-start listening', 'slow start service closed', 'slow-start stopped'];
      assert.deepEqual(
        msgs.filter((m) => order.includes(m)),
        order,
      );
    } finally {
      if (app.child.exitCode === null) app.child.kill('SIGKILL');
    }
  });

  it('a start that never finishes still ends at SHUTDOWN_TIMEOUT_MS (exit 1), naming the start as what it waited for', async () => {
    const app = startSlowApp(600_000, 800);
    try {
      await waitFor(() => app.lines().some((l) => l.msg === 'slow start begun') || undefined, `the slow hook began:\n${app.out.join('')}`, 20_000, 20);
      const signalled = Date.now();
      app.child.kill('SIGTERM');
      const { code } = await app.ended;
      assert.equal(code, 1, app.out.join(''));
      assert.ok(Date.now() - signalled < 5_000, `exited ${Date.now() - signalled} ms after SIGTERM`);
      const timedOut = app.lines().find((l) => l.msg.includes('did not finish within 800 ms'));
      assert.ok(timedOut, app.out.join(''));
      assert.ok(timedOut.waitingFor?.some((w) => w.includes('finish starting')), JSON.stringify(timedOut.waitingFor));
      assert.ok(!app.lines().some((l) => l.msg === 'slow start service closed'), 'no close hook ran beside the unfinished start');
    } finally {
      if (app.child.exitCode === null) app.child.kill('SIGKILL');
    }
  });
});
