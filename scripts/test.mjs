// Runs the test suite: every test/**/*.test.ts, one file at a time (they start real servers and
// processes, and this machine has two cores), through node's own test runner with tsx.
// Extra arguments narrow it: `npm test -- test/api/api.test.ts`. `--test-force-exit` ends a file once
// its tests are done even if a client library still holds the event loop: etcd3's WatchManager,
// once its watch stream has failed (the contract suite kills etcd), re-arms its reconnect timer
// (up to 30 s, never unref'd) even after `Etcd3.close()`. The CLI exits explicitly after stopping,
// so a Lockstep process is not kept alive by it.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** @param {string} dir @returns {string[]} */
function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return find(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

const files = process.argv.slice(2).length > 0 ? process.argv.slice(2) : find('test').sort();
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=300000', '--test-force-exit', ...files], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
