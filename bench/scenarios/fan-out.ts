// Fan-out: N receivers (paths of the one receiver process), every message to all of them, queued
// while no emitter runs; then 2 emitters drain them. Baseline: raw undici, 64 in flight, the same
// number of requests spread over the same receivers. Also the peak RSS of each emitter.
import type { BackendScenario } from '../context.js';
import { createReceivers, enqueue } from '../enqueue.js';
import { LoadClient, webhookLikeRequest } from '../load.js';
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
  await load.closedLoop((i) => webhookLikeRequest(`/r/fan-baseline-${i % receivers}`, i), { total });
  await load.close();
  const baseline = arrivalRate(await receiver.stats());

  const stack = await Stack.start(backend);
  try {
    const client = await stack.api();
    await createReceivers(client, receivers, (i) => ({ url: receiver.url(`fan-${i}`), eventTypes: ['bench.fanout'] }));
    await enqueue(client, Array.from({ length: messages }, (_, n) => ({ eventType: 'bench.fanout', payload: { n } })));
    await receiver.reset();
    const { result: [emitters, stats], commands } = await stack.redisDuring(async () => {
      const started = await stack.startEmitters(EMITTERS);
      return [started, await receiver.waitForCount(total, 300_000, `${total} fan-out deliveries`)] as const;
    });
    const lockOps = (await Promise.all(emitters.map(lockOperations))).reduce((sum, n) => sum + n, 0) / stats.count;
    const rss = emitters.map((emitter) => peakRssMiB(emitter.process.pid));
    const shape = `${receivers.toLocaleString('en-US')} receivers, ${total.toLocaleString('en-US')} deliveries, ${EMITTERS} emitters`;
    const rows: Row[] = [
      ratioRow({
        scenario: `fan-out: ${shape}`, backend, figure: arrivalRate(stats), unit: 'deliveries/s', baseline, baselineLabel: 'raw undici, 64 in flight',
        minRatio: 0.4, redisPerMessage: commands.total / stats.count,
        notes: `${lockOps.toFixed(3)} lock ops/delivery (${messages} per receiver); Redis per delivery: ${commands.describe(stats.count)}`,
      }),
      reportRow('memory: peak RSS per emitter during fan-out', backend, Math.max(...rss), 'MiB', `VmHWM of each emitter: ${rss.map((mib) => mib.toFixed(0)).join(', ')} MiB`),
    ];
    return rows;
  } finally {
    await stack.stop();
  }
};
