import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useStore } from '../support/store.js';

/** mark-deleting.lua on a real Redis: disables an existing receiver at once, never makes a ghost of a missing one. */
const db = useStore('md');

test('an existing receiver is disabled "being deleted" and intake sees the change; a missing one stays missing', async () => {
  const id = await db.newReceiver();
  const version = Number(await db.raw.redis.get(db.raw.keys.receiversVersion));
  assert.equal(await db.store.receivers.markDeleting(id), true);
  assert.deepEqual(await db.raw.redis.hmget(db.raw.keys.receiver(id), 'enabled', 'disabledReason'), ['0', 'being deleted']);
  assert.equal(Number(await db.raw.redis.get(db.raw.keys.receiversVersion)), version + 1);

  assert.equal(await db.store.receivers.delete(id), true);
  assert.equal(await db.store.receivers.markDeleting(id), false, 'a concurrent delete already removed it');
  assert.equal(await db.raw.redis.exists(db.raw.keys.receiver(id)), 0, 'no ghost hash');
});
