// Hot receiver: 8,000 messages queued for one receiver while no emitter runs, then one emitter
// drains them. Baseline: raw undici with 1 request in flight to the same receiver process.
// Both rates are measured the same way, at the receiver, over the last 5,000 arrivals.
// The same run gives the lock cost under backlog, read from the emitter's own /metrics.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BackendScenario, BenchContext } from '../context.js';
import { arrivalRate } from '../receiver-control.js';
import { limitRow, ratioRow, reportRow, type Row } from '../report.js';
import { Stack } from '../stack.js';
import { holdBacklog, measureDrain, rawBaseline, reportProfile } from './drain.js';

const LITERAL = fileURLToPath(new URL('../literal-design.ts', import.meta.url));

/**
 * The literal design (bench/literal-design.ts: one job per delivery, lock per job, bounced when
 * busy) on the same backlog, Redis locks, against the same raw-undici baseline: what the drain
 * design buys. Only with the Redis backend, where that design is at its best.
 */
async function literalDesign(ctx: BenchContext, stack: Stack, total: number, baseline: number): Promise<Row> {
  await ctx.receiver.reset();
  const child = spawn(process.execPath, ['--import', 'tsx', LITERAL, stack.redis.url, ctx.receiver.url('literal'), String(total)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const { stats, complete } = await ctx.receiver.drain(total, ctx.sizes.literalBudgetMs);
  if (!complete) child.kill('SIGTERM');
  await exited;
  const { bounced } = (output ? JSON.parse(output) : { bounced: NaN }) as { bounced: number };
  const rate = arrivalRate(stats);
  return reportRow(
    'literal design baseline: one job per delivery, lock per job, job put back when busy (hot receiver, Redis lock, 64 concurrent jobs)',
    'redis',
    rate,
    'deliveries/s',
    `${(rate / baseline).toFixed(3)} of raw undici (1 in flight) in the same run; ${stats.count} of ${total} arrived${complete ? '' : ` within ${ctx.sizes.literalBudgetMs / 1000} s`}; jobs put back because the receiver was busy: ${bounced} (${(bounced / Math.max(1, stats.count)).toFixed(1)} per delivery)`,
  );
}

export const hotReceiver: BackendScenario = async (ctx, backend) => {
  const { hotMessages: total, hotLeadIn: lead } = ctx.sizes;
  const baseline = await rawBaseline(ctx, 1, total, () => '/r/hot-baseline', lead);
  const stack = await Stack.start(backend);
  try {
    const client = await stack.api();
    const held = await holdBacklog(ctx, client, { url: ctx.receiver.url('hot') }, 'bench.hot', lead + total);
    const drain = await measureDrain(ctx, stack, 1, lead + total, 'hot', held, lead);
    const delivered = drain.stats.count;
    const literal = backend === 'redis' ? [await literalDesign(ctx, stack, total, baseline.rate)] : [];
    return [
      ratioRow({
        scenario: `hot receiver: ${(lead + total).toLocaleString('en-US')} queued, 1 emitter`,
        backend,
        figure: drain.rate,
        unit: 'deliveries/s',
        baseline: baseline.rate,
        baselineLabel: 'raw undici, 1 in flight',
        minRatio: 0.5,
        redisPerMessage: drain.commands.total / delivered,
        notes: `${drain.partial}rates at the receiver over the last ${total.toLocaleString('en-US')} arrivals (the first ${lead.toLocaleString('en-US')}, Lockstep's and raw undici's, are a lead-in); ${drain.cost} (raw undici: ${baseline.cost}); Redis per delivery: ${drain.commands.describe(delivered)}`,
      }),
      limitRow({
        scenario: 'lock cost under backlog',
        backend,
        figure: drain.lockOpsPerDelivery,
        unit: 'lock ops/delivery',
        baseline: null,
        baselineLabel: '—',
        target: '≤ 0.05',
        limit: 0.05,
        notes: 'acquire attempts + releases + session renewals (emitter /metrics) ÷ deliveries, hot-receiver run',
      }),
      ...literal,
    ];
  } finally {
    await stack.stop();
    reportProfile(ctx, 'hot', stack);
  }
};
