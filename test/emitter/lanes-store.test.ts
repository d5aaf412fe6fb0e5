import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AttemptRecorder } from '../../src/emitter/recorder.js';
import type { AttemptRecord, BreakerPolicy, Claim, ClaimedDelivery, Holder, Outcome } from '../../src/store/deliveries.js';
import { useStore } from '../support/store.js';
import { EMPTY_CATALOG } from '../../src/store/event-types.js';

/**
 * What lanes (maxInFlight > 1) need of the store, against a real redis-server: outcomes recorded
 * out of order move the frontier only over the window's completed prefix, so a holder that dies
 * with a first attempt unrecorded never orphans it; a recorded one above the frontier is not sent
 * again as a first attempt; each lane's slot fence is checked; the rate limiter's reservation is
 * corrected by the window's last record.
 */
describe('lanes in the store: frontier, slot fences, rate reservation', () => {
  const db = useStore('lanes');

  const holder: Holder = { fence: { service: 'redis', value: 1 } };
  const breaker: BreakerPolicy = { threshold: 5, stepsMs: [60_000] };
  const newReceiver = (extra: { rateLimitPerSecond?: number; rateLimitBurst?: number } = {}): Promise<string> => db.newReceiver({ maxInFlight: 4, ...extra });
  const accept = async (receiverId: string, count: number): Promise<string[]> => {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const result = await db.store.messages.accept({ eventType: 'test.event', payload: { i }, receiverIds: [receiverId] }, EMPTY_CATALOG);
      assert.equal(result.kind, 'accepted');
      ids.push(result.message.id);
    }
    return ids;
  };
  const windowOf = (claim: Claim): ClaimedDelivery[] => (claim.kind === 'send' ? claim.deliveries : []);
  const recordOf = (delivery: ClaimedDelivery, outcome: Outcome, lane?: { service: string; value: number }): AttemptRecord => ({
    delivery,
    outcome,
    attempt: { attempt: delivery.attempt, startedAt: new Date().toISOString(), durationMs: 1, statusCode: 200, error: null, emitterId: 'test', fence: 1 },
    ...(lane ? { lane } : {}),
  });
  const failed: Outcome = { kind: 'failed', retryInMs: 60_000, final: false, holdMs: 0 };

  test('out-of-order outcomes, then the holder dies: nothing orphaned, nothing recorded sent again as a first attempt', async () => {
    const receiverId = await newReceiver();
    const ids = await accept(receiverId, 6);
    const window = windowOf(await db.store.deliveries.claim(receiverId, holder, 6, breaker.threshold));
    assert.deepEqual(
      window.map((d) => d.messageId),
      ids,
    );
    const [d1, d2, d3, d4, d5] = window as [ClaimedDelivery, ClaimedDelivery, ClaimedDelivery, ClaimedDelivery, ClaimedDelivery];
    // lanes ended 1, 3 (failed), 5, 4 in that order; 2 is still in flight when the holder dies
    const recorder = new AttemptRecorder(db.store.deliveries, receiverId, holder, breaker, () => {}, window);
    for (const [delivery, outcome] of [
      [d1, { kind: 'delivered' }],
      [d3, failed],
      [d5, { kind: 'delivered' }],
      [d4, { kind: 'delivered' }],
    ] as const) {
      recorder.add(recordOf(delivery, outcome));
    }
    const { fenced } = await recorder.settle();
    assert.equal(fenced, false);
    const fields = await db.raw.redis.hmget(db.raw.keys.receiver(receiverId), 'frontier', 'high');
    assert.deepEqual(fields, [String(d1.seq), String(d5.seq)], 'the frontier stops below the first attempt still unrecorded');

    // the next holder: 2 again and 6 as first attempts; 3 waits in the retry set; 4 and 5 are done
    const next = windowOf(await db.store.deliveries.claim(receiverId, { fence: { service: 'redis', value: 2 } }, 32, breaker.threshold));
    assert.deepEqual(
      next.map((d) => d.messageId),
      [d2.messageId, ids[5]],
    );
    assert.ok(next.every((d) => !d.retry));
  });

  test('a lane slot fence below its mark refuses the whole batch; at or above it raises the mark', async () => {
    const receiverId = await newReceiver();
    await accept(receiverId, 2);
    const [a, b] = windowOf(await db.store.deliveries.claim(receiverId, holder, 2, breaker.threshold)) as [ClaimedDelivery, ClaimedDelivery];
    const lane = (value: number) => ({ service: 'redis:2', value });
    const first = await db.store.deliveries.record(receiverId, holder, { records: [recordOf(a, { kind: 'delivered' }, lane(7))], frontier: a.seq }, breaker);
    assert.equal(first.result.kind, 'recorded');
    assert.equal(await db.raw.redis.hget(db.raw.keys.receiver(receiverId), 'maxFence:redis:2'), '7');
    const stale = await db.store.deliveries.record(receiverId, holder, { records: [recordOf(b, { kind: 'delivered' }, lane(6))], frontier: b.seq }, breaker);
    assert.deepEqual(stale.result, { kind: 'fenced' });
    assert.equal(await db.raw.redis.hget(db.raw.keys.receiver(receiverId), 'frontier'), String(a.seq), 'the refused batch moved nothing');
  });

  test('rate limit: a claim reserves what the limit allows within its horizon; the last record corrects the reservation', async () => {
    const receiverId = await newReceiver({ rateLimitPerSecond: 10, rateLimitBurst: 2 });
    await accept(receiverId, 40);
    const claim = await db.store.deliveries.claim(receiverId, holder, 32, breaker.threshold, 1000);
    assert.equal(claim.kind, 'send');
    // burst 2 at once, then one per 100 ms: 2 + 10 within 1 s (the 12th is due at exactly 1 s)
    assert.equal(windowOf(claim).length, 12);
    assert.deepEqual(claim.kind === 'send' ? { ...claim.rate, aheadMs: 0 } : undefined, { intervalMs: 100, burst: 2, aheadMs: 0 });
    const reserved = Number(await db.raw.redis.hget(db.raw.keys.receiver(receiverId), 'tat'));
    const refusedNow = await db.store.deliveries.claim(receiverId, holder, 32, breaker.threshold, 0);
    assert.equal(refusedNow.kind, 'wait', 'nothing more now');
    // the holder sent only one of the twelve: it gives the rest of the reservation back
    const [one] = windowOf(claim) as [ClaimedDelivery];
    await db.store.deliveries.record(receiverId, holder, { records: [recordOf(one, { kind: 'delivered' })], frontier: one.seq, tatShiftMs: -1100 }, breaker);
    assert.equal(Number(await db.raw.redis.hget(db.raw.keys.receiver(receiverId), 'tat')), reserved - 1100);
  });
});
