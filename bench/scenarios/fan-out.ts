// Fan-out: N receivers (paths of the one receiver process), every message to all of them, queued
// while no emitter runs; then 2 emitters drain them. Baseline: raw undici, 64 in flight, the same
// number of requests spread over the same receivers. Also the peak RSS of each emitter.
import type { BackendScenario } from '../context.js';
import { fanOutSize, queueFanOut } from '../enqueue.js';
import { ratioRow, reportRow } from '../report.js';
import { peakRssMiB, Stack } from '../stack.js';
import { measureDrain, rawBaseline, reportProfile } from './drain.js';

const EMITTERS = 2;

export const fanOut: BackendScenario = async (ctx, backend) => {
  const size = fanOutSize(ctx.sizes);
  const { receivers, messages, total } = size;
  const baseline = await rawBaseline(ctx, 64, total, (i) => `/r/fan-baseline-${i % receivers}`);
  const stack = await Stack.start(backend);
  try {
    const client = await stack.api();
    await queueFanOut(client, ctx.receiver, size, 'bench.fanout');
    const drain = await measureDrain(ctx, stack, EMITTERS, total, 'fan-out');
    const delivered = drain.stats.count;
    const rss = drain.emitters.map((emitter) => peakRssMiB(emitter.process.pid));
    return [
      ratioRow({
        scenario: `fan-out: ${receivers.toLocaleString('en-US')} receivers, ${total.toLocaleString('en-US')} deliveries, ${EMITTERS} emitters`,
        backend,
        figure: drain.rate,
        unit: 'deliveries/s',
        baseline: baseline.rate,
        baselineLabel: 'raw undici, 64 in flight',
        minRatio: 0.4,
        redisPerMessage: drain.commands.total / delivered,
        notes: `${drain.partial}${drain.lockOpsPerDelivery.toFixed(3)} lock ops/delivery (${messages} per receiver); ${drain.cost} (raw undici: ${baseline.cost}); Redis per delivery: ${drain.commands.describe(delivered)}`,
      }),
      reportRow(
        'memory: peak RSS per emitter during fan-out',
        backend,
        Math.max(...rss),
        'MiB',
        `VmHWM of each emitter: ${rss.map((mib) => mib.toFixed(0)).join(', ')} MiB`,
      ),
    ];
  } finally {
    await stack.stop();
    reportProfile(ctx, 'fan-out', stack);
  }
};
