import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';

/** Debian's chromium (installed by .ci/run); playwright-core drives it, no browser is downloaded. */
export const CHROMIUM = '/usr/bin/chromium';

/** The `skip` option of a browser test: false when chromium is there, else the reason it cannot run. */
export function skipWithoutChromium(what: string): string | false {
  return existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install chromium): ${what} cannot run`;
}

/** Headless chromium for a test. */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], headless: true });
}
