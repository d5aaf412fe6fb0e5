// Fan-out: N receivers (paths of the one receiver process), every message to all of them, queued
// while no emitter runs; then 2 emitters drain them. Baseline: raw undici, 64 in flight, the same
// number of requests spread over the same receivers. Also the peak RSS of each emitter.
import type { BackendScenario } from '../context.js';
import { CpuMeter } from '../cpu.js';
import { createReceivers, enqueue } from '../enqueue.js';
import { LoadClient, webhookLikeRequest } from '../load.js';
import { profilePath, profileReport, profilerEnv } from '../profile.js';
import { arrivalRate } from '../receiver-control.js';
import { ratioRow, reportRow, type Row } from '../report.js';
import { lockOperations, peakRssMiB, Stack } from '../stack.js';

const EMITTERS = 2;

export const fanOut: BackendScenario = async (ctx, backend) => {
  const { receiver, sizes } = ctx;
  const receivers = sizes.fanoutReceivers;
  const messages = Math.ceil(sizes.fanoutDeliveries / receivers);
  const total = messages * receivers;

  await receiver.reset();
  const load = new LoadClient(receiver.origin, 64);
  const baselineCpu = new CpuMeter({ client: process.pid, receiver: receiver.pid }).start();
  await load.closedLoop((i) => webhookLikeRequest(`/r/fan-baseline-${i % receivers}`, i), { total, durationMs: sizes.drainBudgetMs });
  await load.close();
  const baselineStats = await receiver.stats();
  const baseline = arrivalRate(baselineStats);
  const baselineCost = baselineCpu.describe(baselineStats.count, 'request');

  const stack = await Stack.start(backend);
  try {
    const client = await stack.api();
    await createReceivers(client, receivers, (i) => ({ url: receiver.url(`fan-${i}`), eventTypes: ['bench.fanout'] }));
    await enqueue(client, Array.from({ length: messages }, (_, n) => ({ eventType: 'bench.fanout', payload: { n } })));
    await receiver.reset();
    const { result: [emitters, { stats, complete }, cost], commands } = await stack.redisDuring(async () => {
      const started = await stack.startEmitters(EMITTERS, ctx.profileDir ? profilerEnv(ctx.profileDir, `fan-out-${backend}`) : {});
      const pids = Object.fromEntries(started.map((emitter, i) => [`emitter ${i + 1}`, emitter.process.pid]));
      const cpu = new CpuMeter({ ...pids, 'redis-server': stack.redis.pid as number, receiver: receiver.pid }).start();
      const sentBefore = (await receiver.stats()).count;
      const drained = await receiver.drain(total, sizes.drainBudgetMs);
      return [started, drained, cpu.describe(drained.stats.count - sentBefore, 'delivery')] as const;
    });
    const lockOps = (await Promise.all(emitters.map(lockOperations))).reduce((sum, n) => sum + n, 0) / stats.count;
    const rss = emitters.map((emitter) => peakRssMiB(emitter.process.pid));
    const shape = `${receivers.toLocaleString('en-US')} receivers, ${total.toLocaleString('en-US')} deliveries, ${EMITTERS} emitters`;
    const rows: Row[] = [
      ratioRow({
        scenario: `fan-out: ${shape}`, backend, figure: arrivalRate(stats), unit: 'deliveries/s', baseline, baselineLabel: 'raw undici, 64 in flight',
        minRatio: 0.4, redisPerMessage: commands.total / stats.count,
        notes: `${complete ? '' : `PARTIAL: ${stats.count} of ${total} delivered within ${sizes.drainBudgetMs / 1000} s; `}${lockOps.toFixed(3)} lock ops/delivery (${messages} per receiver); ${cost} (raw undici: ${baselineCost}); Redis per delivery: ${commands.describe(stats.count)}`,
      }),
      reportRow('memory: peak RSS per emitter during fan-out', backend, Math.max(...rss), 'MiB', `VmHWM of each emitter: ${rss.map((mib) => mib.toFixed(0)).join(', ')} MiB`),
    ];
    return rows;
  } finally {
    await stack.stop();
    if (ctx.profileDir) ctx.log(profileReport(profilePath(ctx.profileDir, `fan-out-${backend}`, 'bench-emitter-1'), `fan-out emitter 1 (${backend})`));
  }
};
