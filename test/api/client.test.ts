import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLockstepClient, type LockstepClient } from '../../src/client/index.js';
import { LockstepProcess, TEST_TOKEN, waitFor } from '../support/lockstep.js';
import { TestReceiver } from '../support/receiver.js';
import { RedisServer } from '../support/redis.js';

// The typed client (`lockstep/client`) against a real Lockstep process: every receiver and intake
// route through it, the answers and the documented errors as the generated types describe them.
describe('lockstep/client against a real Lockstep', () => {
  let redis: RedisServer;
  let receiver: TestReceiver;
  let lockstep: LockstepProcess;
  let client: LockstepClient;
  before(async () => {
    redis = await RedisServer.start();
    receiver = await TestReceiver.start();
    lockstep = await LockstepProcess.start('all', { LOCKSTEP_REDIS_URL: redis.url, LOCKSTEP_RETRY_SCHEDULE: '0.05' });
    client = createLockstepClient({ baseUrl: `${lockstep.url}/`, token: TEST_TOKEN });
  });
  after(async () => {
    await lockstep?.stop();
    await receiver?.close();
    await redis?.destroy();
  });

  test('receiver routes: create, get, list, patch, secret, delete', async () => {
    const created = await client.POST('/v1/receivers', { body: { url: receiver.url('client-a'), eventTypes: ['invoice.*'] } });
    assert.equal(created.response.status, 201);
    const id = created.data?.id ?? '';
    assert.match(id, /^rcv_/);
    assert.match(created.data?.secret ?? '', /^whsec_/);

    const read = await client.GET('/v1/receivers/{id}', { params: { path: { id } } });
    assert.deepEqual(read.data?.eventTypes, ['invoice.*']);
    const listed = await client.GET('/v1/receivers', { params: { query: { limit: '500' } } });
    assert.ok(listed.data?.data?.some((item) => item.id === id));
    const patched = await client.PATCH('/v1/receivers/{id}', { params: { path: { id } }, body: { description: 'typed', maxInFlight: 2 } });
    assert.equal(patched.data?.description, 'typed');
    assert.equal(patched.data?.maxInFlight, 2);
    const secret = await client.GET('/v1/receivers/{id}/secret', { params: { path: { id } } });
    assert.equal(secret.data?.secret, created.data?.secret);

    const deleted = await client.DELETE('/v1/receivers/{id}', { params: { path: { id } } });
    assert.equal(deleted.response.status, 204);
    const gone = await client.GET('/v1/receivers/{id}', { params: { path: { id } } });
    assert.equal(gone.response.status, 404);
    assert.equal(gone.error?.message, `receiver ${id} not found`);
  });

  test('intake: publish with an Idempotency-Key, batch, read, resend, delete the payload; the receiver gets each', async () => {
    const { data: target } = await client.POST('/v1/receivers', { body: { url: receiver.url('client-b'), eventTypes: ['order.*'] } });
    const receiverId = target?.id ?? '';
    const publish = () =>
      client.POST('/v1/messages', {
        params: { header: { 'idempotency-key': 'order-1-created' } },
        body: { eventType: 'order.created', payload: { order: 1 } },
      });
    const first = await publish();
    assert.equal(first.response.status, 202);
    assert.deepEqual(first.data?.receiverIds, [receiverId]);
    const again = await publish();
    assert.equal(again.data?.id, first.data?.id, 'the same key answers with the first message');
    assert.equal(again.response.headers.get('idempotent-replayed'), 'true');

    const batch = await client.POST('/v1/messages/batch', {
      body: { messages: [1, 2].map((n) => ({ eventType: 'order.shipped', payload: { order: n } })) },
    });
    assert.equal(batch.data?.data?.length, 2);

    const messageId = first.data?.id ?? '';
    await waitFor('the receiver to get the three messages', () => receiver.for('client-b').length >= 3);
    await waitFor('the delivery to be recorded', async () => {
      const { data } = await client.GET('/v1/messages/{id}', { params: { path: { id: messageId } } });
      return data?.deliveries?.[0]?.status === 'delivered';
    });
    const resent = await client.POST('/v1/messages/{id}/resend', { params: { path: { id: messageId } }, body: {} });
    assert.equal(resent.response.status, 202);
    await waitFor('the resent message', () => receiver.for('client-b').filter((request) => request.messageId === messageId).length === 2);

    const erased = await client.DELETE('/v1/messages/{id}/payload', { params: { path: { id: messageId } } });
    assert.equal(erased.response.status, 204);
    const { data: after } = await client.GET('/v1/messages/{id}', { params: { path: { id: messageId } } });
    assert.deepEqual([after?.payload, typeof after?.payloadDeletedAt], [null, 'string']);
    const refused = await client.POST('/v1/messages/{id}/resend', { params: { path: { id: messageId } }, body: {} });
    assert.deepEqual([refused.response.status, refused.error?.code], [409, 'LOCKSTEP_CONFLICT']);
  });

  test('dead letters and replay through the client', async () => {
    receiver.set('client-c', { status: 500 });
    const { data: failing } = await client.POST('/v1/receivers', { body: { url: receiver.url('client-c'), eventTypes: ['fail.*'] } });
    const id = failing?.id ?? '';
    const { data: message } = await client.POST('/v1/messages', { body: { eventType: 'fail.now', payload: {} } });
    let letters: Awaited<ReturnType<typeof deadLetters>> | undefined;
    const deadLetters = () => client.GET('/v1/receivers/{id}/dead-letters', { params: { path: { id } } });
    await waitFor('a dead letter', async () => ((letters = await deadLetters()).data?.data?.length ?? 0) > 0);
    assert.equal(letters?.data?.data?.[0]?.messageId, message?.id);
    receiver.set('client-c', { status: 200 });
    const replayed = await client.POST('/v1/receivers/{id}/replay', { params: { path: { id } }, body: {} });
    assert.equal(replayed.data?.count, 1);
    await waitFor('the replayed delivery', () => receiver.for('client-c').some((request) => request.status === 200));
  });

  test('errors are the documented bodies: a 400 naming the field, a 401 without the token', async () => {
    // a string, as the types want, that the event-type pattern refuses
    const bad = await client.POST('/v1/messages', { body: { eventType: 'not valid!', payload: 1 } });
    assert.equal(bad.response.status, 400);
    assert.equal(bad.error?.field, 'eventType');
    const stranger = createLockstepClient({ baseUrl: lockstep.url ?? '', token: 'wrong' });
    const refused = await stranger.GET('/v1/receivers', {});
    assert.equal(refused.response.status, 401);
    assert.match(refused.error?.message ?? '', /bearer token/);
  });
});
