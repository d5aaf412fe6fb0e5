import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BreakerPolicy, Claim, ClaimedDelivery, Holder, Outcome } from '../../src/store/deliveries.js';
import type { Attempt } from '../../src/store/types.js';
import { useStore } from '../support/store.js';
import { EMPTY_CATALOG } from '../../src/store/event-types.js';

/**
 * Issue 10 item 2, against a real redis-server: the store itself refuses a lock holder whose
 * fence is lower than one it has already seen for the receiver, so a late claim or completion
 * from a holder that lost its lock can never overwrite the newer holder's work.
 */
describe('the store refuses stale holders (fencing in Redis)', () => {
  const db = useStore('fencing');

  const accept = async (receiverId: string): Promise<string> => {
    const result = await db.store.messages.accept({ eventType: 'test.event', payload: {}, receiverIds: [receiverId] }, EMPTY_CATALOG);
    assert.equal(result.kind, 'accepted');
    return result.message.id;
  };
  const storedDelivery = async (messageId: string, receiverId: string): Promise<{ status: string; attempts: number }> =>
    JSON.parse((await db.raw.redis.hget(db.raw.keys.message(messageId), db.raw.keys.deliveryField(receiverId))) ?? '{}') as {
      status: string;
      attempts: number;
    };
  const attempt = (fence: number, emitterId: string): Attempt => ({
    attempt: 1,
    startedAt: new Date().toISOString(),
    durationMs: 3,
    statusCode: 200,
    error: null,
    emitterId,
    fence,
  });
  const holder = (value: number, service = 'redis'): Holder => ({ fence: { service, value } });
  const breaker: BreakerPolicy = { threshold: 5, stepsMs: [1000] };
  const claim = (receiverId: string, fence: Holder) => db.store.deliveries.claim(receiverId, fence, 32, breaker.threshold);
  const windowOf = (claimed: Claim): ClaimedDelivery[] => (claimed.kind === 'send' ? claimed.deliveries : []);
  const record = (receiverId: string, fence: Holder, delivery: ClaimedDelivery, outcome: Outcome, statusCode = 200) =>
    db.store.deliveries.record(
      receiverId,
      fence,
      [{ delivery, attempt: { ...attempt(fence.fence.value, String(fence.fence.value)), statusCode }, outcome }],
      breaker,
    );

  test("the issue's scenario: a late claim from A (fence 5) after B (fence 6) claimed D1 is refused and changes nothing", async () => {
    const receiverId = await db.newReceiver();
    const d1 = await accept(receiverId);

    const [claimedByB] = windowOf(await claim(receiverId, holder(6)));
    assert.equal(claimedByB?.messageId, d1);

    const a = await claim(receiverId, holder(5));
    assert.deepEqual(a, { kind: 'fenced', maxFence: 6 }, "A's late claim is refused");
    assert.equal(await db.raw.redis.hget(db.raw.keys.receiver(receiverId), 'maxFence:redis'), '6', "B's mark stands");

    const byB = await record(receiverId, holder(6), claimedByB, { kind: 'delivered' });
    assert.deepEqual(byB.result, { kind: 'recorded', breakerOpened: false, enabled: true, queued: false, statuses: ['delivered'] }, "B's record succeeds");
    assert.equal((await claim(receiverId, holder(6))).kind, 'empty', 'D1 is not handed out again');
  });

  test("a stale record is refused too: it cannot overwrite the newer holder's state, only join the history", async () => {
    const receiverId = await db.newReceiver();
    const d1 = await accept(receiverId);
    const [byA] = windowOf(await claim(receiverId, holder(5)));
    // A pauses; B takes the lock over (fence 6) and claims D1 again
    const [byB] = windowOf(await claim(receiverId, holder(6)));
    assert.equal(byB?.messageId, d1);
    // A wakes and reports a failure with a retry: refused, D1 stays as it was, the receiver gets no backoff
    const late = await record(receiverId, holder(5), byA as ClaimedDelivery, { kind: 'failed', retryInMs: 60_000, final: false, holdMs: 60_000 }, 500);
    assert.deepEqual(late.result, { kind: 'fenced' });
    const stored = await storedDelivery(d1, receiverId);
    assert.deepEqual([stored.status, stored.attempts], ['pending', 0]);
    assert.equal(await db.raw.redis.hget(db.raw.keys.receiver(receiverId), 'backoffUntil'), null, 'no backoff from a stale holder');
    // the request A really sent is still in the history, with A's fence
    const history = (await db.store.messages.get(d1))?.deliveries.find((d) => d.receiverId === receiverId)?.attempts ?? [];
    assert.deepEqual(
      history.map((h) => [h.emitterId, h.fence]),
      [['5', 5]],
    );
    const done = await record(receiverId, holder(6), byB, { kind: 'delivered' });
    assert.deepEqual(done.result, { kind: 'recorded', breakerOpened: false, enabled: true, queued: false, statuses: ['delivered'] });
  });

  test('an equal fence is the same holder; a higher one raises the mark and fences out everything below', async () => {
    const receiverId = await db.newReceiver();
    await accept(receiverId);
    await accept(receiverId);
    assert.equal((await claim(receiverId, holder(6))).kind, 'send');
    assert.equal((await claim(receiverId, holder(6))).kind, 'send', 'the same holder claims again');
    assert.equal((await claim(receiverId, holder(9))).kind, 'send');
    assert.deepEqual(await claim(receiverId, holder(6)), { kind: 'fenced', maxFence: 9 });
    // fences of another lock service are other numbers: a switch of backend starts its own mark
    assert.equal((await claim(receiverId, holder(2, 'etcd'))).kind, 'send');
  });

  test('a deleted receiver is gone, whatever the fence, and no fence mark brings its hash back', async () => {
    const receiverId = await db.newReceiver();
    await accept(receiverId);
    assert.equal(await db.store.receivers.delete(receiverId), true);
    assert.equal((await claim(receiverId, holder(6))).kind, 'gone');
    assert.equal(await db.raw.redis.exists(db.raw.keys.receiver(receiverId)), 0);
  });
});
