import type { DeliveryClient, DeliveryResult } from '../delivery/client.js';
import { idTimestamp } from '../ids.js';
import type { HeldLock, ReceiverLocks } from '../locks/types.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/index.js';
import type { AttemptRecord, Claim, ClaimedDelivery, ClaimedReceiver, DeliveryStore, Holder, RecordResult } from '../store/deliveries.js';
import type { Attempt } from '../store/types.js';
import { AttemptRecorder } from './recorder.js';
import { breakerFor, outcomeOf, scheduleFor, type RetryPolicy } from './retry-policy.js';
import { webhookRequest } from './webhook-request.js';

/** How a turn on one receiver ended, which decides what becomes of its drain job. */
export type TurnEnd =
  | { kind: 'done' } // nothing to send (empty, disabled or deleted): the job completes
  | { kind: 'later'; at: number } // more to do at `at` (backoff, fairness budget spent, lock lost)
  | { kind: 'busy' }; // another process holds the receiver (or the store has seen a newer holder)

export interface DrainOptions {
  emitterId: string;
  /** How long to wait for a receiver another process holds before giving the job back. */
  lockWaitMs: number;
  maxMessagesPerTurn: number;
  maxTurnMs: number;
  retry: RetryPolicy;
}

export interface DrainCounters {
  attempts: number;
  delivered: number;
  failed: number;
  aborted: number;
  turns: number;
  /** Turns ended because the store refused our fence: a newer holder had taken the receiver. */
  fenced: number;
}

/** Deliveries claimed per round trip: the next request starts the moment the previous response ends. */
const WINDOW = 32;

/**
 * One turn on one receiver: take its lock, then claim windows of its due deliveries and send them
 * one at a time in the order claimed while the lock holds, up to the fairness budget, recording
 * the outcomes behind the requests (recorder.ts); then release. The lock's `lost` signal is the
 * request's abort signal, and the lock is checked again right before every send.
 *
 * Within a window, a failure stops the sending before the next request when the receiver is
 * `strict`, when the breaker opens (consecutive failures, or a 429/503), or when the lock is lost;
 * an `unordered` receiver's other deliveries go on. The next claim then says when to come back.
 */
export class ReceiverDrainer {
  readonly counters: DrainCounters = { attempts: 0, delivered: 0, failed: 0, aborted: 0, turns: 0, fenced: 0 };

  constructor(
    private readonly locks: ReceiverLocks,
    private readonly store: DeliveryStore,
    private readonly client: DeliveryClient,
    private readonly options: DrainOptions,
    private readonly log: Logger,
    /** Aborts on shutdown: no new send starts, the turn ends and the job is handed back. */
    private readonly stopping: AbortSignal,
    private readonly metrics: Metrics,
  ) {}

  async runTurn(receiverId: string): Promise<TurnEnd> {
    const asked = performance.now();
    const lock = await this.locks.acquire(receiverId, { waitMs: this.options.lockWaitMs, signal: this.stopping });
    if (!lock) return { kind: 'busy' };
    this.metrics.lockAcquired(performance.now() - asked);
    this.counters.turns++;
    try {
      return await this.drainWhileHeld(lock);
    } finally {
      await this.locks.release(lock);
    }
  }

  private async drainWhileHeld(lock: HeldLock): Promise<TurnEnd> {
    const holder: Holder = { fence: { service: this.locks.backend, value: lock.fence } };
    const { retry, maxMessagesPerTurn, maxTurnMs } = this.options;
    const turnEndsAt = performance.now() + maxTurnMs;
    // A lock lost between acquire and here (a pause, a slow reply) claims nothing: the claim would
    // raise the store's fence mark for a holder that can no longer send.
    if (!this.canSend(lock)) return { kind: 'later', at: Date.now() };
    let claim: Claim = await this.store.claim(lock.receiverId, holder, Math.min(WINDOW, maxMessagesPerTurn), retry.breakerFailures);
    for (let sent = 0; ; ) {
      if (claim.kind === 'fenced') return this.fenced(lock, claim.maxFence);
      // a duration on Redis's clock, turned into a time on ours (BullMQ's delays run on ours)
      if (claim.kind === 'wait') return { kind: 'later', at: Date.now() + claim.inMs };
      if (claim.kind !== 'send') return { kind: 'done' };
      const schedule = scheduleFor(claim.receiver, retry);
      const recorder = new AttemptRecorder(this.store, lock.receiverId, holder, breakerFor(schedule, retry), (records, result) => this.recorded(records, result));
      sent += await this.sendWindow(lock, claim, schedule, recorder);
      const budget = Math.min(WINDOW, maxMessagesPerTurn - sent);
      const more = this.canSend(lock) && !recorder.fenced && budget > 0 && performance.now() < turnEndsAt;
      const { fenced, next } = await recorder.settle(more ? budget : undefined);
      if (fenced) return this.fenced(lock, undefined);
      if (!next) return { kind: 'later', at: Date.now() };
      claim = next;
    }
  }

