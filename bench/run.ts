// npm run bench [-- --quick] [-- --backend redis|etcd|all] [-- --profile] [-- --only hot,latency,flow-lanes,flow-rate]
//
// Real Redis (and etcd), real Lockstep processes (`node dist/cli.js api|emitter`), a receiver in
// its own process. Every figure is printed beside a baseline measured in the same run, because
// this machine is shared and noisy; a missed target is printed as MISSED. See bench/README.md.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { FULL, QUICK, type BackendScenario, type BenchContext } from './context.js';
import { BenchReceiver } from './receiver-control.js';
import { emptyRow, machine, markdownTable, writeResults, type Row } from './report.js';
import { clusterBalance } from './scenarios/cluster-balance.js';
import { failover } from './scenarios/failover.js';
import { fanOut } from './scenarios/fan-out.js';
import { flaky } from './scenarios/flaky.js';
import { flowLanes, flowRate } from './scenarios/flow-control.js';
import { hotReceiver } from './scenarios/hot-receiver.js';
import { intake } from './scenarios/intake.js';
import { latency } from './scenarios/latency.js';
import { lockLossHolderFrozen, lockLossServiceFrozen } from './scenarios/lock-loss.js';
import { sentinelFailover } from './scenarios/sentinel-failover.js';
import { soak } from './scenarios/soak.js';
import type { Backend } from './stack.js';

interface Options {
  quick: boolean;
  backends: Backend[];
  profile: boolean;
  only: string[] | undefined;
}

const BACKEND_SCENARIOS: [name: string, run: BackendScenario][] = [
  ['hot', hotReceiver],
  ['flaky', flaky],
  ['fan-out', fanOut],
  ['latency', latency],
  ['failover', failover],
  ['sentinel-failover', sentinelFailover],
  ['cluster-balance', clusterBalance],
  ['lock-loss', lockLossHolderFrozen],
  ['lock-deadline', lockLossServiceFrozen],
  ['soak', soak],
  ['flow-lanes', flowLanes],
  ['flow-rate', flowRate],
];

function parseArgs(args: string[]): Options {
  const value = (flag: string): string | undefined => {
    const index = args.indexOf(flag);
    return index >= 0 ? args[index + 1] : undefined;
  };
  const backend = value('--backend') ?? 'redis';
  if (!['redis', 'etcd', 'all'].includes(backend)) throw new Error(`--backend must be redis, etcd or all (got ${backend})`);
  const only = value('--only')?.split(',');
  const unknown = only?.filter((name) => name !== 'intake' && !BACKEND_SCENARIOS.some(([known]) => known === name));
  if (unknown?.length) throw new Error(`--only: no scenario ${unknown.join(', ')} (known: intake, ${BACKEND_SCENARIOS.map(([name]) => name).join(', ')})`);
  return { quick: args.includes('--quick'), backends: backend === 'all' ? ['redis', 'etcd'] : [backend as Backend], profile: args.includes('--profile'), only };
}

/** Why a backend cannot be benchmarked here, or undefined when it can. */
function unavailable(backend: Backend): string | undefined {
  if (backend !== 'etcd') return undefined;
  if (!existsSync(fileURLToPath(new URL('../dist/locks/etcd.js', import.meta.url)))) return 'no etcd backend in dist/ (dist/locks/etcd.js)';
  if (spawnSync('etcd', ['--version']).status !== 0) return 'no etcd binary (apt-get install etcd-server)';
  return undefined;
}

async function attempt(name: string, backend: string, ctx: BenchContext, run: () => Promise<Row[]>): Promise<Row[]> {
  const started = Date.now();
  const load = loadavg()[0] ?? NaN;
  ctx.log(`▶ ${name} (${backend}), load average ${load.toFixed(2)}`);
  try {
    const rows = (await run()).map((row) => ({ ...row, load }));
    ctx.log(
      `  done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${rows.map((r) => `${r.figure?.toFixed(r.figure < 1 ? 3 : 0) ?? '—'} ${r.unit} [${r.verdict}]`).join('; ')}`,
    );
    return rows;
  } catch (error) {
    ctx.log(`  FAILED: ${error instanceof Error ? error.stack : String(error)}`);
    return [{ ...emptyRow(name, backend, 'failed', error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error)), load }];
  }
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  const wanted = (name: string): boolean => !options.only || options.only.includes(name);
  const profileDir = options.profile ? fileURLToPath(new URL('./results/profiles/', import.meta.url)) : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const started = Date.now();
  const receiver = await BenchReceiver.start();
  const ctx: BenchContext = { sizes: options.quick ? QUICK : FULL, receiver, profileDir, log: (line) => console.log(line) };
  const rows: Row[] = [];
  try {
    if (wanted('intake')) rows.push(...(await attempt('intake', '-', ctx, () => intake(ctx))));
    for (const backend of options.backends) {
      const why = unavailable(backend);
      if (why) {
        rows.push(emptyRow('every lock-backend scenario', backend, 'not available', why));
        continue;
      }
      for (const [name, run] of BACKEND_SCENARIOS) if (wanted(name)) rows.push(...(await attempt(name, backend, ctx, () => run(ctx, backend))));
    }
  } finally {
    receiver.stop();
  }
  const date = new Date().toISOString();
  const about = `${date.slice(0, 10)}, ${machine(options.quick)}, ${((Date.now() - started) / 1000).toFixed(0)} s`;
  console.log(`\n${about}\n\n${markdownTable(rows)}\n`);
  const missed = rows.filter((r) => r.verdict === 'MISSED').map((r) => `${r.scenario} (${r.backend})`);
  if (missed.length > 0) console.log(`MISSED: ${missed.join('; ')}`);
  console.log(`results: ${writeResults(rows, { date, machine: machine(options.quick), quick: options.quick, sizes: ctx.sizes })}`);
  return rows.some((r) => r.verdict === 'failed') ? 1 : 0;
}

process.exit(await main());
