import type { DeliveryClient } from '../delivery/client.js';
import { sleep, withLinkedSignal } from '../lib/abort.js';
import { lingerForWork } from './linger.js';
import type { HeldLock, ReceiverLocks } from '../locks/types.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/index.js';
import type { AttemptRecord, Claim, ClaimedDelivery, ClaimedReceiver, DeliveryStore, Holder } from '../store/deliveries.js';
import { AttemptAccounting, attemptOf, type DrainCounters } from './attempt-accounting.js';
import { LaneSet, WINDOW, lanesWanted, windowFor, type Lane } from './lanes.js';
import { Pacer } from './pacer.js';
import { AttemptRecorder } from './recorder.js';
import { breakerFor, outcomeOf, scheduleFor } from './retry-policy.js';
import type { DrainOptions, TurnEnd, WindowFacts } from './turn.js';
import { signerFor, webhookRequest } from './webhook-request.js';

/** A claim that may send nothing for at most this long (rate limit, a short backoff) waits inside the turn, keeping the locks. */
const WAIT_IN_TURN_MS = 1000;
/**
 * After a request that got no answer (timed out, cut off), the lane waits this long before its
 * next request: the aborted connection's close reaches the receiver a moment after we drop it,
 * and the receiver must see it closed before the next request arrives, or it would see two.
 */
const CLOSE_SETTLE_MS = 25;

/**
 * One turn on one receiver: take its lock, then claim windows of its due deliveries and send them
 * one at a time in the order claimed while the lock holds, up to the fairness budget, recording
 * the outcomes behind the requests (recorder.ts); then release. The lock's `lost` signal is the
 * request's abort signal, and the lock is checked again right before every send.
 *
 * Within a window, a failure stops the sending before the next request when the receiver is
 * `strict`, when the breaker opens (consecutive failures, or a 429/503), or when the lock is lost;
 * an `unordered` receiver's other deliveries go on. The next claim then says when to come back.
 *
 * `maxInFlight` N > 1: the turn also tries lock slots 1..N-1 once (lanes.ts); every held slot is a
 * lane, and the lanes take the window's deliveries in order, each starting its request the moment
 * it takes one, so first attempts start in acceptance order while completions interleave. Losing
 * slot k aborts lane k's request only; losing slot 0 ends the turn. A stop (breaker, strict, 429,
 * 410, disabled) stops every lane before its next request.
 */
export class ReceiverDrainer {
  private readonly accounting: AttemptAccounting;
  private turnsRunning = 0;

  constructor(
    private readonly locks: ReceiverLocks,
    private readonly store: DeliveryStore,
    private readonly client: DeliveryClient,
    private readonly options: DrainOptions,
    private readonly log: Logger,
    /** Aborts on shutdown: no new send starts, the turn ends and the job is handed back. */
    private readonly stopping: AbortSignal,
    private readonly metrics: Metrics,
  ) {
    this.accounting = new AttemptAccounting(metrics, log);
  }

  get counters(): DrainCounters {
    return this.accounting.counters;
  }

  async runTurn(receiverId: string): Promise<TurnEnd> {
    this.turnsRunning++;
    try {
      return await this.turn(receiverId);
    } finally {
      this.turnsRunning--;
    }
  }

  private async turn(receiverId: string): Promise<TurnEnd> {
    const asked = performance.now();
    const lock = await this.locks.acquire(receiverId, { waitMs: this.options.lockWaitMs, signal: this.stopping });
    if (!lock) return { kind: 'busy' };
    const lockWaitMs = performance.now() - asked;
    this.metrics.lockAcquired(lockWaitMs);
    this.counters.turns++;
    const lanes = new LaneSet(this.locks, lock);
    try {
      return await this.drainWhileHeld(lock, lanes, lockWaitMs);
    } finally {
      await lanes.release();
      await this.locks.release(lock);
    }
  }

