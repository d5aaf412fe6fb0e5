import type { DeliveryClient, DeliveryResult } from '../delivery/client.js';
import { idTimestamp } from '../ids.js';
import type { HeldLock, ReceiverLocks } from '../locks/types.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/index.js';
import type { Claim, ClaimedDelivery, DeliveryStore, Fence, Outcome } from '../store/deliveries.js';
import type { Attempt } from '../store/types.js';
import { outcomeOf, type RetryPolicy } from './retry-policy.js';
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

/**
 * One turn on one receiver: take its lock, send its due deliveries one at a time in acceptance
 * order while the lock holds, up to the fairness budget, then release. The lock's `lost` signal
 * is the request's abort signal, and the lock is checked again right before every send.
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
    const asked = Date.now();
    const lock = await this.locks.acquire(receiverId, { waitMs: this.options.lockWaitMs, signal: this.stopping });
    if (!lock) return { kind: 'busy' };
    this.metrics.lockAcquired(Date.now() - asked);
    this.counters.turns++;
    try {
      return await this.drainWhileHeld(lock);
    } finally {
      await this.locks.release(lock);
    }
  }

  private async drainWhileHeld(lock: HeldLock): Promise<TurnEnd> {
    const claimToken = `${this.options.emitterId}:${lock.fence}`;
    const fence: Fence = { service: this.locks.backend, value: lock.fence };
    const turnEndsAt = Date.now() + this.options.maxTurnMs;
    // A lock lost between acquire and here (a pause, a slow reply) claims nothing: the claim would
    // mark a delivery ours, and raise the store's fence mark, for a holder that can no longer send.
    if (!lock.isHeld() || this.stopping.aborted) return { kind: 'later', at: Date.now() };
    let claim: Claim = await this.store.claim(lock.receiverId, claimToken, fence);
    for (let sent = 0; ; sent++) {
      if (claim.kind === 'fenced') return this.fenced(lock, claim.maxFence);
      // a duration on Redis's clock, turned into a time on ours (BullMQ's delays run on ours)
      if (claim.kind === 'wait') return { kind: 'later', at: Date.now() + claim.inMs };
      if (claim.kind !== 'send') return { kind: 'done' };
      // The deadline check right before the send: a process that just woke from a pause past its
      // deadline finds its lock lost here and sends nothing.
      if (!lock.isHeld() || this.stopping.aborted) return { kind: 'later', at: Date.now() };
      const wantMore = sent + 1 < this.options.maxMessagesPerTurn && Date.now() < turnEndsAt;
      const next = await this.deliver(claim.delivery, lock, wantMore ? claimToken : undefined);
      if (!next) return { kind: 'later', at: Date.now() };
      claim = next;
    }
  }

  /** Sends one delivery, records the attempt, and (with `claimNext`) claims the next in the same round trip. */
  private async deliver(delivery: ClaimedDelivery, lock: HeldLock, claimNext: string | undefined): Promise<Claim | undefined> {
    const startedAt = Date.now();
    const { body, headers } = webhookRequest(delivery, lock.fence, startedAt);
    const result = await this.client.send({ url: delivery.receiver.url, headers, body, timeoutMs: delivery.receiver.timeoutMs, signal: lock.lost });
    const outcome = outcomeOf(result, delivery, this.options.retry);
    const attempt = this.attemptRecord(delivery, lock, startedAt, result);
    const { status, next } = await this.store.complete(delivery, attempt, outcome, lock.isHeld() ? claimNext : undefined);
    this.count(outcome);
    this.metrics.attempt(delivery.receiverId, status === 'dead' ? 'dead' : outcome.kind, attempt.durationMs, Date.now() - idTimestamp(delivery.messageId));
    this.logAttempt(delivery, attempt, outcome, status);
    return status === 'fenced' ? { kind: 'fenced' } : next;
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

  private count(outcome: Outcome): void {
    this.counters.attempts++;
    if (outcome.kind === 'delivered') this.counters.delivered++;
    else if (outcome.kind === 'aborted') this.counters.aborted++;
    else this.counters.failed++;
  }

  private logAttempt(delivery: ClaimedDelivery, attempt: Attempt, outcome: Outcome, status: string): void {
    const fields = { receiverId: delivery.receiverId, messageId: delivery.messageId, attempt: attempt.attempt, statusCode: attempt.statusCode, durationMs: attempt.durationMs, fence: attempt.fence, status };
    this.log.debug({ ...fields, error: attempt.error }, 'attempt');
    if (status === 'dead') this.log.warn(fields, 'delivery dead after its last retry');
    else if (outcome.kind === 'gone') this.log.warn(fields, 'receiver answered 410 Gone: disabled');
    else if (outcome.kind === 'aborted') this.log.info({ ...fields, error: attempt.error }, 'request aborted: lock lost');
  }
}
