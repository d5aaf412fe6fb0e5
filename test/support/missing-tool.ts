import { existsSync } from 'node:fs';

/**
 * Why the tests of `what` are skipped (no `path` here: `install` says how to get it), or false;
 * says so on the console too, so a skip is never silent.
 */
export function missingTool(what: string, path: string, install: string): string | false {
  if (existsSync(path)) return false;
  const reason = `SKIPPED: no ${path}. ${install}; .ci/run installs it.`;
  console.warn(`\n*** ${what} tests ${reason}\n`);
  return reason;
}