  private async drainWhileHeld(lock: HeldLock, lanes: LaneSet, lockWaitMs: number): Promise<TurnEnd> {
    const holder: Holder = { fence: { service: this.locks.backend, value: lock.fence } };
    const { retry, maxMessagesPerTurn, maxTurnMs } = this.options;
    const turnEndsAt = performance.now() + maxTurnMs;
    // A lock lost between acquire and here (a pause, a slow reply) claims nothing: the claim would
    // raise the store's fence mark for a holder that can no longer send.
    if (!this.canSend(lock)) return { kind: 'later', at: Date.now() };
    // how far ahead a rate-limited claim may reserve: the longest wait worth keeping the locks for, within the turn
    const horizon = (): number => Math.max(0, Math.min(WAIT_IN_TURN_MS, turnEndsAt - performance.now()));
    // when the last claim was sent and answered, on our clock (the pacer's anchor)
    const timing = { sentAt: performance.now(), answeredAt: 0 };
    // read before each claim is sent: a key change after it ends the window (sendWindow), work accepted after it wakes a lingering turn
    let keysStamp = this.options.keyChanges.stamp();
    let workStamp = this.options.linger?.work.stamp() ?? 0;
    // the size of the last claim: a window that came back shorter found the queue emptied
    let asked = Math.min(WINDOW, maxMessagesPerTurn);
    let claim: Claim = await this.store.claim(lock.receiverId, holder, asked, retry.breakerFailures, horizon());
    timing.answeredAt = performance.now();
    let rateLimited = false;
    let lastPacer: Pacer | undefined;
    // the fairness budget is per lane: a turn on N lanes may send N times as much in the same time;
    // spent while no other receiver's job waits for an emitter, it grows by as much (within the turn's time)
    let extra = 0;
    const budgetLeft = (sent: number): number => maxMessagesPerTurn * lanes.all.length + extra - sent;
    let sent = 0;
    // a claim outside the record's round trip: after a wait, or new work heard while lingering
    const claimAgain = async (): Promise<Claim> => {
      timing.sentAt = performance.now();
      keysStamp = this.options.keyChanges.stamp();
      workStamp = this.options.linger?.work.stamp() ?? 0;
      asked = Math.min(windowFor(lanes.all.length, rateLimited), budgetLeft(sent));
      const next = await this.store.claim(lock.receiverId, holder, asked, retry.breakerFailures, horizon());
      timing.answeredAt = performance.now();
      return next;
    };
    for (;;) {
      if (claim.kind === 'fenced') return this.fenced(lock, claim.maxFence);
      if (claim.kind === 'wait') {
        // a short wait (the rate limit's next slot) is spent holding the locks; a long one gives the receiver back
        if (claim.inMs > WAIT_IN_TURN_MS || performance.now() + claim.inMs >= turnEndsAt || budgetLeft(sent) <= 0)
          return { kind: 'later', at: Date.now() + claim.inMs };
        await withLinkedSignal([this.stopping, lock.lost], (signal) => sleep(claim.kind === 'wait' ? claim.inMs : 0, signal));
        if (!this.canSend(lock)) return { kind: 'later', at: Date.now() };
        claim = await claimAgain();
        continue;
      }
      const lingering = { workStamp, turnsRunning: this.turnsRunning, msLeft: turnEndsAt - performance.now() };
      if (
        claim.kind === 'empty' &&
        budgetLeft(sent) > 0 &&
        (await lingerForWork(this.options.linger, lock.receiverId, lingering, [this.stopping, lock.lost])) &&
        this.canSend(lock)
      ) {
        claim = await claimAgain();
        continue;
      }
      if (claim.kind !== 'send') return { kind: 'done' };
      await lanes.resize(lanesWanted(claim.receiver));
      const schedule = scheduleFor(claim.receiver, retry);
      const recorder = new AttemptRecorder(
        this.store,
        lock.receiverId,
        holder,
        breakerFor(schedule, retry),
        (records, result) => this.accounting.recorded(records, result),
        claim.deliveries,
      );
      const pacer = claim.rate ? new Pacer(claim.rate, { ...timing }, claim.deliveries.length, lastPacer?.localTat) : undefined;
      lastPacer = pacer;
      // the keys of this window, decoded once: a rotation ends the window, and the next claim brings the new keys
      const signer = signerFor(claim.receiver, timing.sentAt);
      sent += await this.sendWindow(lock, lanes.all, claim, { schedule, signer, lockWaitMs, keysStamp }, recorder, pacer);
      rateLimited = claim.rate !== undefined;
      if (budgetLeft(sent) <= 0 && this.canSend(lock) && performance.now() < turnEndsAt && !(await this.othersWaiting()))
        extra += maxMessagesPerTurn * lanes.all.length;
      const budget = Math.min(windowFor(lanes.all.length, rateLimited), budgetLeft(sent));
      const more = this.canSend(lock) && !recorder.fenced && budget > 0 && performance.now() < turnEndsAt;
      timing.sentAt = performance.now();
      keysStamp = this.options.keyChanges.stamp();
      workStamp = this.options.linger?.work.stamp() ?? 0;
      const onlyIfQueued = claim.deliveries.length < asked;
      asked = budget;
      const { fenced, next } = await recorder.settle(more ? { size: budget, horizonMs: horizon(), onlyIfQueued } : undefined, pacer?.shiftMs() ?? 0);
      timing.answeredAt = performance.now();
      if (fenced) return this.fenced(lock, undefined);
      if (!next) return { kind: 'later', at: Date.now() };
      claim = next;
    }
  }

