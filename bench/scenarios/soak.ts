// Soak: a steady load (intake at a fixed rate, spread over receivers, emitters delivering) for 5
// minutes with LOCKSTEP_RETENTION_MS=30 s (40 s and 15 s in --quick). Sampled along the way: Redis
// used_memory and each emitter's resident memory. Both must stay flat once the retention period
// has passed: the baseline is the first sample taken after it, from the same run. Each emitter's
// V8 heap in use (its /metrics) is noted beside its RSS: a heap that grows is a leak, an RSS that
// grows over a flat heap is memory V8 or the allocator has not handed back.
import { TEST_TOKEN } from '../../test/support/lockstep.js';
import type { BackendScenario } from '../context.js';
import { createReceivers } from '../enqueue.js';
import { LoadClient } from '../load.js';
import { limitRow } from '../report.js';
import { rssMiB, scrapeCounter, Stack } from '../stack.js';

const EMITTERS = 2;
const RECEIVERS = 20;
const RATE = 100; // messages/s, each to one receiver
/** Flat: the last sample within this factor of the first one taken after the retention period. */
const FLAT = 1.25;
const PADDING = 'x'.repeat(512); // a payload of realistic size, so growth shows

export const soak: BackendScenario = async (ctx, backend) => {
  const { soakMs: durationMs, soakRetentionMs: retentionMs } = ctx.sizes;
  const sampleEveryMs = durationMs >= 300_000 ? 60_000 : 10_000;
  const stack = await Stack.start(backend, { LOCKSTEP_RETENTION_MS: String(retentionMs) });
  try {
    const client = await stack.api();
    await createReceivers(client, RECEIVERS, (i) => ({ url: ctx.receiver.url(`soak-${i}`), eventTypes: [`soak.r${i}`] }));
    const emitters = await stack.startEmitters(EMITTERS);
    const admin = stack.redis.client();
    const samples: { atS: number; redisMiB: number; rssMiB: number[]; heapMiB: number[] }[] = [];
    const started = Date.now();
    const sample = async (): Promise<void> => {
      const used = /used_memory:(\d+)/.exec(await admin.info('memory'))?.[1];
      const heap = await Promise.all(emitters.map((e) => scrapeCounter(e.metricsUrl, 'lockstep_nodejs_heap_size_used_bytes').catch(() => NaN)));
      samples.push({
        atS: Math.round((Date.now() - started) / 1000),
        redisMiB: Number(used) / 2 ** 20,
        rssMiB: emitters.map((e) => rssMiB(e.process.pid)),
        heapMiB: heap.map((bytes) => bytes / 2 ** 20),
      });
    };
    const sampler = setInterval(() => void sample(), sampleEveryMs);
    const load = new LoadClient(client.url, 8);
    const post = (i: number) => ({
      path: '/v1/messages',
      body: JSON.stringify({ eventType: `soak.r${i % RECEIVERS}`, payload: { n: i, padding: PADDING } }),
      headers: { authorization: `Bearer ${TEST_TOKEN}` },
    });
    const sent = await load.openLoop(post, RATE, durationMs);
    clearInterval(sampler);
    await sample();
    await load.close();
    admin.disconnect();
    const settled = samples.filter((s) => s.atS * 1000 >= retentionMs + sampleEveryMs / 2);
    const first = settled[0] ?? samples[0];
    const last = samples.at(-1);
    if (!first || !last) throw new Error('no memory samples taken');
    const accepted = sent.filter((s) => s.status === 202).length;
    const timeline = (pick: (s: (typeof samples)[number]) => number): string => samples.map((s) => `${s.atS} s: ${pick(s).toFixed(1)}`).join(', ');
    const maxRss = (s: (typeof samples)[number]): number => Math.max(...s.rssMiB);
    const about = `${durationMs / 1000} s at ${RATE} msg/s over ${RECEIVERS} receivers (${accepted} accepted), retention ${retentionMs / 1000} s; baseline = first sample after the retention period (${first.atS} s)`;
    return [
      limitRow({
        scenario: 'soak: Redis used_memory at the end',
        backend,
        figure: last.redisMiB,
        unit: 'MiB',
        baseline: first.redisMiB,
        baselineLabel: `at ${first.atS} s`,
        target: `≤ ${FLAT} × baseline`,
        limit: first.redisMiB * FLAT,
        notes: `${about}; MiB at ${timeline((s) => s.redisMiB)}`,
      }),
      limitRow({
        scenario: 'soak: emitter RSS at the end (largest)',
        backend,
        figure: maxRss(last),
        unit: 'MiB',
        baseline: maxRss(first),
        baselineLabel: `at ${first.atS} s`,
        target: `≤ ${FLAT} × baseline`,
        limit: maxRss(first) * FLAT,
        notes: `${about}; MiB at ${timeline(maxRss)}; V8 heap in use (largest), MiB at ${timeline((s) => Math.max(...s.heapMiB))}`,
      }),
    ];
  } finally {
    await stack.stop();
  }
};
