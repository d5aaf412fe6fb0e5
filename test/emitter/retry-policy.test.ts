import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DeliveryResult } from '../../src/delivery/client.js';
import { breakerFor, outcomeOf, scheduleFor, type RetryPolicy } from '../../src/emitter/retry-policy.js';
import type { ClaimedDelivery, ClaimedReceiver } from '../../src/store/deliveries.js';

const policy: RetryPolicy = {
  schedule: [5000, 300_000, 1_800_000],
  strictSchedule: [1000, 5000],
  breakerFailures: 5,
  throttledMinMs: 60_000,
  retryAfterMaxMs: 3_600_000,
};
const schedule = policy.schedule;
const middle = (): number => 0.5; // no jitter
const result = (fields: Partial<DeliveryResult>): DeliveryResult => ({
  statusCode: null,
  errorKind: null,
  error: null,
  durationMs: 1,
  responseHeaders: {},
  responseBody: '',
  retryAfterMs: null,
  ...fields,
});
const delivery = (failures: number): ClaimedDelivery => ({
  receiverId: 'rcv',
  messageId: 'msg',
  seq: 1,
  retry: failures > 0,
  attempt: failures + 1,
  failures,
  eventType: 'a',
  payloadJson: '{}',
  createdAt: '',
  traceparent: '',
});
const receiver = (fields: Partial<ClaimedReceiver> = {}): ClaimedReceiver => ({
  url: 'http://x',
  secret: 'whsec_x',
  headers: {},
  timeoutMs: 1000,
  ordering: 'unordered',
  maxInFlight: 1,
  ...fields,
});

test('2xx delivered, 410 gone, lock loss aborted', () => {
  assert.deepEqual(outcomeOf(result({ statusCode: 204 }), delivery(0), schedule, policy), { kind: 'delivered' });
  assert.deepEqual(outcomeOf(result({ statusCode: 410 }), delivery(0), schedule, policy), { kind: 'gone' });
  assert.deepEqual(outcomeOf(result({ errorKind: 'aborted', error: 'aborted' }), delivery(0), schedule, policy), { kind: 'aborted' });
});

test("failures follow the delivery's own step on the schedule, and the last one is final", () => {
  assert.deepEqual(outcomeOf(result({ statusCode: 500 }), delivery(0), schedule, policy, middle), { kind: 'failed', retryInMs: 5000, final: false, holdMs: 0 });
  assert.deepEqual(outcomeOf(result({ statusCode: 302 }), delivery(1), schedule, policy, middle), {
    kind: 'failed',
    retryInMs: 300_000,
    final: false,
    holdMs: 0,
  });
  assert.deepEqual(outcomeOf(result({ errorKind: 'network', error: 'ECONNREFUSED' }), delivery(2), schedule, policy, middle), {
    kind: 'failed',
    retryInMs: 1_800_000,
    final: false,
    holdMs: 0,
  });
  assert.equal((outcomeOf(result({ statusCode: 500 }), delivery(3), schedule, policy, middle) as { final: boolean }).final, true);
});

test('jitter stays within ±20%', () => {
  const low = outcomeOf(result({ statusCode: 500 }), delivery(0), schedule, policy, () => 0) as { retryInMs: number };
  const high = outcomeOf(result({ statusCode: 500 }), delivery(0), schedule, policy, () => 0.999999) as { retryInMs: number };
  assert.equal(low.retryInMs, 4000);
  assert.equal(high.retryInMs, 6000);
});

test('429 and 503 honour Retry-After within bounds and hold the whole receiver; timeouts and 429 wait at least the throttle minimum', () => {
  const failed = (fields: Partial<DeliveryResult>) => outcomeOf(result(fields), delivery(0), schedule, policy, middle) as { retryInMs: number; holdMs: number };
  const retryIn = (fields: Partial<DeliveryResult>): number => failed(fields).retryInMs;
  assert.equal(retryIn({ statusCode: 503, retryAfterMs: 120_000 }), 120_000);
  assert.equal(retryIn({ statusCode: 503, retryAfterMs: 99_000_000 }), 3_600_000);
  assert.equal(retryIn({ statusCode: 503, retryAfterMs: 0 }), 1000);
  assert.equal(retryIn({ statusCode: 429, retryAfterMs: 2000 }), 60_000);
  assert.equal(retryIn({ statusCode: 429, retryAfterMs: 600_000 }), 600_000);
  assert.equal(retryIn({ errorKind: 'timeout', error: 'timed out' }), 60_000);
  assert.equal(retryIn({ statusCode: 500, retryAfterMs: 600_000 }), 5000, 'Retry-After only counts on 429 and 503');
  assert.equal(failed({ statusCode: 503, retryAfterMs: 120_000 }).holdMs, 120_000, 'a 503 holds the receiver as a whole');
  assert.equal(failed({ statusCode: 429 }).holdMs, 60_000);
  assert.equal(failed({ statusCode: 500 }).holdMs, 0, 'an ordinary failure holds only its own delivery');
});

test("the schedule: the receiver's own, else the default of its ordering; the breaker steps along it", () => {
  assert.deepEqual(scheduleFor(receiver(), policy), policy.schedule);
  assert.deepEqual(scheduleFor(receiver({ ordering: 'strict' }), policy), policy.strictSchedule);
  assert.deepEqual(scheduleFor(receiver({ ordering: 'strict', retrySchedule: [0.5, 2] }), policy), [500, 2000]);
  assert.deepEqual(breakerFor([1000, 2000], policy, middle), { threshold: 5, stepsMs: [1000, 2000] });
});
