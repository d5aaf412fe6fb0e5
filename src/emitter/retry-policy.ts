import type { DeliveryResult } from '../delivery/client.js';
import type { ClaimedDelivery, Outcome } from '../store/deliveries.js';

export interface RetryPolicy {
  /** Delays between attempts (ms); its length is the number of retries after the first attempt. */
  schedule: number[];
  /** Timeouts and 429 wait at least this long: hammering a struggling receiver only hurts it. */
  throttledMinMs: number;
  /** Upper bound on a receiver's `Retry-After`. */
  retryAfterMaxMs: number;
}

const JITTER = 0.2;

/** Turns what the receiver answered into what happens to the delivery (API.md "Outcome rules"). */
export function outcomeOf(result: DeliveryResult, delivery: ClaimedDelivery, policy: RetryPolicy, random: () => number = Math.random): Outcome {
  const status = result.statusCode;
  if (status !== null && status >= 200 && status < 300) return { kind: 'delivered' };
  if (status === 410) return { kind: 'gone' };
  if (result.errorKind === 'aborted') return { kind: 'aborted' };
  return { kind: 'failed', retryInMs: retryDelay(result, delivery, policy, random), final: delivery.failures >= policy.schedule.length };
}

/**
 * The wait before the next attempt. A receiver that keeps failing backs off as a whole, so the
 * step is the larger of the delivery's own failures and the receiver's failure streak.
 */
function retryDelay(result: DeliveryResult, delivery: ClaimedDelivery, policy: RetryPolicy, random: () => number): number {
  const { schedule } = policy;
  const step = Math.min(Math.max(delivery.failures, delivery.receiverFailStreak), schedule.length - 1);
  let delay = jitter(schedule[step] ?? 0, random);
  const status = result.statusCode;
  if ((status === 429 || status === 503) && result.retryAfterMs !== null) delay = Math.max(1000, Math.min(result.retryAfterMs, policy.retryAfterMaxMs));
  if (status === 429 || result.errorKind === 'timeout') delay = Math.max(delay, policy.throttledMinMs);
  return Math.round(delay);
}

function jitter(ms: number, random: () => number): number {
  return ms * (1 - JITTER + 2 * JITTER * random());
}
