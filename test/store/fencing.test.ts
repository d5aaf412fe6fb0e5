import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ClaimedDelivery } from '../../src/store/deliveries.js';
import { Store } from '../../src/store/index.js';
import type { Attempt } from '../../src/store/types.js';
import { RedisServer } from '../support/redis.js';

/**
 * Issue 10 item 2, against a real redis-server: the store itself refuses a lock holder whose
 * fence is lower than one it has already seen for the receiver, so a late claim or completion
 * from a holder that lost its lock can never overwrite the newer holder's work.
 */
describe('the store refuses stale holders (fencing in Redis)', () => {
  let redis: RedisServer;
  let store: Store;
  before(async () => {
    redis = await RedisServer.start();
    store = new Store(redis.url, 'fencing', { disableAfterDeadMs: 3_600_000 });
    await store.connect();
  });
  after(async () => {
    await store?.close();
    await redis?.destroy();
  });

  const newReceiver = async (): Promise<string> => (await store.receivers.create({
    url: 'https://example.com/hook', eventTypes: [], secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', description: '', headers: {}, timeoutMs: 1000, enabled: true,
  })).id;
  const accept = async (receiverId: string): Promise<string> => {
    const result = await store.messages.accept({ eventType: 'test.event', payload: {}, receiverIds: [receiverId] });
    assert.equal(result.kind, 'accepted');
    return result.message.id;
  };
  const storedDelivery = async (messageId: string, receiverId: string): Promise<{ status: string; claim?: string; attempts: number }> =>
    JSON.parse((await store.redis.hget(store.keys.deliveries(messageId), receiverId)) ?? '{}') as { status: string; claim?: string; attempts: number };
  const attempt = (fence: number, emitterId: string): Attempt => ({
    attempt: 1, startedAt: new Date().toISOString(), durationMs: 3, statusCode: 200, error: null, emitterId, fence,
  });
  const fence = (value: number) => ({ service: 'redis', value });

  test("the issue's scenario: a late claim from A (fence 5) after B (fence 6) claimed D1 is refused and changes nothing", async () => {
    const receiverId = await newReceiver();
    const d1 = await accept(receiverId);

    const b = await store.deliveries.claim(receiverId, 'B:6', fence(6));
    assert.equal(b.kind, 'send');
    const claimedByB = (b as { delivery: ClaimedDelivery }).delivery;
    assert.equal(claimedByB.messageId, d1);

    const a = await store.deliveries.claim(receiverId, 'A:5', fence(5));
    assert.equal(a.kind, 'fenced', "A's late claim is refused");
    const afterA = await storedDelivery(d1, receiverId);
    assert.deepEqual([afterA.status, afterA.claim], ['delivering', 'B:6'], "B's claim stands");

    const completedByB = await store.deliveries.complete(claimedByB, attempt(6, 'B'), { kind: 'delivered' });
    assert.equal(completedByB.status, 'delivered', "B's completion succeeds");
    const again = await store.deliveries.claim(receiverId, 'B:6', fence(6));
    assert.equal(again.kind, 'empty', 'D1 is not handed out again');
  });

  test("a stale completion is refused too: it cannot overwrite the newer holder's state, only join the history", async () => {
    const receiverId = await newReceiver();
    const d1 = await accept(receiverId);
    const byA = await store.deliveries.claim(receiverId, 'A:5', fence(5));
    assert.equal(byA.kind, 'send');
    // A pauses; B takes the lock over (fence 6) and claims D1 again
    const byB = await store.deliveries.claim(receiverId, 'B:6', fence(6));
    assert.equal(byB.kind, 'send');
    // A wakes and reports a failure with a retry: refused, D1 stays B's, the receiver gets no backoff
    const late = await store.deliveries.complete((byA as { delivery: ClaimedDelivery }).delivery, { ...attempt(5, 'A'), statusCode: 500 }, { kind: 'failed', retryInMs: 60_000, final: false });
    assert.equal(late.status, 'fenced');
    const stored = await storedDelivery(d1, receiverId);
    assert.deepEqual([stored.status, stored.claim, stored.attempts], ['delivering', 'B:6', 0]);
    assert.equal(await store.redis.hget(store.keys.receiver(receiverId), 'backoffUntil'), null, 'no backoff from a stale holder');
    // the request A really sent is still in the history, with A's fence
    const history = (await store.redis.lrange(store.keys.attempts(d1), 0, -1)).map((json) => JSON.parse(json) as Attempt);
    assert.deepEqual(history.map((h) => [h.emitterId, h.fence]), [['A', 5]]);
    const done = await store.deliveries.complete((byB as { delivery: ClaimedDelivery }).delivery, attempt(6, 'B'), { kind: 'delivered' });
    assert.equal(done.status, 'delivered');
  });

  test('an equal fence is the same holder; a higher one raises the mark and fences out everything below', async () => {
    const receiverId = await newReceiver();
    await accept(receiverId);
    await accept(receiverId);
    assert.equal((await store.deliveries.claim(receiverId, 'B:6', fence(6))).kind, 'send');
    assert.equal((await store.deliveries.claim(receiverId, 'B:6', fence(6))).kind, 'send', 'the same holder claims again');
    assert.equal((await store.deliveries.claim(receiverId, 'C:9', fence(9))).kind, 'send');
    const refused = await store.deliveries.claim(receiverId, 'B:6', fence(6));
    assert.deepEqual(refused, { kind: 'fenced', maxFence: 9 });
    // fences of another lock service are other numbers: a switch of backend starts its own mark
    assert.equal((await store.deliveries.claim(receiverId, 'E:2', { service: 'etcd', value: 2 })).kind, 'send');
  });

  test('a deleted receiver is gone, whatever the fence, and no fence mark brings its hash back', async () => {
    const receiverId = await newReceiver();
    await accept(receiverId);
    assert.equal(await store.receivers.delete(receiverId), true);
    assert.equal((await store.deliveries.claim(receiverId, 'B:6', fence(6))).kind, 'gone');
    assert.equal(await store.redis.exists(store.keys.receiver(receiverId)), 0);
  });
});
