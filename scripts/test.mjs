// Runs the test suite: every test/**/*.test.ts through node's own test runner with tsx, in two
// lanes side by side, each one file at a time: the fault tests (test/faults: real processes killed,
// paused, clock-stepped; they own the machine's timing more than the others) and everything else.
// The suite spends most of its time waiting (TTLs, settle phases, retries), not computing: one
// lane used an eighth of two cores, so two lanes halve the wall time without crowding either.
// The chaos run (test/faults/chaos.test.ts: 3 emitters, 20 receivers, a fault every ~2 s, 60 s per
// lock backend) then runs without another test lane, each backend in a lane of its own, the three
// side by side: ~95 s (load ~11) instead of 215 s one after the other. Its emitters wait more than
// they compute; the load delays some faults (a target still restarting) and lengthens the settle
// phase (5.5, 8.1 and 13.2 s for redis, etcd and consul-double in one such run, up to 21.6 s in
// another; the bound is 60 s), and it is a harder test of the invariants, which hold at any load:
// beside a test lane (load ~10) the chaos run once caught a check-to-write window that load widened
// (since closed: the last check is in undici's write step, src/delivery/exchange.ts).
// The type check and lint (`npm run check`, ~50 s of CPU) run from the start, beside the lanes, at
// the lowest CPU priority (nice 19): the lanes wait more than they compute, and a test that needs
// the CPU gets it first. Beside the three chaos lanes instead it took ~115 s and ended the phase last.
// The API-level suites of the delivery path then run again, after the other lane: on one Redis with
// 4 shard groups (LOCKSTEP_REDIS_SHARD_GROUPS; src/store/keys.ts), and on a real 3-master Redis
// Cluster with 24 (test/support/in-process.ts starts it), so that the sharded layout is exercised
// end to end, not only in test/store/shard-groups.test.ts and test/faults/cluster.test.ts.
// The fault files with real processes then run again on such a cluster too (CLUSTER_FAULTS below;
// test/support/fleet.ts starts it), each file taken by whichever of the two lanes is free first,
// so both end about together: about 6.5 minutes of files spread over two lanes. An emitter cut off
// from its Redis lock link goes through a proxy per node (LOCKSTEP_REDIS_CLUSTER_NAT; fleet.ts);
// "Redis stopped" stops every master at once, and one master in a case of its own.
// Extra arguments narrow it to those files, in one lane: `npm test -- test/api/api.test.ts`.
// `--test-reporter=tap`: Node 20's and 22's default when the output is not a terminal, named so that
// Node 24 (whose default is `spec` everywhere) prints the `not ok` lines the summary below collects.
// `--test-force-exit` ends a file once its tests are done even if a client library still holds the
// event loop: etcd3's WatchManager, once its watch stream has failed (the contract suite kills
// etcd), re-arms its reconnect timer (up to 30 s, never unref'd) even after `Etcd3.close()`. The
// CLI exits explicitly after stopping, so a Lockstep process is not kept alive by it.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** @param {string} dir @returns {string[]} */
function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return find(path);
    return name.endsWith('.test.ts') ? [path] : [];
  });
}

const RUNNER = ['--import', 'tsx', '--test', '--test-reporter=tap', '--test-concurrency=1', '--test-timeout=300000', '--test-force-exit'];

/** Files run a second time with shard groups (test/support/in-process.ts passes the setting on). */
const SHARDED = [
  'test/emitter/delivery-path.test.ts',
  'test/api/api.test.ts',
  'test/api/dead-letters-and-stats.test.ts',
  'test/api/payload-deletion.test.ts',
  'test/tenants/messages.test.ts',
  'test/tenants/tenants.test.ts',
].map((file) => join(...file.split('/')));

/** The lane settings of a real 3-master Redis Cluster (test/support/test-redis.ts starts it) with 8 shard groups per master. */
const CLUSTER = { LOCKSTEP_REDIS_SHARD_GROUPS: '24', LOCKSTEP_TEST_REDIS_CLUSTER: '1' };

/**
 * Fault files run a second time on the cluster (test/support/fleet.ts), longest first. Not chaos
 * (alone, below), sentinel.test.ts and cluster.test.ts (their own topologies), nor
 * no-secrets-in-logs.test.ts (it drives its own single Redis out of memory). backends.test.ts runs
 * there with Redis locks only (LOCKSTEP_TEST_LOCK_BACKENDS): the cluster is the data store under
 * every lock backend alike, and Redis locks are the ones it also holds. etcd and the Consul double
 * on it took 160 s of the two lanes for no store path that the Redis-lock run on it misses (the
 * store checks every backend's fence with the same scripts).
 */
const CLUSTER_FAULTS = ['backends', 'exclusivity', 'clock-step', 'redis-restart', 'flow-control', 'rotation', 'shutdown', 'lock-loss'].map((name) =>
  join('test', 'faults', `${name}.test.ts`),
);

/** The lock backends test/faults/chaos.test.ts runs (the keys of its seeds), one lane each (its LOCKSTEP_CHAOS_BACKENDS). */
const CHAOS_BACKENDS = [];
for (const backend in JSON.parse(readFileSync(join('test', 'chaos', 'seeds.json'), 'utf8'))) CHAOS_BACKENDS.push(backend);

