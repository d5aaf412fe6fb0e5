import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { TrackedLock } from '../../src/locks/held-lock.js';
import { LockLostError } from '../../src/locks/types.js';

test('the local deadline fires on its own, even when Node runs the timer a little early', async () => {
  // Node timers fire up to ~1 ms before Date.now() reaches their target in a few runs out of a
  // hundred; 300 locks make that near certain, and every one must still be lost by its deadline
  const ttlMs = 400; // margin 200 ms: deadlines 200 ms after "acquire"
  const now = Date.now();
  const locks = Array.from({ length: 300 }, (_, i) => new TrackedLock(`rcv_${i}`, i + 1, ttlMs, now - (i % 150)));
  const lostAt = new Map<TrackedLock, number>();
  for (const lock of locks) lock.lost.addEventListener('abort', () => lostAt.set(lock, Date.now()));
  await sleep(ttlMs);
  const missed = locks.filter((lock) => !lostAt.has(lock));
  assert.deepEqual(missed.map((lock) => lock.receiverId), [], 'every deadline fired without anyone calling isHeld()');
  for (const lock of locks) {
    assert.ok((lostAt.get(lock) as number) >= lock.deadline(), 'never before the deadline');
    assert.equal((lock.lost.reason as LockLostError).reason, 'deadline');
  }
});
