import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { RedisReceiverLocks } from '../../src/locks/redis.js';
import type { HeldLock } from '../../src/locks/types.js';
import { waitFor } from '../support/ports.js';
import { RedisServer } from '../support/redis.js';

/** Calls per command since the last `CONFIG RESETSTAT` (commands inside scripts included), without the reading itself. */
async function commands(redis: Redis): Promise<Record<string, number>> {
  const info = await redis.info('commandstats');
  const calls = [...info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((match) => [match[1] as string, Number(match[2])] as const);
  return Object.fromEntries(calls.filter(([name]) => name !== 'info' && name !== 'config|resetstat'));
}

/** What the Redis backend keeps in Redis, and what one turn's acquire + release costs there. */
describe('redis lock backend: layout and cost', () => {
  const prefix = `lockstep-layout-${process.pid}`;
  let server: RedisServer;
  let admin: Redis;
  let a: RedisReceiverLocks;
  let b: RedisReceiverLocks;
  before(async () => {
    server = await RedisServer.start();
    admin = server.client();
    [a, b] = [
      new RedisReceiverLocks(server.url, { emitterId: 'layout-a', ttlMs: 2000, prefix }),
      new RedisReceiverLocks(server.url, { emitterId: 'layout-b', ttlMs: 2000, prefix }),
    ];
    await Promise.all([a.start(), b.start()]);
  });
  after(async () => {
    await Promise.all([a?.close(), b?.close()]);
    admin?.disconnect();
    await server?.destroy();
  });

  test('a fence counter kept by an earlier version (one key per name) is continued, then dropped', async () => {
    await admin.set(`${prefix}:fence:rcv_old`, '41');
    const first = (await a.acquire('rcv_old', { waitMs: 0 })) as HeldLock;
    assert.equal(first.fence, 42);
    assert.equal(await admin.exists(`${prefix}:fence:rcv_old`), 0);
    await a.release(first);
    const second = (await b.acquire('rcv_old', { waitMs: 0 })) as HeldLock;
    assert.equal(second.fence, 43);
    await b.release(second);
  });

  test('a turn costs 3 + 3 commands; a release publishes only when a waiter marked the lock', async () => {
    const warm = (await a.acquire('rcv_cost', { waitMs: 0 })) as HeldLock; // a name's first lock also looks for an old counter
    await a.release(warm);
    await admin.config('RESETSTAT');
    const held = (await a.acquire('rcv_cost', { waitMs: 0 })) as HeldLock;
    assert.equal(await b.acquire('rcv_cost', { waitMs: 0 }), null, 'a try without waiting marks nothing');
    await a.release(held);
    assert.deepEqual(await commands(admin), { evalsha: 3, set: 2, hincrby: 1, get: 1, del: 1 });

    const again = (await a.acquire('rcv_cost', { waitMs: 0 })) as HeldLock;
    const waiting = b.acquire('rcv_cost', { waitMs: 1500 });
    await waitFor('the waiter to mark the lock and listen for its release', async () => {
      const [value, [, listeners]] = await Promise.all([
        admin.get(`${prefix}:lock:rcv_cost`),
        admin.pubsub('NUMSUB', `${prefix}:lock-released`) as Promise<[string, number]>,
      ]);
      return Boolean(value?.endsWith('!')) && listeners > 0;
    });
    const releasedAt = performance.now();
    await a.release(again);
    const next = (await waiting) as HeldLock;
    assert.ok(next && next.fence > again.fence, 'the waiter got it');
    // ttl 2000 ms: the poll is 250 ms apart, so a wake within 150 ms came from the release's PUBLISH
    assert.ok(performance.now() - releasedAt < 150, `woken by the release (${Math.round(performance.now() - releasedAt)} ms)`);
    assert.equal((await commands(admin)).publish, 1);
    await b.release(next);
  });
});
