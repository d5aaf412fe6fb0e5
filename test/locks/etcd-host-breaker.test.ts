import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { GRPCInvalidArgumentError, GRPCUnavailableError } from 'etcd3';
import { EtcdHostBreaker } from '../../src/locks/etcd-host-breaker.js';

const unavailable = (): Promise<never> => Promise.reject(new GRPCUnavailableError('14 UNAVAILABLE: connection refused'));

/** Runs `fn` through the breaker; whether `fn` was called, and the error if any. */
async function call(breaker: EtcdHostBreaker, fn: () => Promise<unknown>): Promise<{ called: boolean; error?: Error }> {
  let called = false;
  try {
    await breaker.execute(() => {
      called = true;
      return fn();
    });
    return { called };
  } catch (error) {
    return { called, error: error as Error };
  }
}

test('etcd host breaker: 3 recoverable failures in a row skip the host for skipMs, then calls go through again', async () => {
  const breaker = new EtcdHostBreaker('127.0.0.1:2379', { failures: 3, skipMs: 200 });
  for (let i = 0; i < 3; i++) assert.equal((await call(breaker, unavailable)).called, true);
  const skipped = await call(breaker, () => Promise.resolve('ok'));
  assert.equal(skipped.called, false, 'skipped: the pool tries another host');
  assert.match(skipped.error?.message ?? '', /etcd host 127\.0\.0\.1:2379 skipped: 3 calls in a row failed/);
  await sleep(250);
  assert.deepEqual(await call(breaker, () => Promise.resolve('ok')), { called: true });
});

test('etcd host breaker: a success resets the count, and an error etcd3 does not retry is not counted', async () => {
  const breaker = new EtcdHostBreaker('h', { failures: 3, skipMs: 60_000 });
  await call(breaker, unavailable);
  await call(breaker, unavailable);
  await call(breaker, () => Promise.resolve());
  await call(breaker, unavailable);
  await call(breaker, unavailable);
  for (let i = 0; i < 5; i++) await call(breaker, () => Promise.reject(new GRPCInvalidArgumentError('bad request')));
  assert.equal((await call(breaker, () => Promise.resolve())).called, true);
});

test("etcd host breaker: a wall clock stepped back does not lengthen the skip (etcd3's default breaker skipped for the whole step)", async () => {
  const realNow = Date.now;
  const breaker = new EtcdHostBreaker('h', { failures: 3, skipMs: 200 });
  try {
    for (let i = 0; i < 3; i++) await call(breaker, unavailable);
    // the emitter's clock steps back 240 s while the host is skipped (NTP, or the chaos run's step back to true time)
    Date.now = () => realNow() - 240_000;
    assert.equal((await call(breaker, () => Promise.resolve())).called, false);
    await sleep(250);
    assert.deepEqual(await call(breaker, () => Promise.resolve()), { called: true }, 'skipped for skipMs of real time, not until the wall clock catches up');
  } finally {
    Date.now = realNow;
  }
});
