/** Boots the platform's apps as child processes from the build output, for tests that read their output. */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { waitFor } from '@app/testing';

export interface AppProcess {
  name: string;
  child: ChildProcess;
  /** Everything the app wrote to stdout (its JSON log lines). */
  out: string[];
  /** Its base URL, read from its "listening" log line. */
  url?: string;
  exited: Promise<number | null>;
}

/** This file runs from <out>/test/support; the apps are <out>/apps/<name>/src/main.js. */
const appMain = (name: string) => join(__dirname, '..', '..', 'apps', name, 'src', 'main.js');

/**
 * Starts each named app with its environment and waits until every one has
 * logged the URL it listens on. stderr goes to this process' stderr, prefixed.
 */
export async function spawnApps(names: readonly string[], envFor: (name: string) => NodeJS.ProcessEnv): Promise<AppProcess[]> {
  const apps: AppProcess[] = names.map((name) => {
    const child = spawn(process.execPath, [appMain(name)], { env: envFor(name), stdio: ['ignore', 'pipe', 'pipe'] });
    const out: string[] = [];
    child.stdout.on('data', (d) => out.push(String(d)));
    child.stderr.on('data', (d) => process.stderr.write(`[${name}] ${String(d)}`));
    return { name, child, out, exited: new Promise((r) => child.on('exit', (code) => r(code))) };
  });
  try {
    for (const a of apps) {
      a.url = await waitFor(() => /"url":"(http:[^"]+)"/.exec(a.out.join(''))?.[1], `${a.name} listening`, 60_000, 50);
    }
  } catch (err) {
    // The caller never gets the list to clean up: stop what was started.
    await killApps(apps);
    throw err;
  }
  return apps;
}

/** Kills (SIGKILL) every app still running and waits for all of them to exit. */
export async function killApps(apps: readonly AppProcess[]): Promise<void> {
  for (const a of apps) if (a.child.exitCode === null) a.child.kill('SIGKILL');
  await Promise.all(apps.map((a) => a.exited));
}
