import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { BreakerPolicy, Holder, Outcome } from '../../src/store/deliveries.js';
import { DRAIN_QUEUE, type DrainJob } from '../../src/store/drain-queue.js';
import { EMPTY_CATALOG } from '../../src/store/event-types.js';
import type { ReceiverSettings } from '../../src/store/types.js';
import { useStore } from '../support/store.js';

/**
 * A turn that ends with work for later notes its receiver in the wake set on Redis's clock (not in
 * BullMQ's delayed set, which each worker times by its own wall clock): an emitter whose clock was
 * stepped 120 s neither parks a receiver for two minutes nor wakes it early. A turn that fails is
 * retried without a BullMQ delay for the same reason (chaos seed 5401 on redis found that path).
 */
const realNow = Date.now;
const db = useStore('wake');
after(() => {
  Date.now = realNow;
});

test("a wake-up noted by an emitter whose clock is 120 s off is due on Redis's clock; the earliest noted wins", async () => {
  Date.now = () => realNow() + 120_000;
  try {
    await db.store.drains.later('rcv_ahead', 300);
  } finally {
    Date.now = () => realNow() - 120_000;
  }
  try {
    await db.store.drains.later('rcv_behind', 5000);
    await db.store.drains.later('rcv_behind', 300); // an earlier turn: the earlier time counts
    await db.store.drains.later('rcv_behind', 9000); // a later one does not push it out
  } finally {
    Date.now = realNow;
  }
  assert.deepEqual(await db.store.drains.waiting(['rcv_ahead', 'rcv_behind', 'rcv_none']), new Set(['rcv_ahead', 'rcv_behind']));
  assert.equal(await db.store.drains.promoteDue(), 0, 'nothing is due yet');
  await new Promise((resolve) => setTimeout(resolve, 400));
  assert.equal(await db.store.drains.promoteDue(), 2, "both are due 300 ms later, whatever their emitters' clocks said");
  assert.ok(await db.store.drains.queues[0]?.getDeduplicationJobId('rcv_ahead'), 'each got a drain job');
  assert.deepEqual(await db.store.drains.waiting(['rcv_ahead', 'rcv_behind']), new Set());
});

test('hasWaiting says whether a drain job waits for an emitter', async () => {
  await db.store.drains.schedule(['rcv_waits']);
  assert.equal(await db.store.drains.hasWaiting(), true, 'no emitter runs: the job waits');
  await Promise.all(db.store.drains.queues.map((queue) => queue.drain()));
  assert.equal(await db.store.drains.hasWaiting(), false, 'none left');
});

test('a drain job whose turn failed on a worker whose clock is 120 s ahead comes back at once, not 120 s later', async () => {
  await db.store.drains.schedule(['rcv_fails']);
  const connection = new Redis(db.server.url, { maxRetriesPerRequest: null });
  const runs: number[] = [];
  const worker = new Worker<DrainJob>(
    DRAIN_QUEUE,
    (job) => {
      if (job.data.receiverId !== 'rcv_fails') return Promise.resolve();
      runs.push(performance.now());
      if (runs.length > 1) return Promise.resolve();
      // the turn fails while this process's wall clock is 120 s ahead (restored once BullMQ has handled the failure)
      Date.now = () => realNow() + 120_000;
      return Promise.reject(new Error('Redis went away mid-turn'));
    },
    { connection, prefix: db.store.drains.prefixes[0] as string, drainDelay: 1 },
  );
  worker.on('failed', () => {
    Date.now = realNow;
  });
  try {
    const deadline = performance.now() + 5000;
    while (runs.length < 2 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(runs.length, 2, 'the failed job ran again within 5 s (a BullMQ delay would have been timed on the stepped clock)');
  } finally {
    Date.now = realNow;
    await worker.close();
    connection.disconnect();
  }
});

test('intake wakes a receiver whose only deliveries wait for a retry (its turn parked it until then), unless it is held as a whole', async () => {
  const holder: Holder = { fence: { service: 'redis', value: 1 } };
  const breaker: BreakerPolicy = { threshold: 1000, stepsMs: [1] };
  const accept = async (receiverId: string): Promise<string[]> => {
    const result = await db.store.messages.accept({ eventType: 'wake.event', payload: {}, receiverIds: [receiverId] }, EMPTY_CATALOG);
    assert.equal(result.kind, 'accepted');
    return result.toWake;
  };
  /** A receiver whose one delivery failed: retried in a minute, the receiver held for `holdMs`. */
  const failedOnce = async (settings: Partial<ReceiverSettings>, holdMs = 0): Promise<string> => {
    const id = await db.newReceiver(settings);
    assert.deepEqual(await accept(id), [id], 'an empty queue wakes');
    const claim = await db.store.deliveries.claim(id, holder, 1, breaker.threshold);
    assert.equal(claim.kind, 'send');
    const outcome: Outcome = { kind: 'failed', retryInMs: 60_000, final: false, holdMs };
    const attempt = { attempt: 1, startedAt: new Date().toISOString(), durationMs: 1, statusCode: 500, error: null, emitterId: 'e', fence: 1 };
    await db.store.deliveries.record(id, holder, claim.kind === 'send' ? claim.deliveries.map((delivery) => ({ delivery, attempt, outcome })) : [], breaker);
    return id;
  };
  const unordered = await failedOnce({});
  assert.deepEqual(await accept(unordered), [unordered], 'unordered, only a retry queued: the new message goes now');
  assert.deepEqual(await accept(unordered), [], 'a first attempt queued already: it has a job');
  const strict = await failedOnce({ ordering: 'strict' });
  assert.deepEqual(await accept(strict), [], 'strict: held behind its retry');
  const heldOff = await failedOnce({}, 60_000);
  assert.deepEqual(await accept(heldOff), [], 'held as a whole (429 + Retry-After)');
});