  /**
   * Sends a window's deliveries in order until it is done or something says stop; returns how many
   * were sent. Every lane takes the next delivery and starts its request in the same synchronous
   * step, right after checking its locks, so requests start in the order of the window. A
   * rate-limited window's lanes first wait for the pacer, in turn.
   */
  private async sendWindow(
    own: HeldLock,
    lanes: readonly Lane[],
    claim: Extract<Claim, { kind: 'send' }>,
    how: WindowFacts,
    recorder: AttemptRecorder,
    pacer: Pacer | undefined,
  ): Promise<number> {
    const { receiver, deliveries } = claim;
    const { breakerFailures } = this.options.retry;
    let streak = claim.failStreak;
    let next = 0;
    let stop = false;
    // Keys changed after the claim read them (a rotation's notice): stop before the next attempt; the
    // next claim, in the record's round trip, brings the new keys. With the notices down (not
    // `listening`), every window is one attempt long. Without a change, just a Map lookup.
    const { keyChanges } = this.options;
    const stale = (): boolean => keyChanges.since(own.receiverId, how.keysStamp) && (keyChanges.listening || next > 0);
    const going = (lane: Lane): boolean => !stop && next < deliveries.length && this.canSend(own) && lane.lock.isHeld() && !recorder.halted && !stale();
    const run = async (lane: Lane): Promise<void> => {
      // The deadline check right before each send: a process that just woke from a pause past its
      // deadline finds its lock lost here and sends nothing.
      while (going(lane)) {
        const take = (): ClaimedDelivery | undefined => (going(lane) ? deliveries[next++] : undefined);
        const paced = pacer && (await withLinkedSignal([this.stopping, lane.signal], (signal) => pacer.admit(signal, take, () => going(lane))));
        if (pacer && !paced) return;
        const delivery = paced ? paced.item : (deliveries[next++] as ClaimedDelivery);
        const record = await this.attempt(receiver, delivery, own, lane, how);
        if (paced) pacer?.answered(paced.index);
        recorder.add(record);
        const { outcome } = record;
        if (outcome.kind === 'delivered') streak = 0;
        else if (outcome.kind === 'failed') streak++;
        // a lost slot ends only its own lane; anything the receiver said about itself ends them all
        if (outcome.kind === 'aborted') return;
        const goOn =
          outcome.kind === 'delivered' || (outcome.kind === 'failed' && receiver.ordering === 'unordered' && streak < breakerFailures && outcome.holdMs === 0);
        if (!goOn) stop = true;
        else if (record.attempt.statusCode === null) await withLinkedSignal([this.stopping, lane.signal], (signal) => sleep(CLOSE_SETTLE_MS, signal));
      }
    };
    await Promise.all(lanes.map(run));
    return next;
  }

  private async attempt(receiver: ClaimedReceiver, delivery: ClaimedDelivery, own: HeldLock, lane: Lane, how: WindowFacts): Promise<AttemptRecord> {
    const startedAt = Date.now();
    // the turn's fence in every request: it never goes down for the receiver, whichever lane sends;
    // signed with the keys valid at this moment
    const { body, headers } = webhookRequest(how.signer, receiver, delivery, own.fence, { nowMs: startedAt, monotonicMs: performance.now() });
    // tracing off: the optional call short-circuits, nothing is allocated for it
    const span = this.options.tracing?.attempt(delivery.traceparent, {
      receiverId: delivery.receiverId,
      messageId: delivery.messageId,
      attempt: delivery.attempt,
      fence: own.fence,
      lockWaitMs: how.lockWaitMs,
      url: receiver.url,
    });
    if (span) headers.traceparent = span.traceparent;
    // the last check, at the write itself (exchange.ts): a freeze after `going` sends nothing
    const mayWrite = (): string | null => (own.isHeld() && lane.lock.isHeld() ? null : `lock on ${lane.lock.receiverId} lost`);
    const result = await this.client.send({ url: receiver.url, headers, body, timeoutMs: receiver.timeoutMs, signal: lane.signal, mayWrite });
    span?.end(result.statusCode, result.errorKind);
    const outcome = outcomeOf(result, delivery, how.schedule, this.options.retry);
    const record: AttemptRecord = { delivery, outcome, attempt: attemptOf(delivery, this.options.emitterId, own.fence, startedAt, result) };
    if (lane.fence) record.lane = lane.fence;
    return record;
  }

  /** Whether other receivers' turns wait for an emitter (a failed look counts as yes: the turn then ends as budgeted). */
  private othersWaiting(): Promise<boolean> {
    return this.options.othersWaiting?.().catch(() => true) ?? Promise.resolve(true);
  }

  private canSend(lock: HeldLock): boolean {
    return lock.isHeld() && !this.stopping.aborted;
  }

  /**
   * The store has seen a higher fence than ours: a newer holder took the receiver while we were
   * paused or cut off, whatever our own lock object still says. Give it up at once (the turn's
   * caller releases the lock, deleting only our own key) and let the job come back as for a busy
   * receiver.
   */
  private fenced(lock: HeldLock, maxFence: number | undefined): TurnEnd {
    this.counters.fenced++;
    this.metrics.lockFenced();
    this.log.warn(
      { receiverId: lock.receiverId, fence: lock.fence, maxFence, stillHeldLocally: lock.isHeld() },
      'store refused our fence: a newer holder has the receiver; giving it up',
    );
    return { kind: 'busy' };
  }
}
