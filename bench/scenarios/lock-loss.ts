// Lock loss: one emitter (lock TTL 2 s) has a request in flight to a receiver that never answers
// (timeout 60 s); then its lock is made to lapse, two ways, each repeated a few rounds (a new
// receiver and message per round, same processes):
//
// 1. holder frozen: SIGSTOP the emitter for TTL + 500 ms, so its local deadline (last renewal +
//    TTL − margin) passes while it is frozen, then SIGCONT. A frozen process can do nothing at its
//    deadline, so the figure is the time from the first moment it could act past its deadline,
//    max(deadline, SIGCONT) = SIGCONT, to the receiver seeing the socket close.
// 2. lock service frozen: SIGSTOP the lock service (redis-server or etcd) so that renewals go
//    unanswered while the emitter runs. The figure is the time from the emitter's local deadline to
//    the receiver seeing the socket close: the guarantee itself. If nothing is aborted by TTL + 3 s,
//    the service is let go (SIGCONT) and the round counts until the abort that follows.
//
// The last renewal is pinned by polling the emitter's /metrics every few ms until its renewal
// counter moves; the freeze follows at once. That renewal was sent after the poll before it, less
// one round trip to the lock service (bounded by RENEWAL_RTT_MS), and confirmed by the poll that
// saw it, so the deadline lies in [previous poll − RTT + TTL − margin, that poll + TTL − margin].
// Figures are the worst round, taken from the earliest possible deadline.
import { deadlineMargin } from '../../src/locks/types.js';
import type { ApiClient } from '../../test/support/lockstep.js';
import { waitFor } from '../../test/support/ports.js';
import { now, sleep } from '../clock.js';
import { SHORT_TTL_MS, type BackendScenario, type BenchContext } from '../context.js';
import { limitRow } from '../report.js';
import { scrapeCounter, Stack, type BenchEmitter } from '../stack.js';

const LIMIT_MS = 100;
const POLL_MS = 5;
/** Upper bound of one renewal round trip on loopback, for the deadline range. */
const RENEWAL_RTT_MS = 5;
const MARGIN_MS = deadlineMargin(SHORT_TTL_MS);

/** The last renewal was sent after `from` and confirmed before `to`. */
interface Pinned {
  from: number;
  to: number;
}

/** One round: times relative to the freeze. */
interface Round {
  pinned: Pinned;
  frozenAt: number;
  closedAt: number;
  /** When the freeze was lifted, if before the abort. */
  releasedAt: number | null;
}

/** Waits for the emitter's next confirmed session renewal; returns between which polls it came. */
async function nextRenewal(emitter: BenchEmitter): Promise<Pinned> {
  const renewals = (): Promise<number> => scrapeCounter(emitter.metricsUrl, 'lockstep_lock_operations_total', 'op="renewal"');
  const start = await renewals();
  const giveUpAt = now() + 10 * SHORT_TTL_MS;
  for (let previous = now(); previous < giveUpAt; previous = now()) {
    await sleep(POLL_MS);
    if ((await renewals()) > start) return { from: previous - RENEWAL_RTT_MS, to: now() };
  }
  throw new Error('the emitter renewed no lock session for 10 TTLs');
}

/** Puts a request to a new never-answering receiver in flight; returns its message id. */
async function hungDelivery(ctx: BenchContext, client: ApiClient, round: number): Promise<string> {
  const { id } = await client.createReceiver({ url: ctx.receiver.url(`slow-${round}`, true), eventTypes: ['bench.slow'], timeoutMs: 60_000 });
  const message = await client.post('bench.slow', { round }, { receiverIds: [id] });
  await waitFor('the request to the slow receiver', async () => (await ctx.receiver.hung()).some((r) => r.id === message.id), 30_000, 10);
  return message.id;
}

/** When the receiver saw the socket of `messageId`'s request close, or NaN if not within `timeoutMs`. */
async function socketClosedAt(ctx: BenchContext, messageId: string, timeoutMs: number): Promise<number> {
  let closedAt = NaN;
  const closed = async (): Promise<boolean> => Number.isFinite((closedAt = (await ctx.receiver.hung()).find((r) => r.id === messageId)?.closedAt ?? NaN));
  await waitFor('the in-flight request to be aborted', closed, timeoutMs, 2).catch(() => {});
  return closedAt;
}

/** Runs `rounds` rounds on one stack with one emitter; `freeze` makes the lock lapse and returns the round. */
async function rounds(ctx: BenchContext, stack: Stack, count: number, freeze: (emitter: BenchEmitter, messageId: string) => Promise<Round>): Promise<Round[]> {
  const client = await stack.api();
  const [emitter] = await stack.startEmitters(1);
  if (!emitter) throw new Error('no emitter');
  await ctx.receiver.reset();
  const done: Round[] = [];
  for (let round = 0; round < count; round++) {
    const started = now();
    const messageId = await hungDelivery(ctx, client, round);
    const inFlight = now();
    done.push(await freeze(emitter, messageId));
    ctx.log(`  round ${round + 1}: request in flight after ${ms(inFlight - started)} ms, round over after ${ms(now() - started)} ms`);
  }
  return done;
}

