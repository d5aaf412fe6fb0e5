import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Holder } from '../../src/store/deliveries.js';
import { EMPTY_CATALOG } from '../../src/store/event-types.js';
import { useStore } from '../support/store.js';

/**
 * The paths a script's keys are read for before it runs (lua/claim.lua + drop-gone.lua,
 * delete-receiver.lua in calls of at most 1000 deliveries), on a real redis-server: test/store/lua-keys.test.ts
 * checks that no script builds a key.
 */
describe('scripts given the keys the caller read first', () => {
  const db = useStore('named');
  const holder: Holder = { fence: { service: 'redis', value: 1 } };
  const accept = async (receiverId: string, idempotencyKey?: string): Promise<string> => {
    const result = await db.store.messages.accept(
      { eventType: 'named.event', payload: { n: 1 }, receiverIds: [receiverId], ...(idempotencyKey ? { idempotencyKey } : {}) },
      EMPTY_CATALOG,
    );
    assert.equal(result.kind, 'accepted');
    return result.message.id;
  };

  test('a claimed delivery whose message is gone leaves the queue, and the window goes on with the next', async () => {
    const receiverId = await db.newReceiver();
    const [first, second, third] = [await accept(receiverId), await accept(receiverId), await accept(receiverId)];
    await db.raw.redis.del(db.raw.keys.message(first), db.raw.keys.message(second)); // removed by hand
    const claim = await db.store.deliveries.claim(receiverId, holder, 2, 1000);
    assert.equal(claim.kind, 'send');
    assert.deepEqual(claim.kind === 'send' ? claim.deliveries.map((d) => d.messageId) : [], [third], 'the window claimed again past them');
    assert.deepEqual(await db.raw.redis.zrange(db.raw.keys.queue(receiverId), 0, -1), [third]);
    assert.equal(Number(await db.raw.redis.hget(db.raw.keys.stats, 'queued')), 1, 'the counters follow');
  });

  test('a claimed delivery whose payload was deleted after the claim is cancelled, not sent, and leaves the queue', async () => {
    const receiverId = await db.newReceiver();
    const [first, second] = [await accept(receiverId), await accept(receiverId)];
    // what lua/delete-payload.lua would find nothing to cancel of: a resend racing it put the delivery back
    await db.raw.redis.multi().hdel(db.raw.keys.message(first), 'payload').hset(db.raw.keys.message(first), 'payloadDeletedAt', Date.now()).exec();
    const claim = await db.store.deliveries.claim(receiverId, holder, 2, 1000);
    assert.deepEqual(claim.kind === 'send' ? claim.deliveries.map((d) => d.messageId) : claim.kind, [second]);
    assert.deepEqual(await db.raw.redis.zrange(db.raw.keys.queue(receiverId), 0, -1), [second]);
    assert.equal((await db.store.messages.get(first))?.deliveries[0]?.status, 'cancelled');
    assert.ok((await db.raw.redis.pttl(db.raw.keys.message(first))) > 0, 'its message is final: it expires with the retention');
  });

  test('a payload deletion cancels a wide fan-out in more than one call', async () => {
    const receiverIds = await Promise.all(Array.from({ length: 1101 }, () => db.newReceiver()));
    const result = await db.store.messages.accept({ eventType: 'named.wide', payload: { card: 'x' }, receiverIds }, EMPTY_CATALOG);
    assert.equal(result.kind, 'accepted');
    const id = result.kind === 'accepted' ? result.message.id : '';
    const deletion = await db.store.messages.deletePayload(id);
    assert.equal(deletion.kind === 'deleted' && deletion.cancelled.length, 1101);
    const message = await db.store.messages.get(id);
    assert.ok(message?.deliveries.every((d) => d.status === 'cancelled'));
    assert.equal(message?.deliveries.length, 1101);
    assert.ok((await db.raw.redis.pttl(db.raw.keys.message(id))) > 0, 'every delivery final: it expires with the retention');
  });

  test('a delete cancels every queued delivery, more than one call takes, and shortens their idempotency keys', async () => {
    const queuedBefore = Number(await db.raw.redis.hget(db.raw.keys.stats, 'queued'));
    const receiverId = await db.newReceiver();
    const pipelined = Array.from({ length: 1203 }, (_, i) => accept(receiverId, i % 100 === 0 ? `named-${i}` : undefined));
    const ids = await Promise.all(pipelined);
    assert.equal(await db.store.receivers.delete(receiverId), true);
    assert.equal(await db.raw.redis.exists(db.raw.keys.queue(receiverId), db.raw.keys.receiver(receiverId)), 0);
    const last = await db.store.messages.get(ids[1200] as string);
    assert.equal(last?.deliveries[0]?.status, 'cancelled');
    const idemTtl = await db.raw.redis.pttl(db.raw.keys.idempotency('named-1200'));
    assert.ok(idemTtl > 0 && idemTtl <= (await db.raw.redis.pttl(db.raw.keys.message(ids[1200] as string))), 'the key ends with its message');
    assert.equal(Number(await db.raw.redis.hget(db.raw.keys.stats, 'queued')), queuedBefore, 'the counters follow');
  });
});
