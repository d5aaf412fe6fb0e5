import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { TrackedLock } from '../../src/locks/tracked-lock.js';
import { type LockLostError } from '../../src/locks/types.js';

test('the local deadline fires on its own, even when Node runs the timer a little early', async () => {
  // Node timers fire up to ~1 ms before the clock reaches their target in a few runs out of a
  // hundred; 300 locks make that near certain, and every one must still be lost by its deadline
  const ttlMs = 400; // margin 200 ms: deadlines 200 ms after "acquire"
  const now = performance.now();
  const locks = Array.from({ length: 300 }, (_, i) => new TrackedLock(`rcv_${i}`, i + 1, ttlMs, now - (i % 150)));
  const lostAt = new Map<TrackedLock, number>();
  for (const lock of locks) lock.lost.addEventListener('abort', () => lostAt.set(lock, performance.now()));
  await sleep(ttlMs);
  const missed = locks.filter((lock) => !lostAt.has(lock));
  assert.deepEqual(
    missed.map((lock) => lock.receiverId),
    [],
    'every deadline fired without anyone calling isHeld()',
  );
  for (const lock of locks) {
    assert.ok((lostAt.get(lock) as number) >= lock.deadline(), 'never before the deadline');
    assert.equal((lock.lost.reason as LockLostError).reason, 'deadline');
  }
});

test('a wall clock stepped back or forward moves no deadline: the lock is lost on the monotonic clock', async () => {
  const wallClock = Date.now;
  const ttlMs = 600; // margin 200 ms: the deadline is 400 ms after "acquire"
  const lock = new TrackedLock('rcv_clock', 1, ttlMs, performance.now());
  try {
    Date.now = () => wallClock() - 5000; // an NTP step back
    await sleep(450);
    assert.equal(lock.isHeld(), false, 'lost at its deadline, not 5 s later');
    assert.equal((lock.lost.reason as LockLostError).reason, 'deadline');
    const other = new TrackedLock('rcv_clock2', 2, ttlMs, performance.now());
    Date.now = () => wallClock() + 120_000; // and a step forward loses nothing early
    assert.equal(other.isHeld(), true);
    other.lose('released');
  } finally {
    Date.now = wallClock;
  }
});
