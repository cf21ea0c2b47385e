import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Stack } from '@app/infra';
import { startStack } from '@app/infra';
import { Platform } from '../lib/platform';
import type { AppProcess } from '../lib/procs';
import type { Variant } from '../scenarios/request-path';
import { preparePaymentVenues, REQUEST_PATH_VARIANTS, startVariant } from '../scenarios/request-path';

/** The request path's variants a diagnostic can start (the Tables API runs only inside the bench's scenario). */
export type DiagnosticVariant = 'queue' | 'reads-queued' | 'in-process';

/** A diagnostic's variant argument, checked (default: queue). */
export function diagnosticVariant(arg: string | undefined): DiagnosticVariant {
  const key = arg ?? 'queue';
  if (key !== 'queue' && key !== 'reads-queued' && key !== 'in-process') throw new Error(`unknown variant ${key}: queue, reads-queued or in-process`);
  return key;
}

export interface MixVariant {
  stack: Stack;
  p: Platform;
  variant: Variant;
  accountIds: string[];
  /** The variant's app processes by name (worker1, gateway, gateway-inprocess). */
  pids: Record<string, number>;
  /** The same processes (their metrics URLs). */
  apps: AppProcess[];
}

/**
 * Runs `body` on a variant of the payment mix as the bench starts it (500 venues with their orders, connected to the
 * sandbox, on the bench's stack: local Postgres and Redis unless DATABASE_URL / REDIS_URL are given), with `workers`
 * worker processes where the variant has workers, then stops it all.
 */
export async function withMixVariant<T>(label: string, key: DiagnosticVariant, body: (m: MixVariant) => Promise<T>, workers = 1, profile: string[] = []): Promise<T> {
  const stack = await startStack();
  const dir = mkdtempSync(join(tmpdir(), `${label}-`));
  const p = new Platform(
    stack,
    // profile: the apps (gateway, worker) that write a CPU profile when they stop, under <dir>/profiles.
    { quick: false, logLevel: 'warn', poolSize: 10, workerConcurrency: 50, connectRate: 200, preparedStatements: true, rpcTransport: 'streams', profile, resultsDir: dir, logDir: dir },
    // The apps are named `<label>-<app>` and known by what follows the first '-' (startVariant): no '-' in the label.
    label.replace(/-/g, ''),
  );
  try {
    const variant = REQUEST_PATH_VARIANTS[key];
    const accountIds = await preparePaymentVenues(p, 500);
    const { pids, apps } = await startVariant(p, variant, accountIds, workers);
    return await body({ stack, p, variant, accountIds, pids, apps });
  } finally {
    await p.close();
    await stack.stop();
    if (profile.length > 0) console.log(`CPU profiles: ${join(dir, 'profiles')}`);
  }
}
