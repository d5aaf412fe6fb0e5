// Hot receiver: 5,000 messages queued for one receiver while no emitter runs, then one emitter
// drains them. Baseline: raw undici with 1 request in flight to the same receiver process.
// Both rates are measured the same way, at the receiver, from the first to the last arrival.
// The same run gives the lock cost under backlog, read from the emitter's own /metrics.
import type { BackendScenario } from '../context.js';
import { enqueue } from '../enqueue.js';
import { limitRow, ratioRow } from '../report.js';
import { Stack } from '../stack.js';
import { measureDrain, rawBaseline, reportProfile } from './drain.js';

export const hotReceiver: BackendScenario = async (ctx, backend) => {
  const total = ctx.sizes.hotMessages;
  const baseline = await rawBaseline(ctx, 1, total, () => '/r/hot-baseline');
  const stack = await Stack.start(backend);
  try {
    const client = await stack.api();
    const { id } = await client.createReceiver({ url: ctx.receiver.url('hot'), eventTypes: ['bench.hot'] });
    await enqueue(
      client,
      Array.from({ length: total }, (_, n) => ({ eventType: 'bench.hot', payload: { n }, receiverIds: [id] })),
    );
    const drain = await measureDrain(ctx, stack, 1, total, 'hot');
    const delivered = drain.stats.count;
    return [
      ratioRow({
        scenario: `hot receiver: ${total.toLocaleString('en-US')} queued, 1 emitter`,
        backend,
        figure: drain.rate,
        unit: 'deliveries/s',
        baseline: baseline.rate,
        baselineLabel: 'raw undici, 1 in flight',
        minRatio: 0.5,
        redisPerMessage: drain.commands.total / delivered,
        notes: `${drain.partial}rates from first to last arrival at the receiver; ${drain.cost} (raw undici: ${baseline.cost}); Redis per delivery: ${drain.commands.describe(delivered)}`,
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
    ];
  } finally {
    await stack.stop();
    reportProfile(ctx, 'hot', stack);
  }
};
