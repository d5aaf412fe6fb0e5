import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { useStore } from '../support/store.js';

/**
 * A turn that ends with work for later notes its receiver in the wake set on Redis's clock (not in
 * BullMQ's delayed set, which each worker times by its own wall clock): an emitter whose clock was
 * stepped 120 s neither parks a receiver for two minutes nor wakes it early.
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
