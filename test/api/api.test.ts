import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { ErrorBody } from '../../src/shapes/common.js';
import type { CreatedReceiver, PublicReceiver as Receiver } from '../../src/shapes/receivers.js';
import { useLockstep } from '../support/in-process.js';
import { ApiClient } from '../support/lockstep.js';

describe('management and intake API', () => {
  const context = useLockstep('api', { LOCKSTEP_ALLOW_PRIVATE_NETWORKS: 'false', LOCKSTEP_BODY_LIMIT_BYTES: '65536' });
  let api: ApiClient;
  before(() => ({ api } = context()));

  test('health and readiness need no token', async () => {
    assert.equal((await fetch(`${api.url}/healthz`)).status, 200);
    const ready = await fetch(`${api.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(((await ready.json()) as { lockBackend: unknown }).lockBackend, { name: 'redis', ok: true });
  });

  test('every /v1 route refuses a missing or wrong token with 401', async () => {
    for (const [method, path] of [
      ['GET', '/v1/receivers'],
      ['POST', '/v1/messages'],
      ['GET', '/v1/locks'],
      ['GET', '/v1/messages/msg_0000000000000000000000000a'],
    ]) {
      for (const token of ['', 'wrong']) {
        const response = await new ApiClient(api.url, token).request<ErrorBody>(method as string, path as string);
        assert.equal(response.status, 401, `${method} ${path} with token "${token}"`);
        assert.equal(response.body.code, 'LOCKSTEP_UNAUTHORIZED');
        assert.match(response.body.message, /bearer token/);
        assert.equal(response.headers.get('www-authenticate'), 'Bearer realm="lockstep"', 'RFC 6750: the scheme that would do');
      }
    }
  });

  test('registers a receiver with defaults: generated whsec_ secret, all events, enabled', async () => {
    const { status, body } = await api.request<CreatedReceiver>('POST', '/v1/receivers', { url: 'https://example.com/hook' });
    assert.equal(status, 201);
    assert.match(body.id, /^rcv_[0-9a-z]{26}$/);
    assert.match(body.secret, /^whsec_[A-Za-z0-9+/]{32}$/);
    assert.deepEqual(body.eventTypes, []);
    assert.equal(body.enabled, true);
    assert.equal(body.timeoutMs, 15000);
    assert.ok(body.createdAt);
    assert.deepEqual((await api.request<Receiver>('GET', `/v1/receivers/${body.id}`)).body.url, 'https://example.com/hook');
  });

  test('lists receivers oldest first with a cursor', async () => {
    const created = [];
    for (let i = 0; i < 5; i++) created.push(await api.createReceiver({ url: `https://example.com/page/${i}` }));
    const all: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { data: Receiver[]; next: string | null } } = await api.request(
        'GET',
        `/v1/receivers?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      assert.equal(page.status, 200);
      assert.ok(page.body.data.length <= 2);
      all.push(...page.body.data.map((r) => r.id));
      cursor = page.body.next;
    } while (cursor);
    const positions = created.map((r) => all.indexOf(r.id));
    assert.deepEqual(
      positions,
      [...positions].sort((a, b) => a - b),
    );
    for (const [query, field] of [
      ['limit=0', 'querystring.limit'],
      ['limit=abc', 'querystring.limit'],
      ['cursor=bogus', 'querystring.cursor'],
      ['other=1', 'querystring.other'],
    ]) {
      const response = await api.request<ErrorBody>('GET', `/v1/receivers?${query}`);
      assert.equal(response.status, 400, query);
      assert.equal(response.body.field, field);
      assert.equal(response.body.code, 'LOCKSTEP_BAD_FIELD');
    }
  });

  test('get, patch, disable, delete', async () => {
    const receiver = await api.createReceiver({ url: 'https://example.com/p', eventTypes: ['a.*'] });
    assert.equal((await api.request<ErrorBody>('GET', '/v1/receivers/nope')).body.field, 'params.id');
    const missing = await api.request<ErrorBody>('GET', '/v1/receivers/rcv_0000000000000000000000000a');
    assert.deepEqual([missing.status, missing.body.code], [404, 'LOCKSTEP_NOT_FOUND']);
    const patched = await api.request<Receiver>('PATCH', `/v1/receivers/${receiver.id}`, { description: 'new', eventTypes: ['b.*'] });
    assert.equal(patched.status, 200);
    assert.deepEqual(patched.body.eventTypes, ['b.*']);
    assert.equal(patched.body.url, 'https://example.com/p');
    assert.equal((await api.request<ErrorBody>('PATCH', `/v1/receivers/${receiver.id}`, {})).status, 400);
    assert.equal((await api.request<ErrorBody>('PATCH', `/v1/receivers/${receiver.id}`, { id: 'rcv_x' })).body.field, 'id');
    assert.equal((await api.request<ErrorBody>('PATCH', `/v1/receivers/${receiver.id}`, { url: 'http://10.0.0.1/' })).status, 422);
    const disabled = await api.request<Receiver>('PATCH', `/v1/receivers/${receiver.id}`, { enabled: false });
    assert.equal(disabled.body.enabled, false);
    assert.equal(disabled.body.disabledReason, 'disabled by operator');
    const enabled = await api.request<Receiver>('PATCH', `/v1/receivers/${receiver.id}`, { enabled: true });
    assert.equal(enabled.body.disabledReason, undefined);
    assert.equal((await api.request('PATCH', '/v1/receivers/rcv_0000000000000000000000000a', { description: 'x' })).status, 404);
    assert.equal((await api.request('DELETE', `/v1/receivers/${receiver.id}`)).status, 204);
    assert.equal((await api.request('GET', `/v1/receivers/${receiver.id}`)).status, 404);
    assert.equal((await api.request('DELETE', `/v1/receivers/${receiver.id}`)).status, 404);
  });

  test('intake fans out by event type, stores deliveries, and validates', async () => {
    const invoices = await api.createReceiver({ url: 'https://example.com/inv', eventTypes: ['invoice.*'] });
    const everything = await api.createReceiver({ url: 'https://example.com/all' });
    const users = await api.createReceiver({ url: 'https://example.com/users', eventTypes: ['user.created'] });
    const off = await api.createReceiver({ url: 'https://example.com/off', enabled: false });
    const accepted = await api.post('invoice.paid.late', { amount: 1 });
    assert.match(accepted.id, /^msg_/);
    assert.ok(accepted.receiverIds.includes(invoices.id));
    assert.ok(accepted.receiverIds.includes(everything.id));
    assert.ok(!accepted.receiverIds.includes(users.id));
    assert.ok(!accepted.receiverIds.includes(off.id));

    const explicit = await api.post('user.created', { n: 1 }, { receiverIds: [users.id] });
    assert.deepEqual(explicit.receiverIds, [users.id]);
    const message = await api.message(explicit.id);
    assert.deepEqual(message.payload, { n: 1 });
    assert.deepEqual(
      message.deliveries.map((d) => [d.receiverId, d.status, d.attempts.length]),
      [[users.id, 'pending', 0]],
    );

    const depth = async (): Promise<number> => (await api.request<Receiver>('GET', `/v1/receivers/${users.id}`)).body.health.queueDepth;
    const before = await depth();
    const bad: [unknown, number, string][] = [
      [{ payload: {} }, 400, 'eventType'],
      [{ eventType: 'user.created' }, 400, 'payload'],
      [{ eventType: 'has space', payload: {} }, 400, 'eventType'],
      [{ eventType: 'user.created', payload: {}, receiverIds: [users.id, 'rcv_0000000000000000000000000a'] }, 422, 'receiverIds[1]'],
      [{ eventType: 'user.created', payload: {}, receiverIds: ['nope'] }, 400, 'receiverIds[0]'],
      [{ eventType: 'user.created', payload: {}, receiverIds: [] }, 400, 'receiverIds'],
      [{ eventType: 'user.created', payload: {}, extra: true }, 400, 'extra'],
    ];
    for (const [body, status, field] of bad) {
      const response = await api.request<ErrorBody>('POST', '/v1/messages', body);
      assert.equal(response.status, status, JSON.stringify(response.body));
      assert.equal(response.body.field, field);
      assert.equal(response.body.code, 'LOCKSTEP_BAD_FIELD');
    }
    assert.equal(await depth(), before);
    assert.equal((await api.request('GET', '/v1/messages/msg_0000000000000000000000000a')).status, 404);
    assert.equal((await api.request<ErrorBody>('GET', '/v1/messages/abc')).body.field, 'params.id');
  });

  test('idempotency: repeats and 50 concurrent posts with one key create one message', async () => {
    const receiver = await api.createReceiver({ url: 'https://example.com/idem', eventTypes: ['idem.test'] });
    const first = await api.request<{ id: string }>('POST', '/v1/messages', { eventType: 'idem.test', payload: {} }, { 'idempotency-key': 'k-1' });
    const again = await api.request<{ id: string }>('POST', '/v1/messages', { eventType: 'idem.test', payload: { other: 1 } }, { 'idempotency-key': 'k-1' });
    assert.equal(again.status, 202);
    assert.equal(again.body.id, first.body.id);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    const concurrent = await Promise.all(
      Array.from({ length: 50 }, () => api.request<{ id: string }>('POST', '/v1/messages', { eventType: 'idem.test', payload: {}, idempotencyKey: 'k-2' })),
    );
    assert.equal(new Set(concurrent.map((r) => r.body.id)).size, 1);
    assert.ok(concurrent.every((r) => r.status === 202));
    assert.equal((await api.request<Receiver>('GET', `/v1/receivers/${receiver.id}`)).body.health.queueDepth, 2);
    const mismatch = await api.request<ErrorBody>(
      'POST',
      '/v1/messages',
      { eventType: 'idem.test', payload: {}, idempotencyKey: 'a' },
      { 'idempotency-key': 'b' },
    );
    assert.deepEqual([mismatch.body.code, mismatch.body.field], ['LOCKSTEP_BAD_FIELD', 'idempotencyKey']);
  });

  test('batch intake: up to 1,000 messages in one request, refused whole on an unknown receiver', async () => {
    const target = await api.createReceiver({ url: 'https://example.com/batch', eventTypes: ['batch.*'] });
    const depth = async (): Promise<number> => (await api.request<Receiver>('GET', `/v1/receivers/${target.id}`)).body.health.queueDepth;
    const messages = Array.from({ length: 3 }, (_, i) => ({ eventType: 'batch.item', payload: { i }, idempotencyKey: `batch-${i % 2}` }));
    const accepted = await api.request<{ data: { id: string; receiverIds: string[]; duplicate?: boolean }[] }>('POST', '/v1/messages/batch', { messages });
    assert.equal(accepted.status, 202);
    assert.equal(accepted.body.data.length, 3);
    assert.ok(accepted.body.data[0]?.receiverIds.includes(target.id));
    assert.equal(accepted.body.data[2]?.id, accepted.body.data[0]?.id, 'the repeated idempotency key returns the first message');
    assert.equal(accepted.body.data[2]?.duplicate, true);
    assert.equal(await depth(), 2);

    const unknown = await api.request<ErrorBody>('POST', '/v1/messages/batch', {
      messages: [
        { eventType: 'batch.item', payload: {} },
        { eventType: 'batch.item', payload: {}, receiverIds: ['rcv_0000000000000000000000000a'] },
      ],
    });
    assert.deepEqual([unknown.status, unknown.body.code, unknown.body.field], [422, 'LOCKSTEP_BAD_FIELD', 'messages[1].receiverIds[0]']);
    const tooMany = await api.request<ErrorBody>('POST', '/v1/messages/batch', {
      messages: Array.from({ length: 1001 }, () => ({ eventType: 'batch.item', payload: {} })),
    });
    assert.deepEqual([tooMany.status, tooMany.body.field], [400, 'messages']);
    const badItem = await api.request<ErrorBody>('POST', '/v1/messages/batch', { messages: [{ eventType: 'batch.item', payload: {} }, { payload: {} }] });
    assert.deepEqual([badItem.status, badItem.body.field], [400, 'messages[1].eventType']);
    assert.equal(await depth(), 2, 'refused batches store nothing');
  });

  test('locks and OpenAPI', async () => {
    const locks = await api.request<{ backend: string; data: unknown[] }>('GET', '/v1/locks');
    assert.equal(locks.status, 200);
    assert.equal(locks.body.backend, 'redis');
    assert.deepEqual(locks.body.data, []);
    const openapi = (await (await fetch(`${api.url}/docs/json`)).json()) as { paths: Record<string, unknown> };
    for (const path of [
      '/v1/receivers',
      '/v1/receivers/{id}',
      '/v1/messages',
      '/v1/messages/batch',
      '/v1/messages/{id}',
      '/v1/locks',
      '/v1/receivers/{id}/replay',
      '/v1/messages/{id}/resend',
    ]) {
      assert.ok(openapi.paths[path], `OpenAPI documents ${path}`);
    }
  });
});
