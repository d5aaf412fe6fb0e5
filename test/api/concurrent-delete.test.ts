import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RedisReceiverLocks } from '../../src/locks/redis.js';
import type { Running } from '../../src/start.js';
import { startInProcess } from '../support/in-process.js';
import type { ApiClient } from '../support/lockstep.js';
import { RedisServer } from '../support/redis.js';

const PREFIX = 'deletes';

/**
 * Issue 10 item 5: concurrent `DELETE /v1/receivers/:id` in one API process. Each delete waits for
 * the receiver's lock (an emitter is mid-request, here a lock held by the test); when it frees,
 * the deletes race for it. One of them deletes; every other must answer 204 or 404, never 500.
 */
describe('concurrent deletes of one receiver in one API process', () => {
  let redis: RedisServer;
  let running: Running;
  let api: ApiClient;
  let emitterLocks: RedisReceiverLocks;
  before(async () => {
    redis = await RedisServer.start();
    ({ running, api } = await startInProcess('api', { LOCKSTEP_REDIS_URL: redis.url, LOCKSTEP_REDIS_PREFIX: PREFIX, LOCKSTEP_LOCK_TTL_MS: '500' }));
    emitterLocks = new RedisReceiverLocks(redis.url, { emitterId: 'emitter', ttlMs: 500, prefix: PREFIX });
    await emitterLocks.start();
  });
  after(async () => {
    await emitterLocks?.close();
    await running?.stop();
    await redis?.destroy();
  });

  test('one answers 204, the others 404 (none 500); the receiver is gone', async () => {
    const { id } = await api.createReceiver({ url: 'https://example.com/hook', timeoutMs: 1000 });
    // a long queue makes the winner hold the lock for a while (its delete cancels every delivery),
    // long enough for the waiting deletes' polls to come round while it does
    const messages = Array.from({ length: 1000 }, (_, i) => ({ eventType: 'test.event', payload: { i }, receiverIds: [id] }));
    for (let batch = 0; batch < 40; batch++) assert.equal((await api.request('POST', '/v1/messages/batch', { messages })).status, 202);

    const emitterHolds = await emitterLocks.acquire(id, { waitMs: 0 });
    assert.ok(emitterHolds, 'the test holds the receiver, as an emitter mid-request would');
    const deletes = Array.from({ length: 10 }, () => api.request<{ message?: string }>('DELETE', `/v1/receivers/${id}`));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await emitterLocks.release(emitterHolds);

    const answers = await Promise.all(deletes);
    const statuses = answers.map((answer) => answer.status);
    assert.deepEqual(
      answers.filter((answer) => answer.status >= 500).map((answer) => answer.body.message),
      [],
      `statuses ${statuses.join()}`,
    );
    assert.ok(
      statuses.every((status) => status === 204 || status === 404),
      `statuses ${statuses.join()}`,
    );
    // one deleted it; each of the others ran after it, as a delete sent afterwards would, and found it gone
    assert.deepEqual(statuses.filter((status) => status === 204).length, 1, `statuses ${statuses.join()}`);
    assert.equal((await api.request('GET', `/v1/receivers/${id}`)).status, 404);
    const client = redis.client();
    try {
      assert.equal(await client.exists(`${PREFIX}:rcv:${id}`), 0, 'no half-deleted receiver hash is left behind');
    } finally {
      client.disconnect();
    }
  });
});
