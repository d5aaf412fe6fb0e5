import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { BreakerPolicy, ClaimedDelivery, Holder, Outcome } from '../../src/store/deliveries.js';
import type { Attempt } from '../../src/store/types.js';
import { useStore } from '../support/store.js';
import { EMPTY_CATALOG } from '../../src/store/event-types.js';

/**
 * Issue 10 item 1, the store's part: every scheduling time the scripts compare across processes
 * (a retry's due time, the breaker's backoff, the time of death, the "now" a claim checks them against) is on Redis's
 * clock, so an emitter whose own clock is two minutes off still schedules correctly. The process
 * clock is faked by replacing Date.now in this test process only; Redis is the real one.
 */
describe("the store schedules on Redis's clock, not the caller's", () => {
  const OFF_MS = 120_000;
  const TOLERANCE_MS = 2000;
  const holder: Holder = { fence: { service: 'redis', value: 1 } };
  const breaker: BreakerPolicy = { threshold: 5, stepsMs: [1000] };
  const realNow = Date.now;
  const db = useStore('clock');
  after(() => {
    Date.now = realNow;
  });

  /** Runs `work` with this process's wall clock `offsetMs` away from the true time. */
  const withClockOff = async <T>(offsetMs: number, work: () => Promise<T>): Promise<T> => {
    Date.now = () => realNow() + offsetMs;
    try {
      return await work();
    } finally {
      Date.now = realNow;
    }
  };
  const redisNow = async (): Promise<number> => {
    const [seconds, micros] = await db.raw.redis.time();
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  };
  const claimed = async (): Promise<{ receiverId: string; delivery: ClaimedDelivery }> => {
    const id = await db.newReceiver();
    assert.equal((await db.store.messages.accept({ eventType: 'test.event', payload: {}, receiverIds: [id] }, EMPTY_CATALOG)).kind, 'accepted');
    const claim = await claimOf(id);
    assert.equal(claim.kind, 'send');
    return { receiverId: id, delivery: (claim as { deliveries: ClaimedDelivery[] }).deliveries[0] as ClaimedDelivery };
  };
  const claimOf = (receiverId: string) => db.store.deliveries.claim(receiverId, holder, 32, breaker.threshold);
  /** Records one failed attempt; returns the delivery's new status. */
  const fail = async (receiverId: string, delivery: ClaimedDelivery, outcome: Outcome): Promise<string | undefined> => {
    const { result } = await db.store.deliveries.record(receiverId, holder, [{ delivery, attempt: failedAttempt, outcome }], breaker);
    return result.kind === 'recorded' ? result.statuses[0] : result.kind;
  };
  const failedAttempt: Attempt = { attempt: 1, startedAt: new Date().toISOString(), durationMs: 2, statusCode: 500, error: null, emitterId: 'e', fence: 1 };
  const schedule = async (receiverId: string, messageId: string): Promise<{ retryAt: number; dueAt: number }> => {
    const retryAt = Number(await db.raw.redis.zscore(db.raw.keys.retries(receiverId), messageId));
    const delivery = JSON.parse((await db.raw.redis.hget(db.raw.keys.message(messageId), db.raw.keys.deliveryField(receiverId))) ?? '{}') as { dueAt: number };
    return { retryAt, dueAt: delivery.dueAt };
  };
  const near = (actual: number, expected: number, what: string): void =>
    assert.ok(Math.abs(actual - expected) <= TOLERANCE_MS, `${what}: ${actual} is ${actual - expected} ms from Redis's ${expected}`);

  for (const offset of [OFF_MS, -OFF_MS]) {
    test(`a failure recorded by an emitter ${offset > 0 ? 'ahead' : 'behind'} by ${OFF_MS / 1000} s is due again from Redis's now`, async () => {
      const { receiverId, delivery } = await claimed();
      const before = await redisNow();
      const status = await withClockOff(offset, () => fail(receiverId, delivery, { kind: 'failed', retryInMs: 5000, final: false, holdMs: 5000 }));
      assert.equal(status, 'retrying');
      const { retryAt, dueAt } = await schedule(receiverId, delivery.messageId);
      near(retryAt, before + 5000, 'retry due');
      near(dueAt, before + 5000, 'dueAt');
      near(Number(await db.raw.redis.hget(db.raw.keys.receiver(receiverId), 'backoffUntil')), before + 5000, 'backoffUntil (a 503 holds the receiver)');
    });
  }

  test('an emitter ahead by 120 s still waits out a retry that has 5 s to go', async () => {
    const { receiverId, delivery } = await claimed();
    await fail(receiverId, delivery, { kind: 'failed', retryInMs: 5000, final: false, holdMs: 0 });
    const claim = await withClockOff(OFF_MS, () => claimOf(receiverId));
    assert.equal(claim.kind, 'wait', 'not sent early');
    const { inMs } = claim as { inMs: number };
    assert.ok(inMs > 5000 - TOLERANCE_MS && inMs <= 5000, `waits ${inMs} ms more`);
  });

  test('an emitter behind by 120 s sends once the retry is due on Redis', async () => {
    const { receiverId, delivery } = await claimed();
    await fail(receiverId, delivery, { kind: 'failed', retryInMs: 200, final: false, holdMs: 0 });
    await new Promise((resolve) => setTimeout(resolve, 400));
    const claim = await withClockOff(-OFF_MS, () => claimOf(receiverId));
    assert.equal(claim.kind, 'send', 'not held back for two minutes');
  });

  test("a delivery's time of death is Redis's now too (dead letters are paged and replayed by it)", async () => {
    const { receiverId, delivery } = await claimed();
    const before = await redisNow();
    const status = await withClockOff(OFF_MS, () => fail(receiverId, delivery, { kind: 'failed', retryInMs: 1000, final: true, holdMs: 0 }));
    assert.equal(status, 'dead');
    near(Number(await db.raw.redis.zscore(db.raw.keys.dead(receiverId), delivery.messageId)), before, 'time of death');
    near(Number(await db.raw.redis.hget(db.raw.keys.receiver(receiverId), 'dyingSince')), before, 'dyingSince');
  });
});
