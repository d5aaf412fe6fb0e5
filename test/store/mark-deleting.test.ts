import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Store } from '../../src/store/index.js';
import { probe, type Probe } from './probe.js';
import { RedisServer } from '../support/redis.js';

/** mark-deleting.lua on a real Redis: disables an existing receiver at once, never makes a ghost of a missing one. */
let redis: RedisServer;
let store: Store;
let raw: Probe;
before(async () => {
  redis = await RedisServer.start();
  store = new Store(redis.url, 'md', { disableAfterDeadMs: 3_600_000 });
  raw = probe(redis, 'md');
  await store.connect();
});
after(async () => {
  raw?.redis.disconnect();
  await store?.close();
  await redis?.destroy();
});

test('an existing receiver is disabled "being deleted" and intake sees the change; a missing one stays missing', async () => {
  const { id } = await store.receivers.create({
    url: 'https://example.com/hook',
    eventTypes: [],
    secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    description: '',
    headers: {},
    timeoutMs: 1000,
    enabled: true,
    ordering: 'unordered',
  });
  const version = Number(await raw.redis.get(raw.keys.receiversVersion));
  assert.equal(await store.receivers.markDeleting(id), true);
  assert.deepEqual(await raw.redis.hmget(raw.keys.receiver(id), 'enabled', 'disabledReason'), ['0', 'being deleted']);
  assert.equal(Number(await raw.redis.get(raw.keys.receiversVersion)), version + 1);

  assert.equal(await store.receivers.delete(id), true);
  assert.equal(await store.receivers.markDeleting(id), false, 'a concurrent delete already removed it');
  assert.equal(await raw.redis.exists(raw.keys.receiver(id)), 0, 'no ghost hash');
});
