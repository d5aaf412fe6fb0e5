import { idTimestamp } from '../ids.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics/index.js';
import type { AttemptRecord, ClaimedDelivery, RecordResult } from '../store/deliveries.js';
import type { Attempt } from '../store/types.js';
import type { DeliveryResult } from '../delivery/client.js';

export interface DrainCounters {
  attempts: number;
  delivered: number;
  failed: number;
  aborted: number;
  turns: number;
  /** Turns ended because the store refused our fence: a newer holder had taken the receiver. */
  fenced: number;
}

/** Told of each batch of attempts the store has written (statuses in the order of `records`). */
export type RecordedListener = (records: AttemptRecord[], result: RecordResult) => void;

/** What a drainer's written batches add to its counters, the metrics and the log (and tell `listener`). */
export class AttemptAccounting {
  readonly counters: DrainCounters = { attempts: 0, delivered: 0, failed: 0, aborted: 0, turns: 0, fenced: 0 };

  constructor(
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly listener?: RecordedListener,
  ) {}

  /** Counts and logs a batch the store has written. */
  recorded(records: AttemptRecord[], result: RecordResult): void {
    const statuses = result.kind === 'recorded' ? result.statuses : [];
    if (result.kind === 'recorded' && result.breakerOpened) {
      this.metrics.breakerOpened();
      this.log.warn(
        { receiverId: records[0]?.delivery.receiverId },
        'circuit breaker opened: the receiver keeps failing; one probe per retry step from now on',
      );
    }
    for (const [index, { delivery, attempt, outcome }] of records.entries()) {
      const status = statuses[index] ?? (result.kind === 'fenced' ? 'fenced' : 'stale');
      this.count(outcome.kind);
      this.metrics.attempt(delivery.receiverId, status === 'dead' ? 'dead' : outcome.kind, attempt.durationMs, Date.now() - idTimestamp(delivery.messageId));
      if (status === 'dead' || outcome.kind !== 'delivered') this.logAttempt(delivery, attempt, outcome.kind, status);
      else if (this.log.isLevelEnabled('debug')) this.logAttempt(delivery, attempt, outcome.kind, status);
    }
    this.listener?.(records, result);
  }

  private count(kind: AttemptRecord['outcome']['kind']): void {
    this.counters.attempts++;
    if (kind === 'delivered') this.counters.delivered++;
    else if (kind === 'aborted') this.counters.aborted++;
    else this.counters.failed++;
  }

  private logAttempt(delivery: ClaimedDelivery, attempt: Attempt, outcome: string, status: string): void {
    const fields = {
      receiverId: delivery.receiverId,
      messageId: delivery.messageId,
      attempt: attempt.attempt,
      statusCode: attempt.statusCode,
      durationMs: attempt.durationMs,
      fence: attempt.fence,
      status,
    };
    if (status === 'dead') this.log.warn(fields, 'delivery dead after its last retry');
    else if (outcome === 'gone') this.log.warn(fields, 'receiver answered 410 Gone: disabled');
    else if (outcome === 'aborted') this.log.info({ ...fields, error: attempt.error }, 'request aborted: lock lost');
    else this.log.debug({ ...fields, error: attempt.error }, 'attempt');
  }
}

/** An attempt as its delivery's history keeps it. */
export function attemptOf(delivery: ClaimedDelivery, emitterId: string, fence: number, startedAt: number, result: DeliveryResult): Attempt {
  return {
    attempt: delivery.attempt,
    startedAt: new Date(startedAt).toISOString(),
    durationMs: result.durationMs,
    statusCode: result.statusCode,
    error: result.error,
    emitterId,
    fence,
    responseBody: result.responseBody,
    responseHeaders: result.responseHeaders,
  };
}
