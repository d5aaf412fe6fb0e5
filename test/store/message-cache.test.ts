import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BreakerPolicy, Claim, ClaimedDelivery, Holder } from '../../src/store/deliveries.js';
import { EMPTY_CATALOG } from '../../src/store/event-types.js';
import { MessageCache } from '../../src/store/message-cache.js';
import { useStore } from '../support/store.js';

/**
 * Issue 13, on a real redis-server: an emitter reads a fanned-out message once, then takes its
 * fields from its cache for the other receivers' first attempts (claim.lua hands out their state),
 * without giving up what the reads were for: a resent delivery's attempts go on numbering, and a
 * message removed meanwhile is dropped, not sent.
 */
describe("the emitter's message cache", () => {
  const db = useStore('msgcache');
  const holder: Holder = { fence: { service: 'redis', value: 1 } };
  const breaker: BreakerPolicy = { threshold: 5, stepsMs: [1000] };
  const claim = (receiverId: string): Promise<Claim> => db.store.deliveries.claim(receiverId, holder, 32, breaker.threshold);
  const windowOf = (claimed: Claim): ClaimedDelivery[] => (claimed.kind === 'send' ? claimed.deliveries : []);
  const accept = async (receiverIds: string[], payload: Record<string, unknown> = { n: 1 }): Promise<string> => {
    const result = await db.store.messages.accept({ eventType: 'test.event', payload, receiverIds }, EMPTY_CATALOG);
    assert.equal(result.kind, 'accepted');
    return result.message.id;
  };
  const deliver = async (receiverId: string, delivery: ClaimedDelivery): Promise<void> => {
    const attempt = { attempt: delivery.attempt, startedAt: new Date().toISOString(), durationMs: 1, statusCode: 200, error: null, emitterId: 'e', fence: 1 };
    const { result } = await db.store.deliveries.record(receiverId, holder, [{ delivery, attempt, outcome: { kind: 'delivered' } }], breaker);
    assert.equal(result.kind, 'recorded');
  };

  /** The HMGETs of `key` Redis runs while `work` does (MONITOR: every command, inside scripts too). */
  const readsOf = async (key: string, work: () => Promise<void>): Promise<number> => {
    const monitor = await db.raw.redis.duplicate().monitor();
    let reads = 0;
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args[0]?.toLowerCase() === 'hmget' && args[1] === key) reads += 1;
    });
    try {
      await work();
      await db.raw.redis.ping(); // MONITOR shows commands in order: this one comes after the work's
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      monitor.disconnect();
    }
    return reads;
  };

  test('a message fanned out to 3 receivers is read once; every receiver gets the same delivery', async () => {
    const receivers = [await db.newReceiver(), await db.newReceiver(), await db.newReceiver()];
    const id = await accept(receivers, { order: 42, text: 'é' });
    const claimed: ClaimedDelivery[] = [];
    const reads = await readsOf(db.raw.keys.message(id), async () => {
      for (const receiverId of receivers) claimed.push(...windowOf(await claim(receiverId)));
    });
    assert.equal(reads, 1, 'one read of the message, for the first receiver');
    assert.equal(claimed.length, 3);
    const created = claimed[0]?.createdAt;
    assert.deepEqual(
      claimed.map(({ receiverId, messageId, retry, attempt, failures, eventType, payloadJson, createdAt }) => ({
        receiverId,
        messageId,
        retry,
        attempt,
        failures,
        eventType,
        payloadJson,
        createdAt,
      })),
      receivers.map((receiverId) => ({
        receiverId,
        messageId: id,
        retry: false,
        attempt: 1,
        failures: 0,
        eventType: 'test.event',
        payloadJson: '{"order":42,"text":"é"}',
        createdAt: created,
      })),
    );
    assert.ok(claimed.every(({ seq }) => seq > 0));
  });

  test('claims running together share one read of the message', async () => {
    const receivers = await Promise.all(Array.from({ length: 4 }, () => db.newReceiver()));
    const id = await accept(receivers);
    let claimed: Claim[] = [];
    const reads = await readsOf(db.raw.keys.message(id), async () => {
      claimed = await Promise.all(receivers.map((receiverId) => claim(receiverId)));
    });
    assert.equal(reads, 1);
    assert.deepEqual(
      claimed.map((window) => windowOf(window).map(({ messageId, attempt }) => [messageId, attempt])),
      receivers.map(() => [[id, 1]]),
    );
  });

  test("a resent delivery's next attempt is numbered after its earlier ones, though its message is cached", async () => {
    const receiverId = await db.newReceiver();
    const id = await accept([receiverId]);
    const [first] = windowOf(await claim(receiverId));
    assert.ok(first);
    await deliver(receiverId, first);
    assert.equal((await db.store.messages.resend(id, undefined)).kind, 'resent');
    assert.equal(await db.raw.redis.hget(db.raw.keys.receiver(receiverId), 'reopened'), '1', 'claims read states until it is sent');

    const [again] = windowOf(await claim(receiverId));
    assert.deepEqual([again?.messageId, again?.retry, again?.attempt], [id, false, 2]);
    await deliver(receiverId, again as ClaimedDelivery);
    assert.equal(await db.raw.redis.hget(db.raw.keys.receiver(receiverId), 'reopened'), '0');
    const history = (await db.store.messages.get(id))?.deliveries[0]?.attempts ?? [];
    assert.deepEqual(
      history.map(({ attempt }) => attempt),
      [1, 2],
      'both attempts kept',
    );
  });

  test('a receiver stored before the count (no `reopened`) has its states read, until a claim finds its queue empty', async () => {
    const [a, b] = [await db.newReceiver(), await db.newReceiver()];
    const id = await accept([a, b]);
    for (const receiverId of [a, b]) {
      const [delivery] = windowOf(await claim(receiverId));
      await deliver(receiverId, delivery as ClaimedDelivery);
    }
    const receiverKey = db.raw.keys.receiver(b);
    await db.raw.redis.hdel(receiverKey, 'reopened'); // as the previous version stored it
    assert.equal((await db.store.messages.resend(id, undefined)).kind, 'resent');
    assert.equal(await db.raw.redis.hexists(receiverKey, 'reopened'), 0, 'a resend does not start the count: it would miss what came before');

    // the message is in the cache since the first claims
    const [again] = windowOf(await claim(b));
    assert.deepEqual([again?.messageId, again?.attempt], [id, 2], 'numbered after the first attempt, though the message is cached');
    await deliver(b, again as ClaimedDelivery);
    assert.equal(await db.raw.redis.hexists(receiverKey, 'reopened'), 0, 'still unknown while the queue was not seen empty');
    assert.deepEqual(await claim(b), { kind: 'empty' });
    assert.equal(await db.raw.redis.hget(receiverKey, 'reopened'), '0', 'counted from an empty queue on');
  });

  test('a cached message removed meanwhile is dropped from the queue, not sent', async () => {
    const [a, b] = [await db.newReceiver(), await db.newReceiver()];
    const id = await accept([a, b]);
    assert.equal(windowOf(await claim(a)).length, 1, 'read (and cached) for the first receiver');
    await db.raw.redis.del(db.raw.keys.message(id)); // removed by hand
    assert.deepEqual(await claim(b), { kind: 'empty' });
    assert.equal(await db.raw.redis.zcard(db.raw.keys.queue(b)), 0, 'the delivery left the queue');
  });
});

test('a read of a message the cache is reading already is still observed: its failure is not an unhandled rejection', async () => {
  // A window reads a retry's message even when it is cached (its state is needed), and the cache
  // keeps the first read. Unobserved, the second read failing with Redis gone ended the emitter
  // (clean-clone CI, chaos: MaxRetriesPerRequestError during a Redis restart).
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): number => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const cache = new MessageCache();
    cache.reading('m', new Promise(() => {}));
    cache.reading('m', Promise.reject(new Error('Redis gone')));
    await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  assert.deepEqual(unhandled, []);
});
