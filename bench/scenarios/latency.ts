// Latency at a steady rate (200 msg/s, open loop) to one receiver with 2 emitters running: from the
// 202 to the webhook's arrival at the receiver. Baseline: raw undici at the same rate to the same
// receiver process, from handing the request to undici to its arrival. Arrival times are taken by
// the receiver process on the same clock.
import { TEST_TOKEN, type ApiClient } from '../../test/support/lockstep.js';
import { waitFor } from '../../test/support/ports.js';
import type { BackendScenario, BenchContext } from '../context.js';
import { inParallel } from '../enqueue.js';
import { LoadClient, webhookLikeRequest } from '../load.js';
import { limitRow } from '../report.js';
import { Stack } from '../stack.js';
import { episodes, percentile } from '../stats.js';

const EMITTERS = 2;
/** Issue 13: p99 ≤ 15 ms on both lock backends (it was 25 ms before). */
const P99_LIMIT_MS = 15;

/** Arrival time at the receiver per webhook-id, waiting until `expected` have arrived. */
async function arrivalsById(ctx: BenchContext, expected: number): Promise<Map<string, number>> {
  await waitFor(`${expected} arrivals`, async () => (await ctx.receiver.stats()).count >= expected, 30_000, 50).catch(() => {});
  const { at, id } = await ctx.receiver.arrivals();
  return new Map(id.map((messageId, i) => [messageId, at[i] as number]));
}

/** When the emitter started each message's first attempt (GET /v1/messages/:id), epoch ms, by id. */
async function attemptStarts(client: ApiClient, ids: string[]): Promise<Map<string, number>> {
  const starts = new Map<string, number>();
  await inParallel(ids.length, 16, async (i) => {
    const id = ids[i] as string;
    const { body } = await client.request<{ deliveries: { attempts: { startedAt: string }[] }[] }>('GET', `/v1/messages/${id}`);
    const startedAt = body.deliveries[0]?.attempts[0]?.startedAt;
    if (startedAt) starts.set(id, Date.parse(startedAt));
  });
  return starts;
}

export const latency: BackendScenario = async (ctx, backend) => {
  const { receiver, sizes } = ctx;
  const rate = sizes.latencyRate;

  await receiver.reset();
  const raw = new LoadClient(receiver.origin, 16);
  const rawSent = await raw.openLoop((i) => webhookLikeRequest('/r/latency-baseline', i), rate, sizes.latencyMs);
  await raw.close();
  const rawArrivals = await arrivalsById(ctx, rawSent.length);
  const rawLatency = rawSent.map((sent, i) => (rawArrivals.get(`base_${i}`) ?? NaN) - sent.sentAt).filter(Number.isFinite);

  const stack = await Stack.start(backend);
  try {
    const client = await stack.api();
    await client.createReceiver({ url: receiver.url('latency'), eventTypes: ['bench.latency'] });
    await stack.startEmitters(EMITTERS);
    const load = new LoadClient(client.url, 16);
    const post = (i: number) => ({
      path: '/v1/messages',
      body: JSON.stringify({ eventType: 'bench.latency', payload: { n: i } }),
      headers: { authorization: `Bearer ${TEST_TOKEN}` },
    });
    await receiver.reset();
    const warmup = await load.openLoop(post, rate, 1000); // JIT, connections, BullMQ workers
    await receiver.waitForCount(warmup.length, 30_000, 'the warm-up messages');
    await receiver.reset();
    const { result: sent, commands } = await stack.redisDuring(async () => {
      const answers = await load.openLoop(post, rate, sizes.latencyMs);
      await receiver.waitForCount(answers.length, 30_000).catch(() => {});
      return answers;
    });
    await load.close();
    const accepted = sent.filter((s) => s.status === 202).map((s) => ({ ...s, id: (JSON.parse(s.text) as { id: string }).id }));
    const arrivals = await arrivalsById(ctx, accepted.length);
    const timed = accepted.map((s) => ({ at: s.answeredAt, ms: (arrivals.get(s.id) ?? NaN) - s.answeredAt })).filter(({ ms }) => Number.isFinite(ms));
    const fromAccepted = timed.map(({ ms }) => ms);
    const late = timed.filter(({ ms }) => ms > P99_LIMIT_MS);
    const stalls = episodes(
      late.map(({ at }) => at),
      500,
    );
    const fromPost = accepted.map((s) => (arrivals.get(s.id) ?? NaN) - s.sentAt).filter(Number.isFinite);
    const missing = accepted.length - fromAccepted.length;
    const starts = await attemptStarts(
      client,
      accepted.map((s) => s.id),
    );
    const pickup = accepted.map((s) => (starts.get(s.id) ?? NaN) - s.answeredAt).filter(Number.isFinite);
    const ms = (n: number): string => n.toFixed(1);
    return [
      limitRow({
        scenario: `latency at ${rate} msg/s: 202 → arrival, p99 (1 receiver, ${EMITTERS} emitters)`,
        backend,
        figure: percentile(fromAccepted, 99),
        unit: 'ms',
        baseline: percentile(rawLatency, 99),
        baselineLabel: 'raw undici p99',
        target: `p99 ≤ ${P99_LIMIT_MS} ms`,
        limit: P99_LIMIT_MS,
        redisPerMessage: commands.total / accepted.length,
        notes: [
          `p50 ${ms(percentile(fromAccepted, 50))} ms (raw undici p50 ${ms(percentile(rawLatency, 50))} ms)`,
          `POST → arrival p50/p99 ${ms(percentile(fromPost, 50))}/${ms(percentile(fromPost, 99))} ms`,
          `202 → attempt started (ms clock) p50/p99 ${ms(percentile(pickup, 50))}/${ms(percentile(pickup, 99))} ms`,
          `over ${P99_LIMIT_MS} ms: ${late.length} messages in ${stalls.count} episode(s) (longest ${ms(stalls.longestMs)} ms)`,
          `${accepted.length} accepted, ${sent.length - accepted.length} refused, ${missing} not arrived`,
        ].join('; '),
      }),
    ];
  } finally {
    await stack.stop();
  }
};
