import { createLogger } from '@app/common';
import { ConfigError, loadConfig, sandboxEnv } from '@app/config';
import { DEMO_ACCOUNT, DojoSandbox, parseAccountsSetting } from '@app/dojo-sandbox';

/**
 * Starts the Dojo sandbox as a standalone server (SANDBOX_PORT, SANDBOX_HOST,
 * SANDBOX_ACCOUNTS). With no accounts configured it serves the demo account
 * acc_demo (key sk_sandbox_demo, software-house-id sh_demo).
 */
export async function startDojoSandbox(env: NodeJS.ProcessEnv = process.env): Promise<DojoSandbox> {
  let config;
  try {
    config = loadConfig(sandboxEnv, env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`[dojo-sandbox] cannot start: ${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
  const logger = createLogger('dojo-sandbox', config.LOG_LEVEL);
  let accounts;
  try {
    accounts = parseAccountsSetting(config.SANDBOX_ACCOUNTS);
  } catch (err) {
    process.stderr.write(`[dojo-sandbox] cannot start: SANDBOX_ACCOUNTS is malformed: ${(err as Error).message}\n`);
    process.exit(78);
  }
  const sim = await DojoSandbox.start({
    port: config.SANDBOX_PORT,
    host: config.SANDBOX_HOST,
    accounts: accounts.length ? accounts : [DEMO_ACCOUNT],
    pingIntervalMs: config.SANDBOX_PING_INTERVAL_MS,
    logger,
  });
  logger.info({ url: sim.url, wsUrl: sim.wsUrl, patUrl: sim.patUrl, pacUrl: sim.pacUrl, accounts: sim.accounts.all().map((a) => a.accountId) }, 'dojo sandbox ready');
  return sim;
}

if (require.main === module) {
  // A failed start rejects unhandled: Node prints the error and exits non-zero, which is what we want.
  void startDojoSandbox().then((sim) => {
    const stop = () =>
      void sim.close().then(
        () => process.exit(0),
        (err: unknown) => {
          process.stderr.write(`dojo-sandbox: close failed: ${(err as Error).stack ?? String(err)}\n`);
          process.exit(1);
        },
      );
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
