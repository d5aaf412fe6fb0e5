// What the hot-receiver and fan-out scenarios share: a raw-undici baseline measured at the receiver,
// and the drain of a queued backlog by emitters started for it, measured the same way.
import type { BenchContext } from '../context.js';
import type { ApiClient } from '../../test/support/lockstep.js';
import { CpuMeter } from '../cpu.js';
import { enqueue, type NewMessage } from '../enqueue.js';
import { LoadClient, webhookLikeRequest } from '../load.js';
import { profilePath, profileReport, profilerEnv } from '../profile.js';
import { rateAfter, type ReceiverStats } from '../receiver-control.js';
import type { CommandDelta } from '../redis-stats.js';
import { lockOperations, scrapeCounter, type BenchEmitter, type Stack } from '../stack.js';

/**
 * `total` POSTs, `inFlight` at once, request i to `path(i)`: arrivals/s at the receiver and CPU per
 * request. With a `lead`, that many more are sent first and left out of the rate (not of the CPU).
 */
export async function rawBaseline(
  ctx: BenchContext,
  inFlight: number,
  total: number,
  path: (i: number) => string,
  lead = 0,
): Promise<{ rate: number; cost: string }> {
  const { receiver, sizes } = ctx;
  const load = new LoadClient(receiver.origin, inFlight);
  // Warmed up first, as intake is: in a run's first scenario this process's undici is cold, and the
  // raw client then took 0.38 ms of CPU per request (0.10 warm) and ran at a third of its warm rate,
  // which flattered the Redis rows of `--backend all` (run first) against the etcd ones.
  await load.closedLoop((i) => webhookLikeRequest(path(i), i), { durationMs: sizes.warmupMs });
  await receiver.reset();
  const cpu = new CpuMeter({ client: process.pid, receiver: receiver.pid }).start();
  await load.closedLoop((i) => webhookLikeRequest(path(i), i), { total: lead + total, durationMs: sizes.drainBudgetMs });
  await load.close();
  const stats = await receiver.stats();
  return { rate: await rateAfter(receiver, stats, lead), cost: cpu.describe(stats.count, 'request') };
}

export interface Drain {
  emitters: BenchEmitter[];
  stats: ReceiverStats;
  /** Deliveries/s from the first arrival (the first after the lead-in, with one) to the last. */
  rate: number;
  /** CPU per delivery of each process, as text. */
  cost: string;
  commands: CommandDelta;
  /** Lock operations of all the emitters (their /metrics) per delivery. */
  lockOpsPerDelivery: number;
  /** A note for the table: says when not everything arrived within the budget. */
  partial: string;
}

/**
 * A backlog queued for a receiver created disabled, so that the emitters warm up before it is let
 * go, as the raw baseline does: a fresh emitter's first second runs far slower (JIT, connections,
 * caches), and a --quick drain is mostly its first seconds (bench/README.md, "Session 16").
 */
export interface HeldBacklog {
  /** Sends the emitters a backlog of half the size to a twin receiver and waits until it has arrived; returns its size. */
  warmUp(): Promise<number>;
  /** Lets the measured backlog go (enables its receiver). */
  release(): Promise<void>;
}

/** Creates the measured receiver (disabled) and its twin for the warm-up, and queues `total` messages of `eventType` for the first. */
export async function holdBacklog(
  ctx: BenchContext,
  client: ApiClient,
  fields: { url: string } & Record<string, unknown>,
  eventType: string,
  total: number,
): Promise<HeldBacklog> {
  const { id } = await client.createReceiver({ ...fields, eventTypes: [eventType], enabled: false });
  const twin = await client.createReceiver({ ...fields, url: `${fields.url}-warm-up`, eventTypes: [eventType] });
  const messages = (receiverId: string, count: number): NewMessage[] =>
    Array.from({ length: count }, (_, n) => ({ eventType, payload: { n }, receiverIds: [receiverId] }));
  await enqueue(client, messages(id, total));
  const warmUpCount = Math.ceil(total / 2);
  return {
    async warmUp() {
      await ctx.receiver.reset();
      await enqueue(client, messages(twin.id, warmUpCount));
      await ctx.receiver.waitForCount(warmUpCount, 60_000, 'the warm-up deliveries');
      return warmUpCount;
    },
    async release() {
      const { status, body } = await client.request('PATCH', `/v1/receivers/${id}`, { enabled: true });
      if (status !== 200) throw new Error(`enabling the measured receiver: ${status} ${JSON.stringify(body)}`);
    },
  };
}

