/**
 * `npm start`: the whole platform on one machine, with no configuration.
 *
 * 1. Postgres and Redis: DATABASE_URL / REDIS_URL when given, else started for
 *    you (testcontainers where a Docker engine answers, else local processes).
 * 2. Migrations.
 * 3. The Dojo sandbox simulator (skipped when real Dojo settings are given:
 *    DOJO_API_KEY, DOJO_ACCOUNT_ID and DOJO_SOFTWARE_HOUSE_ID).
 * 4. The admin, webhook, worker and gateway apps, each its own process.
 * 5. The demo venue, onboarded through the admin API, with its tables and orders.
 *    Against real Dojo: the given account, named START_VENUE_NAME under
 *    START_SOFTWARE_HOUSE_NAME, with nothing seeded (a venue token is issued to
 *    load the venue's data through the venue API).
 * 6. A pay-at-table flow, printed step by step as Dojo's side sees it.
 * Ctrl-C (or SIGTERM, or the terminal closing: SIGHUP) stops everything: the apps (each bounded by
 * SHUTDOWN_TIMEOUT_MS), then the sandbox, Redis and Postgres (which run in their own process groups, so a
 * terminal's Ctrl-C does not stop them under the apps). A second Ctrl-C forces
 * it at once. Logs of each app go to .epos-relay/logs/<app>.log.
 *
 * START_EXIT_AFTER_FLOW=1 stops after the flow (exit code 0 when it succeeded).
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { env as e, loadConfig, ConfigError } from '@app/config';
import { createPrisma, migrate, SecretBox } from '@app/db';
import { DEMO, DEMO_ORDERS, seedDemoVenueData } from '@app/domain';
import { DojoSandbox, formatStep, paint, TABLES_PATH, TEST_CARDS, watchFlow } from '@app/dojo-sandbox';
import type { Stack } from '@app/infra';
import { redact, repoRoot, startStack, stopChild } from '@app/infra';

const APPS = ['admin', 'webhook', 'worker', 'gateway'] as const;
type AppName = (typeof APPS)[number];

function readConfig() {
  return loadConfig({
    DATABASE_URL: e.url(['postgres', 'postgresql']).optional(),
    REDIS_URL: e.redisUrl().optional(),
    EPOS_RELAY_ENCRYPTION_KEY: e.key32().optional(),
    ADMIN_OPERATOR_TOKENS: z.string().optional(),
    LOG_LEVEL: z.string().optional(),
    ADMIN_PORT: e.int(3000, 0, 65535),
    GATEWAY_PORT: e.int(3001, 0, 65535),
    WORKER_PORT: e.int(3002, 0, 65535),
    WEBHOOK_PORT: e.int(3003, 0, 65535),
    SANDBOX_PORT: e.int(4010, 0, 65535),
    DOJO_API_KEY: z.string().regex(/^sk_(sandbox|prod)_/, 'must start with sk_sandbox_ or sk_prod_').optional(),
    DOJO_ACCOUNT_ID: z.string().min(1).optional(),
    DOJO_SOFTWARE_HOUSE_ID: z.string().min(1).optional(),
    DOJO_RESELLER_ID: z.string().min(1).optional(),
    DOJO_API_URL: e.url(['http', 'https']).optional(),
    DOJO_WS_URL: e.url(['ws', 'wss']).optional(),
    START_EXIT_AFTER_FLOW: e.bool(false),
    START_TABLE: e.str('T1'),
    START_VENUE_NAME: z.string().min(1).max(200).optional(),
    START_SOFTWARE_HOUSE_NAME: z.string().min(1).max(200).optional(),
    SHUTDOWN_TIMEOUT_MS: e.int(10_000, 100, 600_000),
    SHUTDOWN_DRAIN_MS: e.int(0, 0, 120_000),
  });
}

const say = (line = '') => process.stdout.write(`${line}\n`);

async function waitHealthy(name: string, url: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited (${child.signalCode ?? child.exitCode}); see .epos-relay/logs/${name}.log`);
    }
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`${name} did not become healthy at ${url}/health within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

async function api<T>(base: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function main(): Promise<number> {
  let cfg: ReturnType<typeof readConfig>;
  try {
    cfg = readConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`cannot start: ${err.message}\n`);
      return 78;
    }
    throw err;
  }
  const realDojo = Boolean(cfg.DOJO_API_KEY && cfg.DOJO_ACCOUNT_ID && cfg.DOJO_SOFTWARE_HOUSE_ID);
  const root = repoRoot();
  const logDir = join(root, '.epos-relay', 'logs');
  mkdirSync(logDir, { recursive: true });
  const t0 = Date.now();
  const since = () => `${((Date.now() - t0) / 1000).toFixed(1)}s`;

  const children = new Map<AppName, ChildProcess>();
  let sandbox: DojoSandbox | undefined;
  let stack: Stack | undefined;
  // Redis and Postgres while they start: a stop then aborts the start, which stops what it has started.
  let stackStarting: Promise<Stack> | undefined;
  const starting = new AbortController();
  const gone = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;
  const within = <T>(p: Promise<T>, ms: number) =>
    // A stop that fails counts like one that times out: the caller escalates to SIGKILL either way.
    Promise.race([p.catch(() => undefined), new Promise<undefined>((r) => setTimeout(() => r(undefined), ms).unref())]);
  let stopping: Promise<number> | undefined;
  /**
   * Stops the apps, then the sandbox, Redis and Postgres; every wait is bounded.
   * Resolves to 0 when every app that was still running stopped gracefully.
   * Apps that had already died (a crash, a signal) are skipped: their exit code
   * is null then and their signalCode is set.
   */
  const stopAll = (): Promise<number> =>
    (stopping ??= (async () => {
      say(`\n${paint(2, 'stopping...')}`);
      let code = 0;
      // The apps' own deadline is SHUTDOWN_DRAIN_MS + SHUTDOWN_TIMEOUT_MS (they inherit both); past it and a margin, they are killed.
      const deadline = Date.now() + cfg.SHUTDOWN_DRAIN_MS + cfg.SHUTDOWN_TIMEOUT_MS + 2_000;
      const stopApp = async (name: AppName) => {
        const c = children.get(name);
        if (!c || gone(c)) return;
        // SIGTERM: an app that already got the terminal's SIGINT keeps closing (only a second SIGINT forces it).
        const stopped = await stopChild(c, [['SIGTERM', Math.max(0, deadline - Date.now())], ['SIGKILL', 2_000]]);
        if (!stopped || c.exitCode !== 0) {
          code = 1;
          say(paint(31, `  ${name} did not stop cleanly (${c.signalCode ?? c.exitCode ?? 'still running'}); see .epos-relay/logs/${name}.log`));
        }
      };
      // Gateway first (it hands its venues over and finishes in-flight replies), then the rest.
      await stopApp('gateway');
      await Promise.all(APPS.filter((n) => n !== 'gateway').map(stopApp));
      await within(sandbox?.close() ?? Promise.resolve(), 3_000);
      // Redis and Postgres last; their stops are bounded too, also when they died from a signal. Still starting,
      // they are told to stop, and the start ends once what it had started has stopped (its data directory gone).
      starting.abort();
      await within((stack ? stack.stop() : stackStarting?.then((s) => s.stop())) ?? Promise.resolve(), 20_000);
      return code;
    })());
  let firstSignalAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (!firstSignalAt) {
      firstSignalAt = Date.now();
      void stopAll().then(
        (code) => {
          say(code === 0 ? 'stopped.' : paint(31, 'stopped, not cleanly (exit code 1).'));
          process.exit(code);
        },
        (err: unknown) => {
          say(paint(31, `stop failed: ${(err as Error).message}`));
          process.exit(1);
        },
      );
      return;
    }
    // A SIGTERM or SIGHUP while stopping: the stop is already bounded. A SIGINT within a second of the
    // first is the same Ctrl-C delivered twice: `npm start` forwards the terminal's SIGINT to
    // this script, which the terminal has already signalled with its whole process group.
    if (signal !== 'SIGINT' || Date.now() - firstSignalAt < 1_000) return;
    // A second Ctrl-C: kill what is left at once; Redis and Postgres are told to stop as this process exits.
    say(`\n${paint(31, 'forced: killing the apps; Redis and Postgres are told to stop')}`);
    for (const c of children.values()) if (!gone(c)) c.kill('SIGKILL');
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // The terminal closing hangs up its jobs: SIGHUP, whose default would end this script at once and leave
  // Redis and Postgres (in their own process groups) running. It stops everything like SIGTERM.
  process.on('SIGHUP', onSignal);
  // Writes to a terminal that has gone fail (EIO): the stop must go on rather than end on an unhandled error.
  for (const out of [process.stdout, process.stderr]) out.on('error', () => undefined);

  try {
    say(paint(1, 'epos-relay: starting the platform'));
    stackStarting = startStack({ log: (m) => say(`  ${since()}  ${m}`), signal: starting.signal });
    stack = await stackStarting;
    const m = await migrate(stack.databaseUrl);
    say(`  ${since()}  migrations: ${m.applied.length} applied, ${m.alreadyApplied.length} already in place`);

    const encryptionKey = cfg.EPOS_RELAY_ENCRYPTION_KEY ?? SecretBox.developmentKey();
    const operatorToken = cfg.ADMIN_OPERATOR_TOKENS?.split(',')[0]?.trim() || `op_${randomBytes(18).toString('base64url')}`;
    const webhookSecret = `whsec_${randomBytes(24).toString('base64url')}`;
    const account = realDojo
      ? { apiKey: cfg.DOJO_API_KEY!, accountId: cfg.DOJO_ACCOUNT_ID!, softwareHouseId: cfg.DOJO_SOFTWARE_HOUSE_ID! }
      : { apiKey: DEMO.location.apiKey, accountId: DEMO.location.dojoAccountId, softwareHouseId: DEMO.softwareHouse.dojoSoftwareHouseId };
    const url = (port: number) => `http://127.0.0.1:${port}`;
    const ports: Record<AppName, number> = { admin: cfg.ADMIN_PORT, gateway: cfg.GATEWAY_PORT, worker: cfg.WORKER_PORT, webhook: cfg.WEBHOOK_PORT };

    let dojoApiUrl = cfg.DOJO_API_URL;
    let dojoWsUrl = cfg.DOJO_WS_URL;
    if (!realDojo) {
      sandbox = await DojoSandbox.start({ port: cfg.SANDBOX_PORT, host: '127.0.0.1' });
      sandbox.addAccount({
        apiKey: account.apiKey,
        softwareHouseId: account.softwareHouseId,
        accountId: account.accountId,
        webhookUrl: `${url(ports.webhook)}/webhooks/dojo`,
        webhookSecret,
      });
      // The second demo venue speaks Dojo's legacy Tables API (its account name is its account id).
      sandbox.addAccount({ apiKey: DEMO.tablesLocation.apiKey, softwareHouseId: account.softwareHouseId, accountId: DEMO.tablesLocation.dojoAccountId });
      // The third, a counter on Connect pay at counter: its token is the sandbox account's key on /pac.
      sandbox.addAccount({ apiKey: DEMO.counterLocation.apiKey, softwareHouseId: account.softwareHouseId, accountId: DEMO.counterLocation.dojoAccountId });
      dojoApiUrl = sandbox.url;
      dojoWsUrl = sandbox.wsUrl;
      say(`  ${since()}  Dojo sandbox simulator at ${sandbox.url} (socket ${sandbox.wsUrl})`);
    } else {
      say(`  ${since()}  real Dojo: ${dojoApiUrl ?? 'https://api.dojo.tech'} / ${dojoWsUrl ?? 'wss://eu.ws.dojo.tech/epos'}; no simulator`);
    }

    const appEnv: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: process.env.NODE_ENV ?? 'development',
      LOG_LEVEL: cfg.LOG_LEVEL ?? 'info',
      DATABASE_URL: stack.databaseUrl,
      REDIS_URL: stack.appsRedisUrl,
      EPOS_RELAY_ENCRYPTION_KEY: encryptionKey,
      ADMIN_OPERATOR_TOKENS: operatorToken,
      ...(dojoApiUrl ? { DOJO_API_URL: dojoApiUrl } : {}),
      ...(dojoWsUrl ? { DOJO_WS_URL: dojoWsUrl } : {}),
      // The simulator's own checkout page stands in for https://pay.dojo.tech/checkout.
      ...(sandbox ? { DOJO_CHECKOUT_URL: sandbox.checkoutBase } : {}),
    };
    // Stopping already (a signal while starting): start no app, which the stop might have passed by.
    if (stopping) throw new Error('stopped while starting');
    for (const name of APPS) {
      const log = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
      const child = spawn(process.execPath, ['--enable-source-maps', join(__dirname, '..', 'apps', name, 'src', 'main.js')], {
        env: { ...appEnv, PORT: String(ports[name]) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout?.pipe(log);
      child.stderr?.pipe(log);
      child.once('exit', (code, signal) => {
        if (!stopping) say(paint(31, `  ${name} exited (${signal ?? code}); see .epos-relay/logs/${name}.log`));
      });
      children.set(name, child);
    }
    await Promise.all(APPS.map((n) => waitHealthy(n, url(ports[n]), children.get(n)!)));
    say(`  ${since()}  apps healthy: ${APPS.map((n) => `${n} ${url(ports[n])}`).join(', ')}`);

    // Onboard the venue the way an operator would: through the admin API. Against real Dojo
    // the names are the user's (START_VENUE_NAME, START_SOFTWARE_HOUSE_NAME), never the demo's.
    const admin = url(ports.admin);
    const venueName = cfg.START_VENUE_NAME ?? (realDojo ? `Venue ${account.accountId}` : DEMO.location.name);
    const softwareHouseName = cfg.START_SOFTWARE_HOUSE_NAME ?? (realDojo ? `Software house ${account.softwareHouseId}` : DEMO.softwareHouse.name);
    let sh = await api<{ id: string }>(admin, operatorToken, 'POST', '/v1/software-houses', {
      name: softwareHouseName,
      dojoSoftwareHouseId: account.softwareHouseId,
      ...(cfg.DOJO_RESELLER_ID ? { resellerId: cfg.DOJO_RESELLER_ID } : {}),
    });
    if (sh.status === 409) {
      const list = await api<{ items: { id: string; dojoSoftwareHouseId: string }[] }>(admin, operatorToken, 'GET', '/v1/software-houses?limit=500');
      sh = { status: 200, body: list.body.items.find((x) => x.dojoSoftwareHouseId === account.softwareHouseId)! };
    }
    if (!sh.body?.id) throw new Error(`could not create the software house: ${JSON.stringify(sh.body)}`);
    let loc = await api<{ id: string }>(admin, operatorToken, 'POST', '/v1/locations', {
      name: venueName,
      softwareHouseId: sh.body.id,
      dojoAccountId: account.accountId,
      apiKey: account.apiKey,
    });
    if (loc.status === 409) {
      const list = await api<{ items: { id: string; dojoAccountId: string }[] }>(admin, operatorToken, 'GET', '/v1/locations?limit=500');
      loc = { status: 200, body: list.body.items.find((x) => x.dojoAccountId === account.accountId)! };
    }
    if (!loc.body?.id) throw new Error(`could not onboard the location: ${JSON.stringify(loc.body)}`);
    const locationId = loc.body.id;
    let venueToken: string | undefined;
    if (realDojo) {
      // Real card machines would show whatever is here: seed nothing, and hand over a venue token
      // so the venue's own data can be loaded through the venue API.
      const vt = await api<{ token?: string }>(admin, operatorToken, 'POST', `/v1/locations/${locationId}/venue-tokens`, { name: 'npm start' });
      if (!vt.body?.token) throw new Error(`could not issue a venue token: ${JSON.stringify(vt.body)}`);
      venueToken = vt.body.token;
      say(`  ${since()}  onboarded "${venueName}" under "${softwareHouseName}" (${account.accountId}, location ${locationId}); no tables or orders seeded`);
    } else {
      await api(admin, operatorToken, 'POST', `/v1/locations/${locationId}/webhook-secrets`, { secret: webhookSecret, active: true });
      const prisma = createPrisma(stack.databaseUrl);
      try {
        await seedDemoVenueData(prisma, locationId);
      } finally {
        await prisma.$disconnect();
      }
      say(`  ${since()}  onboarded "${venueName}" (${account.accountId}, location ${locationId}) with ${DEMO.tables.length} tables and open orders`);
    }

    say('');
    say(paint(1, 'Ready.'));
    say(`  admin API docs   ${admin}/docs        (operator token: ${operatorToken})`);
    say(`  operator console ${admin}/console     (sign in with the operator token)`);
    say(`  webhook ingest   ${url(ports.webhook)}/webhooks/dojo`);
    say(`  gateway status   ${url(ports.gateway)}/status`);
    say(`  queue board      ${admin}/queues/login   (the same operator token)`);
    say(`  metrics          /metrics on every app, e.g. ${url(ports.gateway)}/metrics`);
    if (sandbox) say(`  sandbox flows    ${sandbox.url}/flows   (npm run flow -- pay-at-table --account ${account.accountId} --table T5)`);
    say(`  database         ${redact(stack.databaseUrl)}   redis ${redact(stack.appsRedisUrl)}`);
    say(`  logs             ${logDir}/<app>.log`);
    say('');

    if (!sandbox) {
      const venueApi = `${admin}/venue/v1/locations/${locationId}`;
      say(paint(1, 'Load the venue\'s data through the venue API') + ` (PUT areas, tables, orders, parties, reservations; see ${admin}/docs):`);
      say(`  venue token      ${venueToken}`);
      say(`  curl -X PUT ${venueApi}/tables/T1 -H 'authorization: Bearer ${venueToken}' \\`);
      say(`       -H 'content-type: application/json' -d '{"name":"Table 1","maxCovers":4}'`);
      say(`  then PUT ${venueApi}/orders/<orderId> with Dojo's Order shape; GET ${venueApi}/feed shows what Dojo did.`);
      say(`  Dojo's webhook secret for this location: POST ${admin}/v1/locations/${locationId}/webhook-secrets (operator token).`);
      say('');
      say('Connected to Dojo with your settings; run flows from Dojo\'s EPOS tester. Ctrl-C stops everything.');
      await new Promise(() => undefined);
      return 0;
    }
    const sim = sandbox;
    // Wait for the gateway's socket and the capability registration to reach "Dojo".
    const ready = Date.now() + 30_000;
    while (!(sim.connectionsFor(account.accountId) >= 1 && (sim.registrations[account.accountId]?.capabilities.length ?? 0) > 0)) {
      if (Date.now() > ready) throw new Error('the gateway did not connect and register with the sandbox within 30 s; see .epos-relay/logs/');
      await new Promise((r) => setTimeout(r, 100));
    }
    say(`  ${since()}  gateway connected to the sandbox; ${sim.registrations[account.accountId]!.capabilities.length} capabilities registered`);
    say('');
    say(paint(1, `Pay at table: a card machine at ${cfg.START_TABLE} finds the bill, locks it, takes two split payments (one with a tip) and unlocks`));
    const status = await watchFlow({
      sandboxUrl: sim.url,
      flow: 'pay-at-table',
      params: { accountId: account.accountId, tableId: cfg.START_TABLE },
      onStep: (step) => say(formatStep(step)),
    });
    say(status === 'SUCCESS' ? paint(32, `pay-at-table: SUCCESS (${since()} after start)`) : paint(31, `pay-at-table: ${status}`));
    say('');
    const tablesStatus = await runTablesDemo(sim, admin, operatorToken, sh.body.id, stack.databaseUrl, say, since);
    const counterStatus = await runCounterDemo(sim, admin, operatorToken, sh.body.id, say, since);
    await printCheckoutLink(admin, operatorToken, locationId, account.accountId, sim.url, cfg.START_TABLE);
    if (cfg.START_EXIT_AFTER_FLOW) {
      await stopAll();
      return status === 'SUCCESS' && tablesStatus === 'SUCCESS' && counterStatus === 'SUCCESS' ? 0 : 1;
    }
    say('The platform keeps running. Ctrl-C stops everything.');
    await new Promise(() => undefined);
    return 0;
  } catch (err) {
    // One line, no stack trace (e.g. Postgres that cannot start says what to do instead). A start cut short by a
    // signal says nothing more: the stop it began reports.
    if (!stopping) process.stderr.write(paint(31, `start failed: ${(err as Error).message}\n`));
    await stopAll();
    return 1;
  }
}

/**
 * The second demo venue, on Dojo's legacy Tables API: onboarded through the admin API as `dojo-tables` (dialling
 * the sandbox's /ws/v1/tables/epos), seeded with the demo floor and orders, and its pay-at-table flow printed.
 */
async function runTablesDemo(
  sim: DojoSandbox,
  admin: string,
  operatorToken: string,
  softwareHouseId: string,
  databaseUrl: string,
  say: (line: string) => void,
  since: () => string,
): Promise<string> {
  const venue = DEMO.tablesLocation;
  let loc = await api<{ id: string }>(admin, operatorToken, 'POST', '/v1/locations', {
    name: venue.name,
    softwareHouseId,
    dojoAccountId: venue.dojoAccountId,
    protocol: 'dojo-tables',
    apiKey: venue.apiKey,
    wsUrl: `${sim.wsUrl.replace(/\/epos$/, '')}${TABLES_PATH}`,
    dojoTables: { accountName: venue.dojoAccountId, environment: 'staging' },
  });
  if (loc.status === 409) {
    const list = await api<{ items: { id: string; dojoAccountId: string }[] }>(admin, operatorToken, 'GET', '/v1/locations?protocol=dojo-tables&limit=500');
    loc = { status: 200, body: list.body.items.find((x) => x.dojoAccountId === venue.dojoAccountId)! };
  }
  if (!loc.body?.id) throw new Error(`could not onboard the Tables API venue: ${JSON.stringify(loc.body)}`);
  const prisma = createPrisma(databaseUrl);
  try {
    await seedDemoVenueData(prisma, loc.body.id);
  } finally {
    await prisma.$disconnect();
  }
  say(`  ${since()}  onboarded "${venue.name}" (${venue.dojoAccountId}, location ${loc.body.id}) on the legacy Tables API (protocol dojo-tables)`);
  const ready = Date.now() + 30_000;
  while (sim.connectionsFor(venue.dojoAccountId) < 1) {
    if (Date.now() > ready) throw new Error('the gateway did not connect to the sandbox\'s Tables API endpoint within 30 s; see .epos-relay/logs/');
    await new Promise((r) => setTimeout(r, 100));
  }
  say('');
  say(paint(1, 'Pay at table over the Tables API: a card machine finds a table\'s session, then locks, pays and unlocks twice (split, tip), and prints the bill'));
  const status = await watchFlow({ sandboxUrl: sim.url, flow: 'pay-at-table', params: { accountId: venue.dojoAccountId }, onStep: (step) => say(formatStep(step)) });
  say(status === 'SUCCESS' ? paint(32, `pay-at-table (Tables API): SUCCESS (${since()} after start)`) : paint(31, `pay-at-table (Tables API): ${status}`));
  say(`  more: npm run flow -- pay-at-table --account ${venue.dojoAccountId} --table "Table 5"`);
  say('');
  return status;
}

/**
 * The third demo venue, a counter on Paymentsense Connect pay at counter: onboarded through the admin API as
 * `connect-pac` (its PAC link dialling the sandbox's /pac), then the `pay-at-counter` flow as the venue's POS runs it
 * through the venue API, each terminal notification printed as it happens, and the command that runs it again.
 */
async function runCounterDemo(
  sim: DojoSandbox,
  admin: string,
  operatorToken: string,
  softwareHouseId: string,
  say: (line: string) => void,
  since: () => string,
): Promise<string> {
  const venue = DEMO.counterLocation;
  let loc = await api<{ id: string }>(admin, operatorToken, 'POST', '/v1/locations', {
    name: venue.name,
    softwareHouseId,
    dojoAccountId: venue.dojoAccountId,
    protocol: 'connect-pac',
    apiKey: venue.apiKey,
    wsUrl: sim.pacUrl,
    connectPac: { hostAddress: venue.hostAddress, installerId: venue.installerId, environment: 'test', signatureDefault: 'decline' },
  });
  if (loc.status === 409) {
    const list = await api<{ items: { id: string; dojoAccountId: string }[] }>(admin, operatorToken, 'GET', '/v1/locations?protocol=connect-pac&limit=500');
    loc = { status: 200, body: list.body.items.find((x) => x.dojoAccountId === venue.dojoAccountId)! };
  }
  if (!loc.body?.id) throw new Error(`could not onboard the counter venue: ${JSON.stringify(loc.body)}`);
  const locationId = loc.body.id;
  const vt = await api<{ token?: string }>(admin, operatorToken, 'POST', `/v1/locations/${locationId}/venue-tokens`, { name: 'npm start (pay at counter)' });
  if (!vt.body?.token) throw new Error(`could not issue the counter venue's token: ${JSON.stringify(vt.body)}`);
  say(`  ${since()}  onboarded "${venue.name}" (${venue.dojoAccountId}, location ${locationId}) on Connect pay at counter (protocol connect-pac, terminals at ${sim.pacUrl})`);
  say('');
  say(paint(1, 'Pay at counter: the POS starts a sale on a terminal through the venue API, follows it live, answers the signature check; refunds part of it on another terminal; then a declined card'));
  const params = { accountId: venue.dojoAccountId, venueApi: admin, locationId, venueToken: vt.body.token };
  const status = await watchFlow({ sandboxUrl: sim.url, flow: 'pay-at-counter', params, timeoutMs: 120_000, onStep: (step) => say(formatStep(step)) });
  say(status === 'SUCCESS' ? paint(32, `pay-at-counter: SUCCESS (${since()} after start)`) : paint(31, `pay-at-counter: ${status}`));
  say(`  again: npm run flow -- pay-at-counter --account ${venue.dojoAccountId} --sandbox ${sim.url} --param venueApi=${admin} --param locationId=${locationId} --param venueToken=${vt.body.token}`);
  say('');
  return status;
}

/**
 * Online payment of an open demo order (one not at the pay-at-table flow's
 * table): a venue token, a payment intent through the venue API, and its
 * checkout link, so a person can pay it in a browser with a test card and
 * watch the order change (GET .../orders/<id>). Failures are said, not fatal.
 */
async function printCheckoutLink(admin: string, operatorToken: string, locationId: string, accountId: string, sandboxUrl: string, payAtTableTable: string): Promise<void> {
  const order = DEMO_ORDERS.find((o) => o.tableId !== payAtTableTable);
  if (!order) return;
  try {
    const vt = await api<{ token?: string }>(admin, operatorToken, 'POST', `/v1/locations/${locationId}/venue-tokens`, { name: 'npm start (online payment)' });
    const venueToken = vt.body?.token;
    if (!venueToken) throw new Error(`no venue token: ${JSON.stringify(vt.body)}`);
    const venueApi = `${admin}/venue/v1/locations/${locationId}`;
    const res = await fetch(`${venueApi}/orders/${order.id}/payment-intents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${venueToken}`, 'content-type': 'application/json', 'idempotency-key': `npm-start-${order.id}-${Date.now()}` },
      body: JSON.stringify({ tipsAllowed: true }),
    });
    const pi = (await res.json()) as { id?: string; checkoutUrl?: string; amount?: number; currency?: string; message?: string };
    if (!res.ok || !pi.checkoutUrl) throw new Error(`${res.status} ${pi.message ?? ''}`);
    say(paint(1, `Pay online: order ${order.id} (${order.reference}) has a payment intent for ${((pi.amount ?? 0) / 100).toFixed(2)} ${pi.currency ?? ''}`));
    say(`  checkout link    ${pi.checkoutUrl}`);
    say(`  test cards       ${TEST_CARDS.success} succeeds, ${TEST_CARDS.declined} is declined, ${TEST_CARDS.manualCapture} needs a manual capture`);
    say(`  watch the order  curl ${venueApi}/orders/${order.id} -H 'authorization: Bearer ${venueToken}'`);
    say(`  the whole flow   npm run flow -- online-payment --account ${accountId} --sandbox ${sandboxUrl} --param venueApi=${admin} --param locationId=${locationId} --param venueToken=${venueToken} --param paymentIntentId=${pi.id ?? ''}`);
    say('');
  } catch (err) {
    say(paint(33, `  no checkout link: ${(err as Error).message}`));
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`start failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
