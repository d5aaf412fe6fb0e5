import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DeliveryResult } from '../../src/delivery/client.js';
import { outcomeOf, type RetryPolicy } from '../../src/emitter/retry-policy.js';
import type { ClaimedDelivery } from '../../src/store/deliveries.js';

const policy: RetryPolicy = { schedule: [5000, 300_000, 1_800_000], throttledMinMs: 60_000, retryAfterMaxMs: 3_600_000 };
const middle = (): number => 0.5; // no jitter
const result = (fields: Partial<DeliveryResult>): DeliveryResult => ({ statusCode: null, errorKind: null, error: null, durationMs: 1, responseHeaders: {}, responseBody: '', retryAfterMs: null, ...fields });
const delivery = (failures: number, receiverFailStreak = failures): ClaimedDelivery => ({
  receiverId: 'rcv', messageId: 'msg', attempt: failures + 1, failures, receiverFailStreak, claim: 'c', fence: { service: 'redis', value: 1 },
  receiver: { url: 'http://x', secret: 'whsec_x', headers: {}, timeoutMs: 1000 }, eventType: 'a', payloadJson: '{}', createdAt: '',
});

test('2xx delivered, 410 gone, lock loss aborted', () => {
  assert.deepEqual(outcomeOf(result({ statusCode: 204 }), delivery(0), policy), { kind: 'delivered' });
  assert.deepEqual(outcomeOf(result({ statusCode: 410 }), delivery(0), policy), { kind: 'gone' });
  assert.deepEqual(outcomeOf(result({ errorKind: 'aborted', error: 'aborted' }), delivery(0), policy), { kind: 'aborted' });
});

test('failures follow the schedule and the last one is final', () => {
  assert.deepEqual(outcomeOf(result({ statusCode: 500 }), delivery(0), policy, middle), { kind: 'failed', retryInMs: 5000, final: false });
  assert.deepEqual(outcomeOf(result({ statusCode: 302 }), delivery(1), policy, middle), { kind: 'failed', retryInMs: 300_000, final: false });
  assert.deepEqual(outcomeOf(result({ errorKind: 'network', error: 'ECONNREFUSED' }), delivery(2), policy, middle), { kind: 'failed', retryInMs: 1_800_000, final: false });
  assert.equal((outcomeOf(result({ statusCode: 500 }), delivery(3), policy, middle) as { final: boolean }).final, true);
});

test('a receiver that keeps failing backs off as a whole', () => {
  const outcome = outcomeOf(result({ statusCode: 500 }), delivery(0, 2), policy, middle);
  assert.deepEqual(outcome, { kind: 'failed', retryInMs: 1_800_000, final: false });
});

test('jitter stays within ±20%', () => {
  const low = outcomeOf(result({ statusCode: 500 }), delivery(0), policy, () => 0) as { retryInMs: number };
  const high = outcomeOf(result({ statusCode: 500 }), delivery(0), policy, () => 0.999999) as { retryInMs: number };
  assert.equal(low.retryInMs, 4000);
  assert.equal(high.retryInMs, 6000);
});

test('429 and 503 honour Retry-After within bounds; timeouts and 429 wait at least the throttle minimum', () => {
  const retryIn = (fields: Partial<DeliveryResult>): number => (outcomeOf(result(fields), delivery(0), policy, middle) as { retryInMs: number }).retryInMs;
  assert.equal(retryIn({ statusCode: 503, retryAfterMs: 120_000 }), 120_000);
  assert.equal(retryIn({ statusCode: 503, retryAfterMs: 99_000_000 }), 3_600_000);
  assert.equal(retryIn({ statusCode: 503, retryAfterMs: 0 }), 1000);
  assert.equal(retryIn({ statusCode: 429, retryAfterMs: 2000 }), 60_000);
  assert.equal(retryIn({ statusCode: 429, retryAfterMs: 600_000 }), 600_000);
  assert.equal(retryIn({ errorKind: 'timeout', error: 'timed out' }), 60_000);
  assert.equal(retryIn({ statusCode: 500, retryAfterMs: 600_000 }), 5000, 'Retry-After only counts on 429 and 503');
});