/** Each failed lane's failing tests ("not ok" lines), repeated at the very end where a CI log's tail shows them. */
const failures = [];

/**
 * Runs one lane of test files; its output lines carry the lane's name when there are several.
 * @param {string} name @param {string[]} files @param {boolean} tagged @param {Record<string, string>} [env] @returns {Promise<number>}
 */
function lane(name, files, tagged, env = {}) {
  return run(name, process.execPath, [...RUNNER, ...files], files.length === 1 ? files[0] : `${files.length} files`, tagged, env);
}

/**
 * Runs one command as a lane: its output tagged with `name` (when `tagged`), how long it took, and
 * on failure its failing tests (or, for a command that prints no TAP, its last lines) in the summary.
 * @param {string} name @param {string} command @param {string[]} args @param {string} what @param {boolean} tagged @param {Record<string, string>} [env] @returns {Promise<number>}
 */
function run(name, command, args, what, tagged, env = {}) {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: tagged ? ['ignore', 'pipe', 'pipe'] : 'inherit', env: { ...process.env, ...env } });
    const notOk = [];
    const tail = [];
    if (tagged) {
      for (const stream of [child.stdout, child.stderr]) {
        // a failing test's error (its first lines) and the diagnostics it printed (which TAP puts
        // after its result) go with it into the summary: a CI log's tail may be all there is
        let failing = false;
        let errorLines = 0;
        let diagnostics = 0;
        createInterface({ input: stream }).on('line', (line) => {
          if (/^\s*not ok /.test(line)) {
            notOk.push(line.trim());
            [failing, errorLines, diagnostics] = [true, 0, 0];
          } else if (/^\s*(# Subtest:|ok |\d+\.\.\d+)/.test(line)) failing = false;
          else if (failing) {
            if (/^\s*error: /.test(line)) errorLines = 4;
            else if (/^\s*(code|stack|expected|actual|operator|failureType|name): /.test(line)) errorLines = 0;
            const diagnostic = /^\s*# /.test(line) && diagnostics++ < 16;
            if ((errorLines > 0 || diagnostic) && line.trim() !== '') notOk.push(`    ${line.trim()}`);
            if (errorLines > 0 && line.trim() !== '') errorLines--;
          }
          tail.push(`    ${line}`);
          if (tail.length > 20) tail.shift();
          process.stdout.write(`[${name}] ${line}\n`);
        });
      }
    }
    child.on('close', (code, signal) => {
      const took = `${Math.round((Date.now() - started) / 1000)} s: ${what}`;
      if (tagged) process.stdout.write(`[${name}] ${code === 0 ? 'passed' : `FAILED (${signal ?? `exit ${code}`})`} in ${took}\n`);
      if (code !== 0) failures.push(`[${name}] FAILED in ${took}`, ...(notOk.length > 0 ? notOk : tail).map((line) => `  ${line}`));
      resolve(code ?? 1);
    });
  });
}

const chosen = process.argv.slice(2);
const codes = [];
if (chosen.length > 0) codes.push(await lane('tests', chosen, false));
else {
  const all = find('test').sort();
  const chaos = all.filter((file) => file.endsWith('chaos.test.ts'));
  const faults = all.filter((file) => file.startsWith(join('test', 'faults')) && !chaos.includes(file));
  const rest = all.filter((file) => !faults.includes(file) && !chaos.includes(file));
  // the type check and lint, niced beside everything else (see the header)
  const check = run('check', 'nice', ['-n', '19', 'npm', 'run', '--silent', 'check'], 'npm run check', true);
  // whichever of the two chains is free takes the next cluster fault file, so that both end together
  const clusterQueue = [...CLUSTER_FAULTS];
  const clusterFaults = async () => {
    const results = [];
    for (let file = clusterQueue.shift(); file; file = clusterQueue.shift())
      results.push(await lane('cluster-faults', [file], true, { ...CLUSTER, LOCKSTEP_TEST_LOCK_BACKENDS: 'redis' }));
    return results;
  };
  const faultsThenCluster = async () => [await lane('faults', faults, true), ...(await clusterFaults())];
  const restThenSharded = async () => [
    await lane('rest', rest, true),
    await lane('sharded', SHARDED, true, { LOCKSTEP_REDIS_SHARD_GROUPS: '4' }),
    await lane('cluster', SHARDED, true, CLUSTER),
    ...(await clusterFaults()),
  ];
  codes.push(...(await Promise.all([faultsThenCluster(), restThenSharded()])).flat());
  // the three chaos backends side by side (see the header)
  codes.push(...(await Promise.all(CHAOS_BACKENDS.map((backend) => lane(`chaos-${backend}`, chaos, true, { LOCKSTEP_CHAOS_BACKENDS: backend })))));
  codes.push(await check);
}
if (failures.length > 0) process.stdout.write(`\n--- failed:\n${failures.join('\n')}\n`);
process.exit(codes.every((code) => code === 0) ? 0 : 1);
