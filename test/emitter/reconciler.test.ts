import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useLockstep } from '../support/in-process.js';
import { waitFor } from '../support/ports.js';

/**
 * Intake queues a drain job only for a receiver whose queue was empty; everything else rests on
 * "a receiver with work has a job". When that breaks anyway (here: the drain queue's keys wiped,
 * as a FLUSH of the wrong keys or a restore from an older backup would), the emitters'
 * reconciler must find the receiver and deliver its backlog, in order.
 */
const context = useLockstep('api', { LOCKSTEP_ALLOW_PRIVATE_NETWORKS: 'true' });

test('a receiver left with work but no drain job is found by the reconciler and drained in order', async () => {
  const { api, receiver, redis } = context();
  await api.createReceiver({ url: receiver.url('orphan') });
  const ids = [(await api.post('orphan.event', { n: 0 })).id];
  const admin = redis.client();
  const drainKeys = await admin.keys('lockstep:drain:*');
  assert.ok(drainKeys.length > 0, 'the first message queued a drain job');
  await admin.del(...drainKeys);
  for (let n = 1; n < 4; n++) ids.push((await api.post('orphan.event', { n })).id);
  assert.deepEqual(await admin.keys('lockstep:drain:*'), [], 'later messages to a receiver with queued work queue no job');
  admin.disconnect();

  await context().startMore('emitter', { LOCKSTEP_ALLOW_PRIVATE_NETWORKS: 'true', LOCKSTEP_RECONCILE_EVERY_MS: '300' });
  await waitFor('the backlog delivered', () => receiver.for('orphan').length >= 4, 10_000);
  assert.deepEqual(
    receiver.for('orphan').map((request) => request.messageId),
    ids,
  );
});
