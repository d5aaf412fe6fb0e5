import { mkdirSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { missingTool } from './missing-tool.js';

/** Debian's chromium (`apt-get install -y chromium`; .ci/run installs it when missing). */
export const CHROMIUM = process.env.LOCKSTEP_CHROMIUM ?? '/usr/bin/chromium';
/** Where browser tests leave their screenshots. */
export const ARTIFACTS = new URL('../artifacts/', import.meta.url).pathname;

/** Why the browser tests of `what` are skipped (no chromium here), or false. */
export function browserMissing(what: string): string | false {
  return missingTool(`${what} browser`, CHROMIUM, "Install Debian's chromium (apt-get install -y chromium) or set LOCKSTEP_CHROMIUM");
}

export async function launchBrowser(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}
