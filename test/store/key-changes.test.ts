import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '../support/ports.js';
import { useStore } from '../support/store.js';

/** The notices of config changes (notices.ts) on a real Redis: what a window claimed before a change or a reconnect learns. */
const db = useStore('kc');

test('a rotation is heard for its receiver only; a subscriber that reconnects counts every earlier stamp as changed', async () => {
  const [rotated, other] = [await db.newReceiver(), await db.newReceiver()];
  const changes = db.store.watchKeyChanges();
  await waitFor('the subscriber to subscribe', () => changes.listening, 5000);
  const before = changes.stamp();
  assert.ok(!changes.since(rotated, before) && !changes.since(other, before));

  await db.store.receiverKeys.rotate(rotated, { secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', signatureScheme: 'hmac-sha256' }, 0);
  await waitFor('the notice', () => changes.since(rotated, before), 5000);
  assert.ok(!changes.since(other, before), 'another receiver’s windows go on');
  const afterNotice = changes.stamp();
  assert.ok(!changes.since(rotated, afterNotice), 'a window claimed after the notice is current');

  // the subscriber's connection is cut: notices may be lost until it is subscribed again
  await db.raw.redis.client('KILL', 'TYPE', 'pubsub');
  await waitFor('the subscriber to be back', () => changes.listening && changes.stamp() > afterNotice, 10_000);
  assert.ok(changes.since(other, afterNotice), 'every window claimed before the reconnect is stale, once');
  assert.ok(!changes.since(other, changes.stamp()));
});

test('a config change is answered once every emitter subscribed has taken its notice in, and counts one that never confirms', async () => {
  const receiverId = await db.newReceiver();
  const changes = db.store.watchKeyChanges();
  await waitFor('the subscriber to subscribe', () => changes.listening, 5000);
  const key = { secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', signatureScheme: 'hmac-sha256' } as const;
  for (let round = 0; round < 20; round++) {
    const before = changes.stamp();
    const rotation = await db.store.receiverKeys.rotate(receiverId, key, 0);
    // no waiting: the answer itself comes after the emitter marked the receiver's windows stale
    assert.ok(changes.since(receiverId, before), `round ${round}: the notice was taken in before the answer`);
    assert.deepEqual(rotation, { kind: 'rotated', previousSecretUntil: null, unconfirmed: 0 });
    const beforePatch = changes.stamp();
    const patched = await db.store.receivers.update(receiverId, { description: `round ${round}` });
    assert.equal(patched?.unconfirmed, 0);
    assert.ok(changes.since(receiverId, beforePatch), `round ${round}: a PATCH's notice too`);
  }

  // a subscriber that hears notices but never confirms (an emitter paused with kill -STOP looks the same)
  const silent = db.raw.redis.duplicate();
  await silent.subscribe(db.raw.keys.keysChanged);
  try {
    const startedAt = Date.now();
    const rotation = await db.store.receiverKeys.rotate(receiverId, key, 0);
    assert.deepEqual(rotation, { kind: 'rotated', previousSecretUntil: null, unconfirmed: 1 });
    assert.ok(Date.now() - startedAt >= 900, 'it was waited for, up to its bound');
  } finally {
    silent.disconnect();
  }
});
