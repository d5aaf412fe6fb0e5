import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import type { BreakerPolicy, ClaimedDelivery, Holder, Outcome } from '../../src/store/deliveries.js';
import { Keys } from '../../src/store/keys.js';
import type { Attempt } from '../../src/store/types.js';
import { useStore } from '../support/store.js';
import { EMPTY_CATALOG } from '../../src/store/event-types.js';

const RETENTION_MS = 1500;

/**
 * Issue 12 item 1 on a real redis-server: a message whose deliveries are all final (delivered,
 * dead, cancelled) is removed with its deliveries, attempts and idempotency key RETENTION_MS after
 * it became final, by Redis expiry; a resend or replay keeps it; a delivery keeps its first 3 and
 * last 10 attempts and counts the rest.
 */
describe('retention: final messages expire, attempts are bounded', () => {
  const db = useStore('ret', { retentionMs: RETENTION_MS });

  const holder: Holder = { fence: { service: 'redis', value: 1 } };
  const breaker: BreakerPolicy = { threshold: 1000, stepsMs: [1] };
  const newReceiver = (): Promise<string> => db.newReceiver({ eventTypes: ['ret.*'] });
  const accept = async (receiverIds: string[], idempotencyKey?: string): Promise<string> => {
    const result = await db.store.messages.accept(
      { eventType: 'ret.event', payload: { n: 1 }, receiverIds, ...(idempotencyKey ? { idempotencyKey } : {}) },
      EMPTY_CATALOG,
    );
    assert.equal(result.kind, 'accepted');
    return result.message.id;
  };
  const attempt = (statusCode: number): Attempt => ({
    attempt: 1,
    startedAt: new Date().toISOString(),
    durationMs: 1,
    statusCode,
    error: null,
    emitterId: 'e',
    fence: 1,
  });
  /** Claims the receiver's next delivery and records `outcome` for it. */
  const deliver = async (receiverId: string, outcome: Outcome): Promise<ClaimedDelivery> => {
    const claim = await db.store.deliveries.claim(receiverId, holder, 1, breaker.threshold);
    assert.equal(claim.kind, 'send');
    const delivery = claim.kind === 'send' ? (claim.deliveries[0] as ClaimedDelivery) : assert.fail('nothing claimed');
    const statusCode = outcome.kind === 'delivered' ? 200 : 500;
    await db.store.deliveries.record(receiverId, holder, [{ delivery, attempt: { ...attempt(statusCode), attempt: delivery.attempt }, outcome }], breaker);
    return delivery;
  };
  const dead: Outcome = { kind: 'failed', retryInMs: 0, final: true, holdMs: 0 };
  /** A message's keys: one hash holds it with its deliveries and their attempts. */
  const messageKeys = (messageId: string): string[] => [db.raw.keys.message(messageId)];
  /** Remaining lives (ms) of the message's keys: -1 = no expiry, -2 = gone. */
  const ttls = async (keys: string[]): Promise<number[]> => Promise.all(keys.map((key) => db.raw.redis.pttl(key)));
  const expiring = (ttl: number): boolean => ttl > 0 && ttl <= RETENTION_MS;

  test('a delivered message, its deliveries, attempts and idempotency key are removed RETENTION_MS after it became final', async () => {
    const receiverId = await newReceiver();
    const messageId = await accept([receiverId], 'order-1');
    const keys = [...messageKeys(messageId), db.raw.keys.idempotency('order-1')];
    assert.deepEqual((await ttls(keys)).slice(0, 1), [-1], 'an unfinished message does not expire');
    await deliver(receiverId, { kind: 'delivered' });
    const lives = await ttls(keys);
    assert.ok(lives.every(expiring), `every key expires within the retention once final: ${lives.join(', ')}`);
    assert.equal((await db.store.messages.get(messageId))?.deliveries[0]?.status, 'delivered');
    await sleep(RETENTION_MS + 200);
    assert.equal(await db.store.messages.get(messageId), null, 'GET /v1/messages/:id answers 404');
    assert.deepEqual(
      await ttls(keys),
      keys.map(() => -2),
      'nothing of it is left',
    );
    const again = await db.store.messages.accept({ eventType: 'ret.event', payload: {}, receiverIds: [receiverId], idempotencyKey: 'order-1' }, EMPTY_CATALOG);
    assert.equal(again.kind, 'accepted', 'its idempotency key is free again');
  });

  test('a message expires only once every delivery is final; its dead letter goes with it', async () => {
    const [a, b] = [await newReceiver(), await newReceiver()];
    const messageId = await accept([a, b]);
    await deliver(a, { kind: 'delivered' });
    assert.deepEqual(await ttls(messageKeys(messageId)), [-1], 'one delivery still open: kept');
    await deliver(b, dead);
    assert.ok((await ttls(messageKeys(messageId))).every(expiring));
    assert.deepEqual(
      (await db.store.deadLetters.list(b, 10, undefined)).data.map((letter) => letter.messageId),
      [messageId],
    );
    assert.equal((await db.store.receivers.get(b))?.health.deadLetters, 1);
    await sleep(RETENTION_MS + 200);
    assert.equal(await db.store.messages.get(messageId), null);
    assert.deepEqual((await db.store.deadLetters.list(b, 10, undefined)).data, [], 'the dead-letters list no longer shows it');
    assert.equal((await db.store.receivers.get(b))?.health.deadLetters, 0);
    await accept([b]);
    await deliver(b, dead);
    assert.equal(await db.raw.redis.zscore(db.raw.keys.dead(b), messageId), null, 'the next death trims the old entry from the dead set');
  });

  test('cancelled by a receiver delete is final too', async () => {
    const receiverId = await newReceiver();
    const messageId = await accept([receiverId]);
    assert.equal(await db.store.receivers.delete(receiverId), true);
    assert.ok((await ttls(messageKeys(messageId))).every(expiring));
    await sleep(RETENTION_MS + 200);
    assert.equal(await db.store.messages.get(messageId), null);
  });

  test('an attempt recorded after its delivery was cancelled does not outlive its message', async () => {
    const receiverId = await newReceiver();
    const messageId = await accept([receiverId]);
    const claim = await db.store.deliveries.claim(receiverId, holder, 1, breaker.threshold);
    const delivery = claim.kind === 'send' ? (claim.deliveries[0] as ClaimedDelivery) : assert.fail('nothing claimed');
    assert.equal(await db.store.receivers.delete(receiverId), true); // while the request is in flight
    await db.store.deliveries.record(receiverId, holder, [{ delivery, attempt: attempt(200), outcome: { kind: 'delivered' } }], breaker);
    const [cancelled] = (await db.store.messages.get(messageId))?.deliveries ?? [];
    assert.deepEqual([cancelled?.status, cancelled?.attempts.length], ['cancelled', 1], 'the request that was sent is in the history');
    assert.ok(expiring(await db.raw.redis.pttl(db.raw.keys.message(messageId))), 'and goes with its message');
  });

  test('a message that matched no receiver expires too', async () => {
    const result = await db.store.messages.accept({ eventType: 'nobody.listens', payload: {} }, EMPTY_CATALOG);
    assert.equal(result.kind, 'accepted');
    assert.ok(expiring(await db.raw.redis.pttl(db.raw.keys.message(result.message.id))));
  });

  test('a resend or a replay keeps the message again (and gives the idempotency key its 24 h back)', async () => {
    const receiverId = await newReceiver();
    const messageId = await accept([receiverId], 'order-2');
    await deliver(receiverId, { kind: 'delivered' });
    assert.ok(expiring(await db.raw.redis.pttl(db.raw.keys.idempotency('order-2'))));
    assert.equal((await db.store.messages.resend(messageId, undefined)).kind, 'resent');
    assert.deepEqual(await ttls(messageKeys(messageId)), [-1], 'kept while the resend is open');
    assert.ok((await db.raw.redis.pttl(db.raw.keys.idempotency('order-2'))) > 23 * 3_600_000);
    await deliver(receiverId, dead);
    assert.ok((await ttls(messageKeys(messageId))).every(expiring));
    assert.equal(await db.store.receivers.replayDead(receiverId, { messageIds: [messageId] }), 1);
    assert.deepEqual(await ttls(messageKeys(messageId)), [-1], 'kept while the replay is open');
    await sleep(RETENTION_MS + 200);
    assert.equal((await db.store.messages.get(messageId))?.deliveries[0]?.status, 'pending', 'still there after the retention');
  });

  test('a delivery keeps its first 3 and last 10 attempts, and counts those left out', async () => {
    const receiverId = await newReceiver();
    const messageId = await accept([receiverId]);
    for (let i = 0; i < 19; i++) await deliver(receiverId, { kind: 'aborted' }); // due again at once
    await deliver(receiverId, { kind: 'delivered' });
    const [delivery] = (await db.store.messages.get(messageId))?.deliveries ?? [];
    assert.deepEqual(
      delivery?.attempts.map((a) => a.attempt),
      [1, 2, 3, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20],
    );
    assert.equal(delivery?.omittedAttempts, 7);
    const kept = (await db.raw.redis.hkeys(db.raw.keys.message(messageId)))
      .map((field) => Keys.parseField(field))
      .filter((owner) => owner?.kind === 'attempt' && owner.receiverId === receiverId);
    assert.equal(kept.length, 13, 'the hash itself stays bounded');
  });
});
