// Flow control (issue 14). Lanes: one receiver with maxInFlight 8 answering in 5 ms, a backlog
// queued while no emitter runs, then one emitter drains it; the figure is deliveries/s from the
// first to the last arrival against 8 × (1 / 5 ms), with raw undici (8 in flight, same delayed
// endpoint) in the notes for what this machine can do. Rate: a receiver limited to 100/s (burst
// 20, maxInFlight 4, answering at once) with a backlog far above 10 s of its limit, 2 emitters;
// the figure is the rate over 10 s of steady state (from 1 s after the first arrival, once the
// burst is spent), and every pair of arrivals of the whole run is checked against burst + rate × t.
import type { BackendScenario, BenchContext } from '../context.js';
import { enqueue } from '../enqueue.js';
import type { Turnaround } from '../receiver-control.js';
import { ratioRow, type Row } from '../report.js';
import { Stack, type Backend } from '../stack.js';
import { holdBacklog, measureDrain, rawBaseline } from './drain.js';

const LANES = 8;
const ANSWER_MS = 5;

export const flowLanes: BackendScenario = async (ctx, backend) => {
  const total = ctx.sizes.hotMessages;
  const raw = await rawBaseline(ctx, LANES, total, () => `/slow/${ANSWER_MS}/lanes-baseline`);
  const rawTurnaround = await ctx.receiver.turnaround();
  const stack = await Stack.start(backend);
  try {
    const client = await stack.api();
    const held = await holdBacklog(ctx, client, { url: ctx.receiver.slowUrl('lanes', ANSWER_MS), maxInFlight: LANES }, 'bench.lanes', total);
    const drain = await measureDrain(ctx, stack, 1, total, 'lanes', held);
    const turnaround = await ctx.receiver.turnaround();
    return [
      ratioRow({
        scenario: `maxInFlight ${LANES}, receiver answering in ${ANSWER_MS} ms: ${total.toLocaleString('en-US')} queued, 1 emitter`,
        backend,
        figure: drain.rate,
        unit: 'deliveries/s',
        baseline: (LANES * 1000) / ANSWER_MS,
        baselineLabel: `${LANES} × (1 / ${ANSWER_MS} ms)`,
        minRatio: 0.8,
        redisPerMessage: drain.commands.total / drain.stats.count,
        notes: `${drain.partial}raw undici with ${LANES} in flight to the same endpoint: ${raw.rate.toFixed(0)}/s; answer → next request on its connection, median / p90: ${turnaroundText(turnaround)} (raw undici ${turnaroundText(rawTurnaround)}); ${drain.cost}; Redis per delivery: ${drain.commands.describe(drain.stats.count)}`,
      }),
    ];
  } finally {
    await stack.stop();
  }
};

const RATE = 100;
const BURST = 20;
const MEASURED_MS = 10_000;
const WARMUP_MS = 1000;
/** Arrival stamps come from the receiver process's event loop: every t gets this much slack. */
const JITTER_MS = 2;

export const flowRate: BackendScenario = async (ctx, backend) => {
  const stack = await Stack.start(backend);
  try {
    const client = await stack.api();
    const total = Math.ceil((RATE * (WARMUP_MS + MEASURED_MS + 3000)) / 1000);
    const { id } = await client.createReceiver({
      url: ctx.receiver.url('paced'),
      eventTypes: ['bench.paced'],
      maxInFlight: 4,
      rateLimitPerSecond: RATE,
      rateLimitBurst: BURST,
    });
    await enqueue(
      client,
      Array.from({ length: total }, (_, n) => ({ eventType: 'bench.paced', payload: { n }, receiverIds: [id] })),
    );
    await ctx.receiver.reset();
    await stack.startEmitters(2);
    await ctx.receiver.waitForCount(1, 20_000);
    const { at } = await ctx.receiver.arrivalsSpanning(WARMUP_MS + MEASURED_MS + 500, WARMUP_MS + MEASURED_MS + 20_000);
    return [rateRow(ctx, backend, at)];
  } finally {
    await stack.stop();
  }
};

function rateRow(ctx: BenchContext, backend: Backend, at: number[]): Row {
  const sorted = [...at].sort((a, b) => a - b);
  const from = (sorted[0] ?? 0) + WARMUP_MS;
  const measured = sorted.filter((t) => t >= from && t < from + MEASURED_MS).length;
  const rate = measured / (MEASURED_MS / 1000);
  const worst = worstPair(sorted);
  const within = Math.abs(rate / RATE - 1) <= 0.02 && measured <= (RATE * MEASURED_MS) / 1000 + 1;
  const gaps = sorted
    .slice(1)
    .map((t, i) => t - (sorted[i] ?? t))
    .sort((x, y) => y - x);
  ctx.log(
    `  paced: ${measured} arrivals in 10 s; worst pair: ${worst.count} in ${worst.windowMs.toFixed(1)} ms (excess ${worst.excess.toFixed(2)}); longest gaps ${gaps
      .slice(0, 8)
      .map((g) => g.toFixed(0))
      .join(', ')} ms`,
  );
  return {
    ...ratioRow({
      scenario: `rate limit ${RATE}/s (burst ${BURST}, maxInFlight 4), 2 emitters`,
      backend,
      figure: rate,
      unit: 'requests/s',
      baseline: RATE,
      baselineLabel: 'the limit',
      minRatio: 0.98,
    }),
    target: 'within 2 % of the limit, never above; every pair ≤ burst + rate·t',
    verdict: within && worst.excess <= 0 ? 'met' : 'MISSED',
    notes: `${measured} arrivals over 10 s of steady state; over all ${sorted.length} arrivals the worst pair is ${worst.count} requests in ${worst.windowMs.toFixed(1)} ms, excess ${worst.excess.toFixed(2)} over ${BURST} + ${RATE}·(t + ${JITTER_MS} ms)`,
  };
}

/** The pair of arrivals (i ≤ j) that exceeds burst + rate × (t + jitter) most (> 0: a breach). */
function worstPair(sorted: number[]): { excess: number; count: number; windowMs: number } {
  let worst = { excess: -Infinity, count: 0, windowMs: 0 };
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i; j < sorted.length; j++) {
      const windowMs = (sorted[j] ?? 0) - (sorted[i] ?? 0);
      const excess = j - i + 1 - (BURST + (RATE * (windowMs + JITTER_MS)) / 1000);
      if (excess > worst.excess) worst = { excess, count: j - i + 1, windowMs };
    }
  }
  return worst;
}

function turnaroundText({ p50, p90, answered }: Turnaround): string {
  const ms = (value: number | null): string => value?.toFixed(2) ?? '-';
  return `${ms(p50)} / ${ms(p90)} ms, receiver's answer ${ms(answered.p50)} / ${ms(answered.p90)} ms`;
}