  /** Sends a window's deliveries in order until it is done or something says stop; returns how many were sent. */
  private async sendWindow(lock: HeldLock, claim: Extract<Claim, { kind: 'send' }>, schedule: number[], recorder: AttemptRecorder): Promise<number> {
    const { receiver } = claim;
    let streak = claim.failStreak;
    let sent = 0;
    for (const delivery of claim.deliveries) {
      // The deadline check right before each send: a process that just woke from a pause past its
      // deadline finds its lock lost here and sends nothing.
      if (!this.canSend(lock) || recorder.fenced) break;
      const record = await this.attempt(receiver, delivery, lock, schedule);
      recorder.add(record);
      sent++;
      const { outcome } = record;
      if (outcome.kind === 'delivered') streak = 0;
      else if (outcome.kind === 'failed') streak++;
      const goOn = outcome.kind === 'delivered' || (outcome.kind === 'failed' && receiver.ordering === 'unordered' && streak < this.options.retry.breakerFailures && outcome.holdMs === 0);
      if (!goOn) break;
    }
    return sent;
  }

  private async attempt(receiver: ClaimedReceiver, delivery: ClaimedDelivery, lock: HeldLock, schedule: number[]): Promise<AttemptRecord> {
    const startedAt = Date.now();
    const { body, headers } = webhookRequest(receiver, delivery, lock.fence, startedAt);
    const result = await this.client.send({ url: receiver.url, headers, body, timeoutMs: receiver.timeoutMs, signal: lock.lost });
    const outcome = outcomeOf(result, delivery, schedule, this.options.retry);
    return { delivery, outcome, attempt: this.attemptRecord(delivery, lock, startedAt, result) };
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
    this.log.warn({ receiverId: lock.receiverId, fence: lock.fence, maxFence, stillHeldLocally: lock.isHeld() }, 'store refused our fence: a newer holder has the receiver; giving it up');
    return { kind: 'busy' };
  }

  /** Counts and logs a batch the store has written. */
  private recorded(records: AttemptRecord[], result: RecordResult): void {
    const statuses = result.kind === 'recorded' ? result.statuses : [];
    if (result.kind === 'recorded' && result.breakerOpened) {
      this.metrics.breakerOpened();
      this.log.warn({ receiverId: records[0]?.delivery.receiverId }, 'circuit breaker opened: the receiver keeps failing; one probe per retry step from now on');
    }
    for (const [index, { delivery, attempt, outcome }] of records.entries()) {
      const status = statuses[index] ?? 'fenced';
      this.count(outcome.kind);
      this.metrics.attempt(delivery.receiverId, status === 'dead' ? 'dead' : outcome.kind, attempt.durationMs, Date.now() - idTimestamp(delivery.messageId));
      if (status === 'dead' || outcome.kind !== 'delivered') this.logAttempt(delivery, attempt, outcome.kind, status);
      else if (this.log.isLevelEnabled('debug')) this.logAttempt(delivery, attempt, outcome.kind, status);
    }
  }

  private attemptRecord(delivery: ClaimedDelivery, lock: HeldLock, startedAt: number, result: DeliveryResult): Attempt {
    return {
      attempt: delivery.attempt,
      startedAt: new Date(startedAt).toISOString(),
      durationMs: result.durationMs,
      statusCode: result.statusCode,
      error: result.error,
      emitterId: this.options.emitterId,
      fence: lock.fence,
      responseBody: result.responseBody,
      responseHeaders: result.responseHeaders,
    };
  }

  private count(kind: AttemptRecord['outcome']['kind']): void {
    this.counters.attempts++;
    if (kind === 'delivered') this.counters.delivered++;
    else if (kind === 'aborted') this.counters.aborted++;
    else this.counters.failed++;
  }

  private logAttempt(delivery: ClaimedDelivery, attempt: Attempt, outcome: string, status: string): void {
    const fields = { receiverId: delivery.receiverId, messageId: delivery.messageId, attempt: attempt.attempt, statusCode: attempt.statusCode, durationMs: attempt.durationMs, fence: attempt.fence, status };
    if (status === 'dead') this.log.warn(fields, 'delivery dead after its last retry');
    else if (outcome === 'gone') this.log.warn(fields, 'receiver answered 410 Gone: disabled');
    else if (outcome === 'aborted') this.log.info({ ...fields, error: attempt.error }, 'request aborted: lock lost');
    else this.log.debug({ ...fields, error: attempt.error }, 'attempt');
  }
}
