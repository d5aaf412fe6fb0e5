// Fan-out: N receivers (paths of the one receiver process), every message to all of them; 2
// emitters, warmed up on a fan-out of half the size to the same receivers, drain them. Baseline:
// raw undici, 64 in flight, the same number of requests spread over the same receivers. Also the
// peak RSS of each emitter.
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { DRAIN_QUEUE } from '../../src/store/drain-queue.js';
import type { ApiClient } from '../../test/support/lockstep.js';
import type { BackendScenario, BenchContext } from '../context.js';
import { createReceivers, enqueue, fanOutSize } from '../enqueue.js';
import { ratioRow, reportRow } from '../report.js';
import { peakRssMiB, Stack } from '../stack.js';
import { measureDrain, rawBaseline, reportProfile, type HeldBacklog } from './drain.js';

const EMITTERS = 2;
const EVENT_TYPE = 'bench.fanout';
/** config/default.json's `redisPrefix`: the stack's processes keep it. */
const REDIS_PREFIX = 'lockstep';

/**
 * The receivers and their backlog, held back from warm emitters: the emitters first drain half as
 * many messages to the same receivers, then the drain queue is paused (BullMQ's own pause: the
 * workers take no job), the backlog is accepted (its drain jobs wait in the paused queue), and
 * resuming lets all 1,000 receivers go at one moment, as enabling one receiver does for the hot one.
 */
async function holdFanOut(
  ctx: BenchContext,
  client: ApiClient,
  stack: Stack,
  receivers: number,
  messages: number,
): Promise<HeldBacklog & { close(): Promise<void> }> {
  await createReceivers(client, receivers, (i) => ({ url: ctx.receiver.url(`fan-${i}`), eventTypes: [EVENT_TYPE] }));
  const send = (count: number): Promise<void> =>
    enqueue(
      client,
      Array.from({ length: count }, (_, n) => ({ eventType: EVENT_TYPE, payload: { n } })),
    );
  const queue = new Queue(DRAIN_QUEUE, { connection: { url: stack.redis.url }, prefix: REDIS_PREFIX });
  const warmUpMessages = Math.ceil(messages / 2);
  return {
    async warmUp() {
      await ctx.receiver.reset();
      await send(warmUpMessages);
      await ctx.receiver.waitForCount(warmUpMessages * receivers, 60_000, 'the warm-up deliveries');
      await queue.pause();
      // turns still lingering on an emptied queue would take new work without a job
      while ((await queue.getActiveCount()) > 0) await sleep(20);
      await send(messages);
      return warmUpMessages * receivers;
    },
    release: () => queue.resume(),
    close: () => queue.close(),
  };
}

export const fanOut: BackendScenario = async (ctx, backend) => {
  const size = fanOutSize(ctx.sizes);
  const { receivers, messages, total } = size;
  const baseline = await rawBaseline(ctx, 64, total, (i) => `/r/fan-baseline-${i % receivers}`);
  const stack = await Stack.start(backend);
  try {
    const client = await stack.api();
    const held = await holdFanOut(ctx, client, stack, receivers, messages);
    const drain = await measureDrain(ctx, stack, EMITTERS, total, 'fan-out', held).finally(() => held.close());
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
