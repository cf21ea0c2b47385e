import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { freePort } from '@app/infra';
import type { TestDatabase } from '@app/testing';
import { appEnv, createTestDatabase, uniquePrefix, waitFor } from '@app/testing';
import type { TerminalProcess } from './terminal';
import { assertPortsClosed, closeTerminal, pressCtrlC, processesLeft, spawnInTerminal, stackPorts, startEnv } from './terminal';

const dist = join(__dirname, '..', '..');

async function healthy(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/health`)).ok;
  } catch {
    return false;
  }
}

function childrenOf(pid: number): Array<{ pid: number; args: string }> {
  const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => ({ pid: Number(l.split(/\s+/)[0]), args: l.replace(/^\d+\s+/, '') }));
}

describe('Ctrl-C in a terminal (SIGINT to the whole process group)', () => {
  let db: TestDatabase;
  const running: TerminalProcess[] = [];
  before(async () => {
    db = await createTestDatabase('lifecycle');
  });
  after(async () => {
    for (const t of running) t.kill();
    await db.drop();
  });

  it('stops one app alone within 15 s, exit code 0, port closed', async () => {
    const port = await freePort();
    const term = spawnInTerminal(
      join(dist, 'apps', 'admin', 'src', 'main.js'),
      { PATH: process.env.PATH, ...appEnv(db, { PORT: String(port), ADMIN_OPERATOR_TOKENS: 'operator-token-lifecycle-01', QUEUE_PREFIX: uniquePrefix('lc') }) },
    );
    running.push(term);
    await waitFor(() => healthy(port), 'the admin app to answer /health', 60_000, 100);
    const stop = await pressCtrlC(term);
    assert.equal(stop.code, 0, term.output());
    assert.ok(stop.seconds < 15, `stopped ${stop.seconds} s after Ctrl-C`);
    await assertPortsClosed({ admin: port }, term.output());
    assert.deepEqual(processesLeft(term.child.pid!, []), []);
  });

  it('stops one app alone on a hang-up (the terminal closed) as on Ctrl-C: exit code 0, port closed', async () => {
    const port = await freePort();
    const term = spawnInTerminal(
      join(dist, 'apps', 'admin', 'src', 'main.js'),
      { PATH: process.env.PATH, ...appEnv(db, { PORT: String(port), ADMIN_OPERATOR_TOKENS: 'operator-token-lifecycle-01', LOG_LEVEL: 'info', QUEUE_PREFIX: uniquePrefix('lc') }) },
    );
    running.push(term);
    await waitFor(() => healthy(port), 'the admin app to answer /health', 60_000, 100);
    const stop = await closeTerminal(term);
    assert.equal(stop.signal, null, `ended by ${stop.signal}, not by closing:\n${term.output()}`);
    assert.equal(stop.code, 0, term.output());
    assert.ok(stop.seconds < 15, `stopped ${stop.seconds} s after the hang-up`);
    assert.match(term.output(), /"signal":"SIGHUP".*shutting down/);
    await assertPortsClosed({ admin: port }, term.output());
  });

  it('bounds an app\'s shutdown: past SHUTDOWN_TIMEOUT_MS it says what it still waits for and exits 1', async () => {
    const port = await freePort();
    const term = spawnInTerminal(
      join(dist, 'apps', 'admin', 'src', 'main.js'),
      { PATH: process.env.PATH, ...appEnv(db, { PORT: String(port), ADMIN_OPERATOR_TOKENS: 'operator-token-lifecycle-01', LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_MS: '2000' }) },
    );
    running.push(term);
    await waitFor(() => healthy(port), 'the admin app to answer /health', 60_000, 100);
    // A client that never finishes its request: the HTTP server cannot close while it is in progress.
    const slow = connect({ port, host: '127.0.0.1' });
    await new Promise<void>((resolve) => slow.once('connect', () => resolve()));
    slow.on('error', () => undefined); // the app drops this slow client on purpose
    slow.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    try {
      const stop = await pressCtrlC(term);
      assert.equal(stop.code, 1, term.output().slice(-3000));
      assert.ok(stop.seconds >= 1.9 && stop.seconds < 6, `stopped ${stop.seconds} s after Ctrl-C`);
      assert.match(term.output(), /shutdown did not finish within 2000 ms \(SHUTDOWN_TIMEOUT_MS\); still waiting for the HTTP server to close/);
      await assertPortsClosed({ admin: port }, term.output());
    } finally {
      slow.destroy();
    }
  });

  it('stops npm start on a hang-up while it is still starting Postgres: nothing left running, no data directory', async () => {
    const [admin, gateway, worker, webhook, sandbox] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    const tmp = tmpdir();
    const term = spawnInTerminal(join(dist, 'scripts', 'start.js'), startEnv({ admin, gateway, worker, webhook, sandbox }, {
      TMPDIR: tmp,
      EPOS_RELAY_PG_NON_DURABLE: '1', // a quicker initdb; durability is not what this is about
      EPOS_RELAY_NO_APT: '1',
      EPOS_RELAY_NO_DOCKER: '1',
    }));
    running.push(term);
    const pid = term.child.pid!;
    const left = () => readdirSync(tmp).filter((n) => n.startsWith(`epos-relay-pg-${pid}-`));
    // The server is starting (its postmaster.pid written, not yet ready to accept connections): the stack is still
    // starting. initdb's standalone backends write the file too, with their pid negated.
    const postmaster = () =>
      left().some((n) => {
        try {
          return Number(readFileSync(join(tmp, n, 'postmaster.pid'), 'utf8').split('\n')[0]) > 0;
        } catch {
          return false;
        }
      });
    await waitFor(() => postmaster() || term.child.exitCode !== null, 'npm start to start its Postgres server', 60_000, 10);
    const stop = await closeTerminal(term);
    assert.equal(stop.signal, null, `ended by ${stop.signal}, not by stopping:\n${term.output()}`);
    assert.equal(stop.code, 0, term.output());
    assert.doesNotMatch(term.output(), /start failed/);
    const stack = stackPorts(term.output());
    await assertPortsClosed({ admin, gateway, worker, webhook, sandbox, ...stack }, term.output());
    const patterns = [`epos-relay-pg-${pid}-`, ...(stack.redis ? [`redis-server 127.0.0.1:${stack.redis}`] : [])];
    assert.deepEqual(processesLeft(pid, patterns), [], term.output());
    assert.deepEqual(left(), [], `the data directory and its log are removed:\n${term.output()}`);
  });

  it('stops npm start within 15 s even after an app and Postgres died from a signal, the apps\' drain included', async () => {
    const [admin, gateway, worker, webhook, sandbox] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    const term = spawnInTerminal(join(dist, 'scripts', 'start.js'), startEnv({ admin, gateway, worker, webhook, sandbox }, {
      EPOS_RELAY_NO_APT: '1',
      EPOS_RELAY_NO_DOCKER: '1',
      // A drain longer than the close's own deadline and its margin: npm start must wait for both.
      SHUTDOWN_DRAIN_MS: '6000',
      SHUTDOWN_TIMEOUT_MS: '3000',
    }));
    running.push(term);
    const { child } = term;
    await waitFor(() => term.output().includes('keeps running') || child.exitCode !== null, 'the platform to start', 90_000, 100);
    assert.equal(child.exitCode, null, term.output());
    const stack = stackPorts(term.output());

    const workerApp = childrenOf(child.pid!).find((c) => c.args.includes(join('apps', 'worker', 'src', 'main.js')));
    assert.ok(workerApp, 'the worker process');
    process.kill(workerApp.pid, 'SIGKILL');
    const postmaster = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
      .split('\n')
      .find((l) => l.includes(`epos-relay-pg-${child.pid}-`) && l.includes(' -D '));
    assert.ok(postmaster, 'the Postgres server process');
    process.kill(Number(postmaster.trim().split(/\s+/)[0]), 'SIGKILL');
    await waitFor(() => term.output().includes('worker exited (SIGKILL)'), 'npm start to notice the worker died', 10_000, 50);

    const stop = await pressCtrlC(term);
    assert.equal(stop.code, 0, term.output());
    assert.ok(stop.seconds >= 6 && stop.seconds < 15, `stopped ${stop.seconds} s after Ctrl-C`);
    await assertPortsClosed({ admin, gateway, worker, webhook, sandbox, ...stack }, term.output());
    assert.deepEqual(processesLeft(child.pid!, [`epos-relay-pg-${child.pid}-`, `redis-server 127.0.0.1:${stack.redis}`]), [], term.output());
  });
});
