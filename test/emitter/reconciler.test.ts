import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Running } from '../../src/start.js';
import { startInProcess } from '../support/in-process.js';
import type { ApiClient } from '../support/lockstep.js';
import { waitFor } from '../support/ports.js';
import { TestReceiver } from '../support/receiver.js';
import { RedisServer } from '../support/redis.js';

/**
 * Intake queues a drain job only for a receiver whose queue was empty; everything else rests on
 * "a receiver with work has a job". When that breaks anyway (here: the drain queue's keys wiped,
 * as a FLUSH of the wrong keys or a restore from an older backup would), the emitters'
 * reconciler must find the receiver and deliver its backlog, in order.
 */
let redis: RedisServer;
let receiver: TestReceiver;
let api: ApiClient;
const stops: Running[] = [];

before(async () => {
  redis = await RedisServer.start();
  receiver = await TestReceiver.start();
  const started = await startInProcess('api', { LOCKSTEP_REDIS_URL: redis.url, LOCKSTEP_ALLOW_PRIVATE_NETWORKS: 'true' });
  stops.push(started.running);
  api = started.api;
});
after(async () => {
  for (const running of stops.reverse()) await running.stop();
  await receiver?.close();
  await redis?.destroy();
});

test('a receiver left with work but no drain job is found by the reconciler and drained in order', async () => {
  await api.createReceiver({ url: receiver.url('orphan') });
  const ids = [(await api.post('orphan.event', { n: 0 })).id];
  const admin = redis.client();
  const drainKeys = await admin.keys('lockstep:drain:*');
  assert.ok(drainKeys.length > 0, 'the first message queued a drain job');
  await admin.del(...drainKeys);
  for (let n = 1; n < 4; n++) ids.push((await api.post('orphan.event', { n })).id);
  assert.deepEqual(await admin.keys('lockstep:drain:*'), [], 'later messages to a receiver with queued work queue no job');
  admin.disconnect();

  const emitter = await startInProcess('emitter', { LOCKSTEP_REDIS_URL: redis.url, LOCKSTEP_ALLOW_PRIVATE_NETWORKS: 'true', LOCKSTEP_RECONCILE_EVERY_MS: '300' });
  stops.push(emitter.running);
  await waitFor('the backlog delivered', () => receiver.for('orphan').length >= 4, 10_000);
  assert.deepEqual(receiver.for('orphan').map((request) => request.messageId), ids);
});