const earliestDeadline = (round: Round): number => round.pinned.from + SHORT_TTL_MS - MARGIN_MS;
const latestDeadline = (round: Round): number => round.pinned.to + SHORT_TTL_MS - MARGIN_MS;
const ms = (n: number): string => n.toFixed(0);

/** The round with the largest `figure`, described. */
function worst(all: Round[], figure: (round: Round) => number): { round: Round; figure: number; text: string } {
  const round = all.reduce((a, b) => (figure(b) > figure(a) ? b : a));
  const at = (t: number): string => ms(t - round.frozenAt);
  const lifted = round.releasedAt === null ? '' : `, the freeze was lifted at ${at(round.releasedAt)} ms`;
  const text =
    `worst of ${all.length} rounds (all: ${all.map((r) => ms(figure(r))).join(', ')} ms); ` +
    `in it the deadline fell ${at(earliestDeadline(round))}…${at(latestDeadline(round))} ms after the freeze ` +
    `(last renewal pinned from the emitter's /metrics, margin ${MARGIN_MS} ms)${lifted}, socket closed at ${at(round.closedAt)} ms`;
  return { round, figure: figure(round), text };
}

export const lockLossHolderFrozen: BackendScenario = async (ctx, backend) => {
  const stack = await Stack.start(backend, { LOCKSTEP_LOCK_TTL_MS: String(SHORT_TTL_MS) });
  try {
    const all = await rounds(ctx, stack, ctx.sizes.lockLossRounds, async (emitter, messageId) => {
      const pinned = await nextRenewal(emitter);
      emitter.process.pause();
      const frozenAt = now();
      await sleep(SHORT_TTL_MS + 500);
      const releasedAt = now();
      emitter.process.resume();
      return { pinned, frozenAt, releasedAt, closedAt: await socketClosedAt(ctx, messageId, 10_000) };
    });
    const fromAct = (round: Round): number => round.closedAt - Math.max(latestDeadline(round), round.releasedAt ?? -Infinity);
    // A request that ended before the freeze measures nothing about the freeze (seen once with etcd
    // on a loaded machine; most likely a renewal came too late and the emitter let the lock go).
    const measured = all.filter((round) => round.closedAt >= round.frozenAt);
    const early = all.length - measured.length;
    const { figure, text } = worst(measured.length > 0 ? measured : all, fromAct);
    return [
      limitRow({
        scenario: `lock loss: holder frozen past its deadline (TTL ${SHORT_TTL_MS / 1000} s)`,
        backend,
        figure,
        unit: 'ms to abort',
        baseline: null,
        baselineLabel: '—',
        target: `≤ ${LIMIT_MS} ms`,
        limit: LIMIT_MS,
        notes: `from max(deadline, SIGCONT) to the receiver seeing the socket close; ${early > 0 ? `${early} round(s) not counted: the request ended before the freeze; ` : ''}${text}`,
      }),
    ];
  } finally {
    await stack.stop();
  }
};

export const lockLossServiceFrozen: BackendScenario = async (ctx, backend) => {
  const stack = await Stack.start(backend, { LOCKSTEP_LOCK_TTL_MS: String(SHORT_TTL_MS) });
  const service = backend === 'etcd' ? stack.etcd : stack.redis;
  const signal = (name: 'SIGSTOP' | 'SIGCONT'): void => void (service?.pid && process.kill(service.pid, name));
  try {
    const all = await rounds(ctx, stack, ctx.sizes.lockLossRounds, async (emitter, messageId) => {
      const pinned = await nextRenewal(emitter);
      signal('SIGSTOP');
      const frozenAt = now();
      let closedAt = await socketClosedAt(ctx, messageId, SHORT_TTL_MS + 3000);
      const releasedAt = Number.isFinite(closedAt) ? null : now();
      signal('SIGCONT');
      if (releasedAt !== null) closedAt = await socketClosedAt(ctx, messageId, 10_000);
      await sleep(SHORT_TTL_MS / 2); // the emitter reconnects and renews before the next round
      return { pinned, frozenAt, releasedAt, closedAt };
    });
    const { figure, text } = worst(all, (round) => round.closedAt - earliestDeadline(round));
    const late = all.filter((round) => round.releasedAt !== null).length;
    return [
      limitRow({
        scenario: `lock loss: lock service (${backend === 'etcd' ? 'etcd' : 'redis-server'}) frozen, holder running`,
        backend,
        figure,
        unit: 'ms deadline → abort',
        baseline: null,
        baselineLabel: '—',
        target: `≤ ${LIMIT_MS} ms`,
        limit: LIMIT_MS,
        notes: `${late > 0 ? `${late} of ${all.length} rounds NOT aborted while the service was frozen (only after SIGCONT); ` : ''}${text}`,
      }),
    ];
  } finally {
    signal('SIGCONT');
    await stack.stop();
  }
};
