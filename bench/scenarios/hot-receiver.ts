// Hot receiver: 5,000 messages queued for one receiver while no emitter runs, then one emitter
// drains them. Baseline: raw undici with 1 request in flight to the same receiver process.
// Both rates are measured the same way, at the receiver, from the first to the last arrival.
// The same run gives the lock cost under backlog, read from the emitter's own /metrics.
import type { BackendScenario } from '../context.js';
import { CpuMeter } from '../cpu.js';
import { enqueue } from '../enqueue.js';
import { LoadClient, webhookLikeRequest } from '../load.js';
import { profilePath, profileReport, profilerEnv } from '../profile.js';
import { arrivalRate } from '../receiver-control.js';
import { limitRow, ratioRow } from '../report.js';
import { lockOperations, Stack } from '../stack.js';

export const hotReceiver: BackendScenario = async (ctx, backend) => {
  const { receiver, sizes } = ctx;
  const total = sizes.hotMessages;

  await receiver.reset();
  const load = new LoadClient(receiver.origin, 1);
  const baselineCpu = new CpuMeter({ client: process.pid, receiver: receiver.pid }).start();
  await load.closedLoop((i) => webhookLikeRequest('/r/hot-baseline', i), { total, durationMs: sizes.drainBudgetMs });
  await load.close();
  const baselineStats = await receiver.stats();
  const baseline = arrivalRate(baselineStats);
  const baselineCost = baselineCpu.describe(baselineStats.count, 'request');

  const stack = await Stack.start(backend);
  try {
    const client = await stack.api();
    const { id } = await client.createReceiver({ url: receiver.url('hot'), eventTypes: ['bench.hot'] });
    await enqueue(client, Array.from({ length: total }, (_, n) => ({ eventType: 'bench.hot', payload: { n }, receiverIds: [id] })));
    await receiver.reset();
    const profileEnv = ctx.profileDir ? profilerEnv(ctx.profileDir, `hot-${backend}`) : {};
    const { result: [emitter, { stats, complete }, cost], commands } = await stack.redisDuring(async () => {
      const [started] = await stack.startEmitters(1, profileEnv);
      if (!started) throw new Error('no emitter');
      const cpu = new CpuMeter({ emitter: started.process.pid, 'redis-server': stack.redis.pid as number, receiver: receiver.pid }).start();
      const sentBefore = (await receiver.stats()).count;
      const drained = await receiver.drain(total, sizes.drainBudgetMs);
      return [started, drained, cpu.describe(drained.stats.count - sentBefore, 'delivery')] as const;
    });
    const lockOps = (await lockOperations(emitter)) / stats.count;
    const rate = arrivalRate(stats);
    return [
      ratioRow({
        scenario: `hot receiver: ${total.toLocaleString('en-US')} queued, 1 emitter`, backend, figure: rate, unit: 'deliveries/s',
        baseline, baselineLabel: 'raw undici, 1 in flight', minRatio: 0.5, redisPerMessage: commands.total / stats.count,
        notes: `${complete ? '' : `PARTIAL: ${stats.count} of ${total} delivered within ${sizes.drainBudgetMs / 1000} s; `}rates from first to last arrival at the receiver; ${cost} (raw undici: ${baselineCost}); Redis per delivery: ${commands.describe(stats.count)}`,
      }),
      limitRow({
        scenario: 'lock cost under backlog', backend, figure: lockOps, unit: 'lock ops/delivery', baseline: null, baselineLabel: '—',
        target: '≤ 0.05', limit: 0.05, notes: 'acquire attempts + releases + session renewals (emitter /metrics) ÷ deliveries, hot-receiver run',
      }),
    ];
  } finally {
    await stack.stop();
    if (ctx.profileDir) ctx.log(profileReport(profilePath(ctx.profileDir, `hot-${backend}`, 'bench-emitter-1'), `the hot-receiver emitter (${backend})`));
  }
};
