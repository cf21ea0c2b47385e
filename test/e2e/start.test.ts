import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '@app/infra';

// The README's run command, end to end: its own Postgres and Redis, the sandbox,
// the four apps as processes, the demo venue, and a pay-at-table flow.
describe('npm start', () => {
  it('brings the platform up and shows a successful pay-at-table flow within a minute', async () => {
    const ports = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      EPOS_RELAY_NO_APT: '1',
      START_EXIT_AFTER_FLOW: '1',
      ADMIN_PORT: String(ports[0]),
      GATEWAY_PORT: String(ports[1]),
      WORKER_PORT: String(ports[2]),
      WEBHOOK_PORT: String(ports[3]),
      SANDBOX_PORT: String(ports[4]),
      LOG_LEVEL: 'warn',
    };
    const started = Date.now();
    const child = spawn(process.execPath, [join(__dirname, '..', '..', 'scripts', 'start.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    assert.equal(code, 0, out);
    const seconds = (Date.now() - started) / 1000;
    for (const step of ['SearchOrdersV1', 'GetOrderByIdV1', 'CreateOrderLockV1', 'RecordOrderPaymentByIdV1 (1/2)', 'RecordOrderPaymentByIdV1 (2/2)', 'DeleteOrderLockV1']) {
      assert.match(out, new RegExp(`ok\\s+${step.replace(/[()/]/g, '\\$&')}`), `step ${step} succeeded:\n${out}`);
    }
    assert.match(out, /pay-at-table: SUCCESS/);
    assert.match(out, /admin API docs\s+http:\/\/127\.0\.0\.1:\d+\/docs/);
    assert.match(out, /sandbox flows\s+http:\/\/127\.0\.0\.1:\d+\/flows/);
    assert.ok(seconds < 60, `took ${seconds} s`);
  });
});
