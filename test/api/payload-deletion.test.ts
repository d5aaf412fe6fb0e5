import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { ErrorBody } from '../../src/shapes/common.js';
import { quickRetries, useLockstep } from '../support/in-process.js';
import type { ApiClient, MessageView } from '../support/lockstep.js';
import { waitFor } from '../support/ports.js';
import type { TestReceiver } from '../support/receiver.js';
import { onCluster } from '../support/test-redis.js';

const SECRET = 'hunter2-sent-by-mistake';

describe('DELETE /v1/messages/:id/payload (API + emitter in one process)', () => {
  const context = useLockstep('all', quickRetries(3));
  let api: ApiClient;
  let receiver: TestReceiver;
  before(() => ({ api, receiver } = context()));

  const statuses = async (id: string): Promise<Record<string, string>> =>
    Object.fromEntries((await api.message(id)).deliveries.map((d) => [d.receiverId, d.status]));
  const queueDepth = async (id: string): Promise<number> =>
    (await api.request<{ health: { queueDepth: number } }>('GET', `/v1/receivers/${id}`)).body.health.queueDepth;

  test('cancels what is unfinished, keeps what happened, and nothing can send it again', async () => {
    receiver.set('pd-dead', { status: 500 });
    receiver.set('pd-later', { status: 500 });
    const create = (name: string, extra: Record<string, unknown> = {}) => api.createReceiver({ url: receiver.url(name), eventTypes: ['pd.*'], ...extra });
    const ok = await create('pd-ok');
    const dead = await create('pd-dead');
    const later = await create('pd-later', { retrySchedule: [600] });
    // one request per 100 s: after the first, a delivery waits in the queue, claimed by no one
    const paced = await create('pd-paced', { rateLimitPerSecond: 0.01 });
    await api.post('other.event', {}, { receiverIds: [paced.id] });
    await waitFor('the paced receiver to take its one request', () => receiver.for('pd-paced').length === 1, 15_000);

    const { id } = await api.post('pd.created', { card: SECRET });
    await waitFor(
      'delivered, dead, retrying and pending',
      async () =>
        JSON.stringify(await statuses(id)) === JSON.stringify({ [ok.id]: 'delivered', [dead.id]: 'dead', [later.id]: 'retrying', [paced.id]: 'pending' }),
      15_000,
    );
    const before = await api.message(id);

    const deleted = await api.request('DELETE', `/v1/messages/${id}/payload`);
    assert.equal(deleted.status, 204);
    const after = await api.message(id);
    assert.equal(after.payload, null);
    assert.ok(after.payloadDeletedAt && Date.parse(after.payloadDeletedAt) <= Date.now());
    assert.deepEqual(await statuses(id), { [ok.id]: 'delivered', [dead.id]: 'dead', [later.id]: 'cancelled', [paced.id]: 'cancelled' });
    assert.deepEqual(
      after.deliveries.map((d) => d.attempts),
      before.deliveries.map((d) => d.attempts),
      'every attempt made stays in the history',
    );
    assert.deepEqual([await queueDepth(later.id), await queueDepth(paced.id)], [0, 0], 'no queue holds it any more');
    const listed = await api.request<{ data: { id: string; payloadDeletedAt?: string }[] }>('GET', '/v1/messages?eventType=pd.created');
    assert.deepEqual(
      listed.body.data.map((m) => [m.id, m.payloadDeletedAt]),
      [[id, after.payloadDeletedAt]],
      'the list says so too',
    );

    // a dead letter with nothing to send is no dead letter: listed nowhere, replayed never
    const letters = await api.request<{ data: { messageId: string }[] }>('GET', `/v1/receivers/${dead.id}/dead-letters`);
    assert.deepEqual(letters.body.data, []);
    const replay = await api.request<{ count: number }>('POST', `/v1/receivers/${dead.id}/replay`, { since: new Date(0).toISOString() });
    assert.deepEqual([replay.status, replay.body.count], [202, 0]);
    const resend = await api.request<ErrorBody>('POST', `/v1/messages/${id}/resend`, {});
    assert.equal(resend.status, 409);
    assert.equal(resend.body.code, 'LOCKSTEP_CONFLICT');
    assert.match(resend.body.message, /no payload any more.*publish a new message/);

    const again = await api.request('DELETE', `/v1/messages/${id}/payload`);
    assert.equal(again.status, 204, 'deleting again is no error');
    assert.equal((await api.message(id)).payloadDeletedAt, after.payloadDeletedAt, 'the first deletion is the one recorded');
    const sent = receiver.for('pd-later').length + receiver.for('pd-paced').length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(receiver.for('pd-later').length + receiver.for('pd-paced').length, sent, 'nothing more was sent');

    if (!onCluster) {
      // every copy of it (one per shard group it reached, in the sharded lane) has lost the payload
      const redis = context().redis.client();
      try {
        const keys = await redis.keys(`*msg:${id}`);
        assert.ok(keys.length >= 1);
        for (const key of keys) assert.ok(!Object.values(await redis.hgetall(key)).some((value) => value.includes(SECRET)), key);
      } finally {
        redis.disconnect();
      }
    }
  });

  test('a request already under way goes out once; its attempt is kept and the delivery stays cancelled', async () => {
    receiver.set('pd-slow', { delayMs: 800 });
    const slow = await api.createReceiver({ url: receiver.url('pd-slow'), eventTypes: ['pd-slow.*'] });
    const { id } = await api.post('pd-slow.created', { card: SECRET });
    await waitFor('the request to start', () => receiver.inFlightTo('pd-slow') === 1, 15_000);
    assert.equal((await api.request('DELETE', `/v1/messages/${id}/payload`)).status, 204);
    let view: MessageView | undefined;
    await waitFor('its attempt to be kept', async () => ((view = await api.message(id)).deliveries[0]?.attempts.length ?? 0) === 1, 15_000);
    assert.equal(view?.deliveries[0]?.status, 'cancelled');
    assert.equal(view?.deliveries[0]?.attempts[0]?.statusCode, 200);
    assert.equal(receiver.for('pd-slow').length, 1);
    assert.equal(await queueDepth(slow.id), 0);
  });

  test("a strict receiver's queue held by the retry of a deleted payload goes on at once", async () => {
    receiver.set('pd-strict', { status: 500 });
    // strict: while a retry waits (10 minutes here), nothing after it is sent
    const strict = await api.createReceiver({ url: receiver.url('pd-strict'), eventTypes: ['pd-strict.*'], ordering: 'strict', retrySchedule: [600] });
    const blocker = await api.post('pd-strict.created', { card: SECRET });
    await waitFor('its first attempt to fail', async () => (await api.message(blocker.id)).deliveries[0]?.status === 'retrying', 15_000);
    receiver.set('pd-strict', { status: 200 });
    const next = await api.post('pd-strict.created', { n: 2 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await api.message(next.id)).deliveries[0]?.status, 'pending', 'held behind the retry');
    assert.equal((await api.request('DELETE', `/v1/messages/${blocker.id}/payload`)).status, 204);
    await waitFor('the next message to be delivered', async () => (await api.message(next.id)).deliveries[0]?.status === 'delivered', 5_000);
    assert.deepEqual(
      receiver.for('pd-strict').map((r) => [r.messageId, r.status]),
      [
        [blocker.id, 500],
        [next.id, 200],
      ],
    );
    assert.equal(await queueDepth(strict.id), 0);
  });

  test('deletions in the middle of a drain: strict and with lanes, every other message is delivered and nothing is stuck', async () => {
    // slow enough that both queues still hold most of their messages when the deletions come
    receiver.set('pd-busy-strict', { delayMs: 20 });
    receiver.set('pd-busy-lanes', { delayMs: 40 });
    const strict = await api.createReceiver({ url: receiver.url('pd-busy-strict'), eventTypes: ['pd-busy.*'], ordering: 'strict' });
    const lanes = await api.createReceiver({ url: receiver.url('pd-busy-lanes'), eventTypes: ['pd-busy.*'], maxInFlight: 4 });
    const ids: string[] = [];
    for (let i = 0; i < 150; i++) ids.push((await api.post('pd-busy.event', { i })).id);
    // every third one, while the two queues drain (claimed windows, requests in flight, some not claimed yet)
    const deleted = ids.filter((_, i) => i % 3 === 1);
    for (const id of deleted) assert.equal((await api.request('DELETE', `/v1/messages/${id}/payload`)).status, 204);
    receiver.set('pd-busy-strict', { delayMs: 2 });
    receiver.set('pd-busy-lanes', { delayMs: 2 });
    const kept = ids.filter((id) => !deleted.includes(id));
    await receiver.waitForDelivered(kept, 30_000, 'pd-busy-strict');
    await receiver.waitForDelivered(kept, 30_000, 'pd-busy-lanes');
    await waitFor('both queues empty', async () => (await queueDepth(strict.id)) === 0 && (await queueDepth(lanes.id)) === 0, 15_000);
    for (const id of deleted) {
      const { deliveries } = await api.message(id);
      for (const delivery of deliveries) assert.ok(['delivered', 'cancelled'].includes(delivery.status), `${id}: ${delivery.status}`);
    }
    for (const name of ['pd-busy-strict', 'pd-busy-lanes']) {
      const times = new Map<string, number>();
      for (const { messageId } of receiver.for(name)) times.set(messageId, (times.get(messageId) ?? 0) + 1);
      assert.ok(
        deleted.every((id) => (times.get(id) ?? 0) <= 1),
        `${name}: a deleted message went out at most once`,
      );
      assert.ok(
        [...times.values()].every((n) => n === 1),
        `${name}: no message went twice`,
      );
    }
    const strictOrder = receiver.for('pd-busy-strict').map((r) => ids.indexOf(r.messageId));
    assert.deepEqual(
      strictOrder,
      [...strictOrder].sort((a, b) => a - b),
      'strict: still in acceptance order',
    );
  });

  test('an unknown message is a 404, a malformed id a 400; neither changes anything', async () => {
    const unknown = await api.request<ErrorBody>('DELETE', '/v1/messages/msg_00000000000000000000000000/payload');
    assert.deepEqual([unknown.status, unknown.body.code], [404, 'LOCKSTEP_NOT_FOUND']);
    const malformed = await api.request<ErrorBody>('DELETE', '/v1/messages/nope/payload');
    assert.equal(malformed.status, 400);
    assert.match(malformed.body.message, /id/);
  });
});
