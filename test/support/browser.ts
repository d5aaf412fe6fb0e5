import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's chromium (`apt-get install -y chromium`; .ci/run installs it when missing). */
export const CHROMIUM = process.env.LOCKSTEP_CHROMIUM ?? '/usr/bin/chromium';
/** Where browser tests leave their screenshots. */
export const ARTIFACTS = new URL('../artifacts/', import.meta.url).pathname;

/** Why the browser tests of `what` are skipped (no chromium here), or false; says so on the console too. */
export function browserMissing(what: string): string | false {
  if (existsSync(CHROMIUM)) return false;
  const reason = `SKIPPED: no browser at ${CHROMIUM}. Install Debian's chromium (apt-get install -y chromium) or set LOCKSTEP_CHROMIUM; .ci/run installs it.`;
  console.warn(`\n*** ${what} browser tests ${reason}\n`);
  return reason;
}

export async function launchBrowser(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}
