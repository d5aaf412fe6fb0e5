import type { DeliveryClient } from '../delivery/client.js';
import { sleep, withLinkedSignal } from '../lib/abort.js';
import { lingerForWork } from './linger.js';
import { serviceOf } from '../locks/failure.js';
import { lostCause, type HeldLock, type ReceiverLocks } from '../locks/types.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/index.js';
import type { AttemptRecord, Claim, ClaimedDelivery, ClaimedReceiver, DeliveryStore, Holder, InFlight } from '../store/deliveries.js';
import { AttemptAccounting, attemptOf, type DrainCounters } from './attempt-accounting.js';
import { LaneSet, WINDOW, lanesWanted, windowFor, type Lane } from './lanes.js';
import { Pacer } from './pacer.js';
import { AttemptRecorder } from './recorder.js';
import { breakerFor, outcomeOf, scheduleFor } from './retry-policy.js';
import type { DrainOptions, TurnEnd, WindowFacts } from './turn.js';
import { signerFor, webhookRequest } from './webhook-request.js';
import { WindowRun, type Window } from './window-run.js';

/** A claim that may send nothing for at most this long (rate limit, a short backoff) waits inside the turn, keeping the locks. */
const WAIT_IN_TURN_MS = 1000;

/**
 * One turn on one receiver: take its lock, then claim windows of its due deliveries and send them
 * one at a time in the order claimed while the lock holds, up to the fairness budget, recording
 * the outcomes behind the requests (recorder.ts); then release. The lock's `lost` signal is the
 * request's abort signal, and the lock is checked again right before every send. While a window's
 * tail is in flight the next one is claimed ahead (window-run.ts), so the lanes go on without
 * waiting for a round trip; the record and the claim after it only end a run of windows.
 *
 * A failure stops the sending before the next request when the receiver is `strict`, when the
 * breaker opens (consecutive failures, or a 429/503), or when the lock is lost (a window claimed
 * ahead is then given back unsent); an `unordered` receiver's other deliveries go on. The next
 * claim then says when to come back.
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
    this.accounting = new AttemptAccounting(metrics, log, options.onRecorded);
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
    let lock: HeldLock | null;
    try {
      lock = await this.locks.acquire(receiverId, { waitMs: this.options.lockWaitMs, signal: this.stopping });
    } catch (error) {
      // every failure of an acquire is the lock service's (locks/failure.ts)
      this.metrics.backendError(serviceOf(error));
      this.log.warn({ receiverId, err: error }, 'lock service did not answer an acquire; the receiver is handed back');
      this.options.lockServiceSilent?.(`an acquire of ${receiverId} failed`);
      return { kind: 'busy' };
    }
    if (!lock) return { kind: 'busy' };
    const lockWaitMs = performance.now() - asked;
    this.metrics.lockAcquired(lockWaitMs);
    this.counters.turns++;
    const lanes = new LaneSet(this.locks, lock);
    try {
      return await this.drainWhileHeld(lock, lanes, lockWaitMs);
    } finally {
      const cause = lostCause(lock);
      // lost for want of an answer; or a pause of this process, which a prompt ping then tells apart
      if (cause === 'deadline' || cause === 'renewal-failed') this.options.lockServiceSilent?.(`lock on ${receiverId} lost: ${cause}`);
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
    if (!this.canSend(lock)) return { kind: 'later', inMs: 0 };
    // how far ahead a rate-limited claim may reserve: the longest wait worth keeping the locks for, within the turn
    const horizon = (): number => Math.max(0, Math.min(WAIT_IN_TURN_MS, turnEndsAt - performance.now()));
    // when the last claim was sent and answered, on our clock (the pacer's anchor)
    const timing = { sentAt: performance.now(), answeredAt: 0 };
    // read before each claim is sent: a key change after it ends the window (window-run.ts), work accepted after it wakes a lingering turn
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
    // the budget is spent (counting `claimed` more): it grows while no other receiver's job waits, within the turn's time
    const budgetAfter = async (claimed: number): Promise<number> => {
      if (budgetLeft(sent + claimed) <= 0 && this.canSend(lock) && performance.now() < turnEndsAt && !(await this.othersWaiting()))
        extra += maxMessagesPerTurn * lanes.all.length;
      return budgetLeft(sent + claimed);
    };
    // the next window, claimed while the tail of the current one is in flight (window-run.ts)
    const claimAhead = async (inFlight: InFlight, claimed: number): Promise<Window | Claim | undefined> => {
      const size = Math.min(windowFor(lanes.all.length, false), await budgetAfter(claimed));
      if (size <= 0 || !this.canSend(lock) || performance.now() >= turnEndsAt) return undefined;
      const sentAt = performance.now();
      const stamp = this.options.keyChanges.stamp();
      const ahead = await this.store.claim(lock.receiverId, holder, size, retry.breakerFailures, 0, inFlight);
      if (ahead.kind !== 'send') return ahead;
      const how = { schedule: scheduleFor(ahead.receiver, retry), signer: signerFor(ahead.receiver, sentAt), lockWaitMs, keysStamp: stamp };
      return { claim: ahead, how, full: ahead.deliveries.length >= size };
    };
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
        if (claim.inMs > WAIT_IN_TURN_MS || performance.now() + claim.inMs >= turnEndsAt || budgetLeft(sent) <= 0) return { kind: 'later', inMs: claim.inMs };
        await withLinkedSignal([this.stopping, lock.lost], (signal) => sleep(claim.kind === 'wait' ? claim.inMs : 0, signal));
        if (!this.canSend(lock)) return { kind: 'later', inMs: 0 };
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
      const first = {
        claim,
        how: { schedule, signer: signerFor(claim.receiver, timing.sentAt), lockWaitMs, keysStamp },
        full: claim.deliveries.length >= asked,
      };
      const run = await new WindowRun(first, {
        own: lock,
        lanes: lanes.all,
        recorder,
        pacer,
        breakerFailures: retry.breakerFailures,
        keyChanges: this.options.keyChanges,
        stopping: this.stopping,
        mayGoOn: () => this.canSend(lock),
        attempt: (receiver, delivery, lane, how) => this.attempt(receiver, delivery, lock, lane, how),
        claimAhead,
      }).run();
      sent += run.sent;
      rateLimited = run.last.claim.rate !== undefined;
      const budget = Math.min(windowFor(lanes.all.length, rateLimited), await budgetAfter(0));
      const more = this.canSend(lock) && !recorder.fenced && budget > 0 && performance.now() < turnEndsAt;
      timing.sentAt = performance.now();
      keysStamp = this.options.keyChanges.stamp();
      workStamp = this.options.linger?.work.stamp() ?? 0;
      // the last window came short, or a claim ahead found the queue empty: claim after the record only if it finds work
      const onlyIfQueued = !run.last.full || run.unused?.kind === 'empty';
      asked = budget;
      const { fenced, next } = await recorder.settle(more ? { size: budget, horizonMs: horizon(), onlyIfQueued } : undefined, pacer?.shiftMs() ?? 0);
      timing.answeredAt = performance.now();
      if (fenced) return this.fenced(lock, undefined);
      if (!next) return { kind: 'later', inMs: 0 };
      claim = next;
    }
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