/**
 * Starts `count` emitters on a backlog of `total` deliveries queued while none ran, and measures
 * the drain at the receiver for at most the drain budget. A `held` backlog is let go once the
 * emitters have warmed up, and only then are the processes' CPU, Redis and the receiver counted.
 * With `--profile`, the emitters write CPU profiles named after `scenario`. The rate leaves out the
 * first `lead` arrivals of the `total` (as the raw baseline's lead-in); the CPU and Redis counts do not.
 */
export async function measureDrain(
  ctx: BenchContext,
  stack: Stack,
  count: number,
  total: number,
  scenario: string,
  held?: HeldBacklog,
  lead = 0,
): Promise<Drain> {
  const { receiver, sizes } = ctx;
  const env = ctx.profileDir ? profilerEnv(ctx.profileDir, `${scenario}-${stack.backend}`) : {};
  const warm = held ? await stack.startEmitters(count, env) : undefined;
  const warmedUp = held ? await held.warmUp() : 0;
  const lockOpsBefore = await lockOperationsOf(warm ?? []);
  await receiver.reset();
  const { result, commands } = await stack.redisDuring(async () => {
    const emitters = warm ?? (await stack.startEmitters(count, env));
    const pids = Object.fromEntries(emitters.map((emitter, i) => [count === 1 ? 'emitter' : `emitter ${i + 1}`, emitter.process.pid]));
    const etcd: Record<string, number> = stack.etcd?.pid === undefined ? {} : { etcd: stack.etcd.pid };
    const cpu = new CpuMeter({ ...pids, 'redis-server': stack.redis.pid as number, ...etcd, receiver: receiver.pid }).start();
    const sentBefore = (await receiver.stats()).count;
    await held?.release();
    const drained = await receiver.drain(total, sizes.drainBudgetMs);
    const cost = cpu.describe(drained.stats.count - sentBefore, 'delivery');
    // Redis's count ends once the emitters have recorded what arrived (their records trail the
    // requests by up to a batch: recorder.ts), so every delivery's record is in it
    await recordedAll(emitters, warmedUp + drained.stats.count - sentBefore);
    return { emitters, ...drained, cost };
  });
  const partial = result.complete ? '' : `PARTIAL: ${result.stats.count} of ${total} delivered within ${sizes.drainBudgetMs / 1000} s; `;
  const lockOps = (await lockOperationsOf(result.emitters)) - lockOpsBefore;
  return { ...result, rate: await rateAfter(receiver, result.stats, lead), commands, lockOpsPerDelivery: lockOps / result.stats.count, partial };
}

async function lockOperationsOf(emitters: BenchEmitter[]): Promise<number> {
  return (await Promise.all(emitters.map(lockOperations))).reduce((sum, n) => sum + n, 0);
}

/** With `--profile`, prints the summary of the first emitter's profile (call after the stack stopped). */
export function reportProfile(ctx: BenchContext, scenario: string, stack: Stack): void {
  if (ctx.profileDir)
    ctx.log(profileReport(profilePath(ctx.profileDir, `${scenario}-${stack.backend}`, 'bench-emitter-1'), `the ${scenario} emitter 1 (${stack.backend})`));
}

/** Waits (up to 5 s) until the emitters' recorded attempts reach `count`. */
async function recordedAll(emitters: BenchEmitter[], count: number): Promise<void> {
  const giveUpAt = Date.now() + 5000;
  while (Date.now() < giveUpAt) {
    const recorded = await Promise.all(emitters.map((emitter) => scrapeCounter(emitter.metricsUrl, 'lockstep_delivery_attempts_total')));
    if (recorded.reduce((sum, n) => sum + n, 0) >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
