import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Redis } from 'ioredis';
import { useLockstep } from '../support/in-process.js';
import { startLockService } from '../support/lock-services.js';
import { waitFor, type ApiClient } from '../support/lockstep.js';
import type { TestReceiver } from '../support/receiver.js';
import type { ErrorBody } from '../../src/shapes/common.js';

type Accepted = { id: string; duplicate?: boolean };

/** Issue 12 item 5: the hostile requests it lists, each answered exactly. */
describe('hostile input, exactly', () => {
  const context = useLockstep('all', { LOCKSTEP_ALLOW_PRIVATE_NETWORKS: 'true', LOCKSTEP_RETRY_SCHEDULE: '0.05' });
  let api: ApiClient;
  let receiver: TestReceiver;
  let admin: Redis;
  const receivers = async (): Promise<number> => (await api.request<{ data: unknown[] }>('GET', '/v1/receivers?limit=500')).body.data.length;

  before(() => {
    ({ api, receiver } = context());
    admin = context().redis.client();
  });

  test('header values with CR, LF, NUL or characters undici refuses: 422 naming the header, nothing stored', async () => {
    const { id } = await api.createReceiver({ url: receiver.url('headers'), eventTypes: ['headers.*'] });
    const before = await receivers();
    for (const value of ['a\r\nx-injected: 1', 'line\nbreak', 'nul\u0000byte', 'del\u007f', 'esc\u001b[0m', 'wide\u0100', 'sep\u2028', 'emoji 😀', 'a\rb']) {
      const created = await api.request<ErrorBody>('POST', '/v1/receivers', { url: receiver.url('headers'), headers: { 'x-custom': value } });
      assert.equal(created.status, 422, `${JSON.stringify(value)} → ${JSON.stringify(created.body)}`);
      assert.equal(created.body.field, 'headers.x-custom');
      const patched = await api.request<ErrorBody>('PATCH', `/v1/receivers/${id}`, { headers: { 'x-other': value } });
      assert.equal(patched.status, 422, JSON.stringify(value));
      assert.equal(patched.body.field, 'headers.x-other');
    }
    assert.equal(await receivers(), before);
    const fine = await api.request<{ headers: Record<string, string> }>('PATCH', `/v1/receivers/${id}`, { headers: { 'x-latin': 'café\tok' } });
    assert.equal(fine.status, 200, 'tab and latin-1 are fine');
    await api.post('headers.event', {}, { receiverIds: [id] });
    await waitFor('delivered with the latin-1 header', () => receiver.for('headers').some((request) => request.status === 200), 10_000);
  });

  test('a payload nested 5,000 levels deep is a 4xx naming payload, not a 500; nothing stored', async () => {
    const messages = async (): Promise<number> => (await admin.keys('lockstep:msg:*')).length;
    const stored = await messages();
    const deepObject = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
    const deepArray = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    for (const deep of [deepObject, deepArray]) {
      const single = await api.request<ErrorBody>('POST', '/v1/messages', `{"eventType":"deep.one","payload":${deep}}`);
      assert.ok(single.status >= 400 && single.status < 500, `single → ${single.status} ${JSON.stringify(single.body)}`);
      assert.equal(single.body.field, 'payload');
      const batch = await api.request<ErrorBody>(
        'POST',
        '/v1/messages/batch',
        `{"messages":[{"eventType":"deep.one","payload":1},{"eventType":"deep.two","payload":${deep}}]}`,
      );
      assert.ok(batch.status >= 400 && batch.status < 500, `batch → ${batch.status}`);
      assert.equal(batch.body.field, 'messages[1].payload');
    }
    const fine = await api.request('POST', '/v1/messages', `{"eventType":"deep.ok","payload":${'['.repeat(32)}${']'.repeat(32)}}`);
    assert.equal(fine.status, 202, 'ordinary nesting is fine');
    assert.equal(await messages(), stored + 1, 'only the ordinary message stored');
  });

  test('POST /v1/messages/batch honours Idempotency-Key for the whole batch', async () => {
    const { id } = await api.createReceiver({ url: receiver.url('batch'), eventTypes: ['batch.*'] });
    const body = {
      messages: [
        { eventType: 'batch.a', payload: { n: 1 } },
        { eventType: 'batch.b', payload: { n: 2 } },
      ],
    };
    const first = await api.request<{ data: Accepted[] }>('POST', '/v1/messages/batch', body, { 'idempotency-key': 'batch-key-1' });
    assert.equal(first.status, 202);
    const again = await api.request<{ data: Accepted[] }>('POST', '/v1/messages/batch', body, { 'idempotency-key': 'batch-key-1' });
    assert.equal(again.status, 202);
    assert.deepEqual(
      again.body.data.map((m) => m.id),
      first.body.data.map((m) => m.id),
      'the same ids',
    );
    assert.ok(again.body.data.every((m) => m.duplicate === true));
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    await waitFor('both delivered', () => receiver.for('batch').filter((r) => r.status === 200).length >= 2, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(receiver.for('batch').length, 2, 'the repeat created no delivery');
    const bad = await api.request<ErrorBody>('POST', '/v1/messages/batch', body, { 'idempotency-key': 'has spaces' });
    assert.equal(bad.status, 400);
    assert.match(bad.body.field ?? '', /idempotency-key/);
    void id;
  });

  test('a batch cut short by a receiver gone mid-way: 409 says exactly what was stored, drains what was, a retry stores the rest', async () => {
    const { id: live } = await api.createReceiver({ url: receiver.url('cut'), eventTypes: ['cut.*'] });
    // A receiver hash that exists (the up-front check passes) but is no receiver (the accept script
    // refuses it): the state a receiver deleted between the check and the write leaves.
    const gone = 'rcv_0000000000000000000000000g';
    await admin.hset(`lockstep:rcv:${gone}`, 'deleting', '1');
    const messages = [0, 1, 2, 3, 4].map((n) => ({ eventType: 'cut.event', payload: { n }, receiverIds: n === 2 ? [gone] : [live] }));
    const cut = await api.request<ErrorBody>('POST', '/v1/messages/batch', { messages }, { 'idempotency-key': 'cut-batch' });
    assert.equal(cut.status, 409, JSON.stringify(cut.body));
    assert.equal(cut.body.field, 'messages[2].receiverIds');
    assert.equal(cut.body.code, 'LOCKSTEP_BAD_FIELD');
    assert.match(cut.body.message, /messages\[2\]\.receiverIds names a receiver deleted just now \(rcv_0000000000000000000000000g\)/);
    assert.match(cut.body.message, /stored: messages 0, 1, 3, 4 \(4 of 5\)/);
    assert.match(cut.body.message, /not stored: messages 2/);
    assert.match(cut.body.message, /same Idempotency-Key/);
    await waitFor('the four stored messages delivered', () => new Set(receiver.for('cut').map((r) => r.messageId)).size === 4, 10_000);
    await admin.del(`lockstep:rcv:${gone}`);
    const retry = await api.request<{ data: Accepted[] } & ErrorBody>(
      'POST',
      '/v1/messages/batch',
      { messages: messages.map((m) => ({ ...m, receiverIds: [live] })) },
      { 'idempotency-key': 'cut-batch' },
    );
    assert.equal(retry.status, 202, JSON.stringify(retry.body));
    assert.deepEqual(
      retry.body.data.map((m) => m.duplicate === true),
      [true, true, false, true, true],
      'only the missing one is new',
    );
    await waitFor('all five delivered once each', () => new Set(receiver.for('cut').map((r) => r.messageId)).size === 5, 10_000);
    assert.equal(receiver.for('cut').length, 5);
  });

  test('a Redis cut: 503 that says the request may or may not have been stored and to retry with the same Idempotency-Key', async () => {
    await context().redis.stop();
    const posted = await api.request<ErrorBody>('POST', '/v1/messages', { eventType: 'cut.event', payload: {} }, { 'idempotency-key': 'k-1' });
    assert.equal(posted.status, 503);
    assert.equal(posted.headers.get('retry-after'), '1');
    assert.equal(posted.body.code, 'LOCKSTEP_REDIS_UNAVAILABLE');
    assert.match(posted.body.message, /may or may not have been stored/);
    assert.match(posted.body.message, /retry with the same Idempotency-Key/);
    const read = await api.request<ErrorBody>('GET', '/v1/receivers');
    assert.equal(read.status, 503);
    assert.equal(read.body.code, 'LOCKSTEP_REDIS_UNAVAILABLE');
    assert.match(read.body.message, /Redis is unavailable/);
    await context().redis.start();
    admin.disconnect();
  });

  test('a lock service cut: 503 LOCKSTEP_LOCK_BACKEND naming the service, with Retry-After', async () => {
    const consul = await startLockService('consul-double');
    const { api: viaConsul } = await context().startMore('api', { LOCKSTEP_LOCK_BACKEND: 'consul', LOCKSTEP_CONSUL_ADDR: consul.spec('').address });
    assert.equal((await viaConsul.request('GET', '/v1/locks')).status, 200);
    await consul.destroy();
    const cut = await viaConsul.request<ErrorBody>('GET', '/v1/locks');
    assert.deepEqual([cut.status, cut.body.code, cut.headers.get('retry-after')], [503, 'LOCKSTEP_LOCK_BACKEND', '1'], JSON.stringify(cut.body));
    assert.match(cut.body.message, /^consul lock service at http:\/\/127\.0\.0\.1:\d+: /);
  });
});
