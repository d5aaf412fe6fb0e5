import type { DeliveryResult } from '../delivery/client.js';
import type { BreakerPolicy, ClaimedDelivery, ClaimedReceiver, Outcome } from '../store/deliveries.js';

export interface RetryPolicy {
  /** Delays between attempts (ms); its length is the number of retries after the first attempt. */
  schedule: number[];
  /** The default for `ordering: strict` receivers, whose every retry holds the whole queue: it starts in seconds. */
  strictSchedule: number[];
  /** Timeouts and 429 wait at least this long: hammering a struggling receiver only hurts it. */
  throttledMinMs: number;
  /** Upper bound on a receiver's `Retry-After`. */
  retryAfterMaxMs: number;
  /** Consecutive failed attempts after which the receiver backs off as a whole (the breaker opens). */
  breakerFailures: number;
}

const JITTER = 0.2;

/** The schedule (ms) a receiver's deliveries follow: its own, else the default for its ordering. */
export function scheduleFor(receiver: ClaimedReceiver, policy: RetryPolicy): number[] {
  if (receiver.retrySchedule?.length) return receiver.retrySchedule.map((seconds) => seconds * 1000);
  return receiver.ordering === 'strict' ? policy.strictSchedule : policy.schedule;
}

/** The breaker of a receiver on `schedule`: its waits between probes are the schedule's steps, jittered. */
export function breakerFor(schedule: number[], policy: RetryPolicy, random: () => number = Math.random): BreakerPolicy {
  return { threshold: policy.breakerFailures, stepsMs: (schedule.length > 0 ? schedule : [1000]).map((ms) => jitter(ms, random)) };
}

/** Turns what the receiver answered into what happens to the delivery (README "Delivery semantics"). */
export function outcomeOf(
  result: DeliveryResult,
  delivery: ClaimedDelivery,
  schedule: number[],
  policy: RetryPolicy,
  random: () => number = Math.random,
): Outcome {
  const status = result.statusCode;
  if (status !== null && status >= 200 && status < 300) return { kind: 'delivered' };
  if (status === 410) return { kind: 'gone' };
  if (result.errorKind === 'aborted') return { kind: 'aborted' };
  const retryInMs = retryDelay(result, delivery, schedule, policy, random);
  // 429 and 503 speak for the receiver as a whole: it is left alone for that long, not just this delivery
  const holdMs = status === 429 || status === 503 ? retryInMs : 0;
  return { kind: 'failed', retryInMs, final: delivery.failures >= schedule.length, holdMs };
}

/** The wait before this delivery's next attempt: its own step on the schedule, or what the receiver asked for. */
function retryDelay(result: DeliveryResult, delivery: ClaimedDelivery, schedule: number[], policy: RetryPolicy, random: () => number): number {
  const step = Math.min(delivery.failures, schedule.length - 1);
  let delay = jitter(schedule[step] ?? 0, random);
  const status = result.statusCode;
  if ((status === 429 || status === 503) && result.retryAfterMs !== null) delay = Math.max(1000, Math.min(result.retryAfterMs, policy.retryAfterMaxMs));
  if (status === 429 || result.errorKind === 'timeout') delay = Math.max(delay, policy.throttledMinMs);
  return Math.round(delay);
}

function jitter(ms: number, random: () => number): number {
  return ms * (1 - JITTER + 2 * JITTER * random());
}
