import { missingTool } from './missing-tool.js';

/** Debian's prometheus package has it (`apt-get install -y --no-install-recommends prometheus`; .ci/run installs it). */
export const PROMTOOL = process.env.LOCKSTEP_PROMTOOL ?? '/usr/bin/promtool';

/** Why the promtool tests of `what` are skipped, or false. */
export function promtoolMissing(what: string): string | false {
  return missingTool(
    what,
    PROMTOOL,
    "Install Debian's prometheus for its promtool (apt-get install -y --no-install-recommends prometheus) or set LOCKSTEP_PROMTOOL",
  );
}
