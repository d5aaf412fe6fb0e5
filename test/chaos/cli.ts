// npm run chaos -- --backend redis|etcd|consul-double --seconds N --seed S [--settle S] [--rate R]
// A randomized fault run (see docs/reliability.md). Exit 0 when every invariant held, 1 on any
// violation, 2 on bad arguments.
import { parseArgs } from 'node:util';
import type { ChaosBackend } from './plan.js';
import { report, runChaos, type ChaosOptions } from './run.js';

const BACKENDS: ChaosBackend[] = ['redis', 'etcd', 'consul-double'];

function options(): ChaosOptions {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string', default: 'redis' },
      seconds: { type: 'string', default: '60' },
      seed: { type: 'string' },
      settle: { type: 'string', default: '60' },
      rate: { type: 'string', default: '15' },
    },
  });
  const backend = values.backend as ChaosBackend;
  const number = (name: string, value: string | undefined): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) usage(`--${name} must be a whole number, got ${value}`);
    return n;
  };
  if (!BACKENDS.includes(backend)) usage(`--backend must be one of ${BACKENDS.join(', ')}`);
  // no seed given: draw one, and print it like any other so the run can be replayed
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : number('seed', values.seed);
  return {
    backend,
    seconds: number('seconds', values.seconds),
    seed,
    settleSeconds: number('settle', values.settle),
    rate: number('rate', values.rate),
    out: (line) => console.log(line),
  };
}

function usage(problem: string): never {
  console.error(`${problem}\nusage: npm run chaos -- --backend redis|etcd|consul-double --seconds N --seed S [--settle S] [--rate messages/s]`);
  process.exit(2);
}

const o = options();
const result = await runChaos(o);
for (const line of report(o, result)) console.log(line);
process.exit(result.verdict.violations.length === 0 ? 0 : 1);
