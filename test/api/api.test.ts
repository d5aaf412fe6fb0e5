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

  const count = async (): Promise<number> => (await api.request<{ data: unknown[] }>('GET', '/v1/receivers?limit=500')).body.data.length;

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

  test('bad receiver input is a 4xx naming the field, and changes nothing', async () => {
    const before = await count();
    const cases: [unknown, number, string][] = [
      [{}, 400, 'url'],
      [{ url: 'ftp://example.com/x' }, 400, 'url'],
      [{ url: 'not a url' }, 400, 'url'],
      [{ url: 'https://user:pw@example.com/x' }, 400, 'url'],
      [{ url: 'http://127.0.0.1:9/x' }, 422, 'url'],
      [{ url: 'http://[::1]/x' }, 422, 'url'],
      [{ url: 'http://169.254.169.254/latest' }, 422, 'url'],
      [{ url: 'https://example.com', eventTypes: 'invoice.paid' }, 400, 'eventTypes'],
      [{ url: 'https://example.com', eventTypes: ['not valid!'] }, 400, 'eventTypes[0]'],
      [{ url: 'https://example.com', eventTypes: Array.from({ length: 5000 }, (_, i) => `t${i}`) }, 400, 'eventTypes'],
      [{ url: 'https://example.com', secret: 'hunter2' }, 400, 'secret'],
      [{ url: 'https://example.com', headers: { 'webhook-signature': 'x' } }, 400, 'headers.webhook-signature'],
      [{ url: 'https://example.com', headers: { 'x-ok': 5 } }, 400, 'headers.x-ok'],
      [{ url: 'https://example.com', timeoutMs: '1000' }, 400, 'timeoutMs'],
      [{ url: 'https://example.com', timeoutMs: 5 }, 400, 'timeoutMs'],
      [{ url: 'https://example.com', enabled: 'yes' }, 400, 'enabled'],
      [{ url: 'https://example.com', surprise: 1 }, 400, 'surprise'],
    ];
    for (const [body, status, field] of cases) {
      const response = await api.request<ErrorBody>('POST', '/v1/receivers', body);
      assert.equal(response.status, status, `${JSON.stringify(body).slice(0, 80)} → ${JSON.stringify(response.body)}`);
      assert.equal(response.body.field, field, JSON.stringify(response.body));
      assert.equal(response.body.statusCode, status);
      assert.equal(response.body.code, 'LOCKSTEP_BAD_FIELD');
    }
    const badJson = await api.request<ErrorBody>('POST', '/v1/receivers', '{"url": "https://example.com" "eventTypes": []}');
    assert.equal(badJson.status, 400);
    assert.deepEqual([badJson.body.code, badJson.body.field], ['LOCKSTEP_BAD_FIELD', 'body']);
    assert.match(badJson.body.message, /^body is not valid JSON: .*position 30/, 'says where it breaks');
    const poisoned = await api.request<ErrorBody>('POST', '/v1/receivers', '{"url": "https://example.com", "__proto__": {"x": 1}}');
    assert.deepEqual(
      [poisoned.status, poisoned.body.field, poisoned.body.message],
      [400, 'body', 'body must not hold a "__proto__" key, nor a "constructor" key with a "prototype"'],
    );
    const tooLarge = await api.request<ErrorBody>('POST', '/v1/receivers', { url: 'https://example.com', description: 'x'.repeat(70_000) });
    assert.equal(tooLarge.status, 413);
    assert.equal(tooLarge.body.message, "body is larger than this route's limit of 65536 bytes (the server's LOCKSTEP_BODY_LIMIT_BYTES sets it)");
    assert.deepEqual([tooLarge.body.code, tooLarge.body.field], ['LOCKSTEP_BAD_FIELD', 'body']);
    assert.equal(await count(), before);
  });

  test('a refusal says what to send instead: the missing field, the allowed values, the content type', async () => {
    const before = await count();
    for (const [body, headers, status, field, message] of [
      [{ eventTypes: ['a.b'] }, {}, 400, 'url', 'url is required'],
      [{ url: 'https://example.com', ordering: 'fifo' }, {}, 400, 'ordering', 'ordering must be one of: unordered, strict'],
      [{ url: 'https://example.com', eventType: ['a.b'] }, {}, 400, 'eventType', /^eventType is not a known field \(did you mean eventTypes\?\)$/],
      ['url=https://example.com', { 'content-type': 'application/x-www-form-urlencoded' }, 415, 'headers.content-type', /Content-Type: application\/json/],
      ['{"url": "https://example.com"}', { 'content-type': 'text/plain' }, 415, 'headers.content-type', /Content-Type: application\/json/],
    ] as const) {
      const response = await api.request<ErrorBody>('POST', '/v1/receivers', body, headers);
      assert.deepEqual([response.status, response.body.code, response.body.field], [status, 'LOCKSTEP_BAD_FIELD', field]);
      assert.match(response.body.message, typeof message === 'string' ? new RegExp(`^${message}$`) : message);
    }
    const since = await api.request<ErrorBody>('GET', '/v1/messages?since=yesterday');
    assert.deepEqual(
      [since.status, since.body.field, since.body.message],
      [400, 'querystring.since', 'querystring.since must be an RFC 3339 time, e.g. 2026-01-31T09:30:00Z'],
    );
    for (const [method, path, body, field, message] of [
      ['GET', '/v1/messages?limit=abc', undefined, 'querystring.limit', 'must be a whole number from 1 to 100'],
      ['GET', '/v1/messages?cursor=zzz', undefined, 'querystring.cursor', 'must be a message id: msg_ and 26 lowercase letters or digits'],
      [
        'POST',
        '/v1/messages',
        { eventType: 'not valid!', payload: {} },
        'eventType',
        'must be names of letters, digits, "_" or "-" joined by dots, e.g. invoice.paid',
      ],
      ['PATCH', '/v1/receivers/rcv_0000000000000000000000000a', {}, 'body', 'must name at least one field'],
      ['PATCH', '/v1/receivers/rcv_0000000000000000000000000a', { retrySchedule: [] }, 'retrySchedule', 'must have at least 1 item'],
      ['PATCH', '/v1/receivers/rcv_0000000000000000000000000a', { maxInFlight: 1000 }, 'maxInFlight', 'must be at most 256'],
      [
        'PATCH',
        '/v1/receivers/rcv_0000000000000000000000000a',
        { eventTypes: ['a.b', 'c', 'a.b'] },
        'eventTypes',
        'must not repeat an item (items 0 and 2 are the same)',
      ],
      [
        'GET',
        '/v1/receivers/rcv_0000000000000000000000000a/dead-letters?cursor=2',
        undefined,
        'querystring.cursor',
        /^must be the "next" of the previous page, e\.g\. /,
      ],
      ['DELETE', '/v1/tokens/tok_1', undefined, 'params.id', 'must be a token id: tok_ and 26 lowercase letters or digits'],
      ['POST', '/v1/tokens', { name: 'n', scopes: ['tenant:'] }, 'scopes[0]', /^must be admin, publish or tenant:<tenant id> /],
    ] as const) {
      const response = await api.request<ErrorBody>(method, path, body);
      assert.deepEqual([response.status, response.body.field], [400, field], JSON.stringify(response.body));
      if (typeof message === 'string') assert.equal(response.body.message, `${field} ${message}`);
      else assert.match(response.body.message.slice(field.length + 1), message);
    }
    const wrongMethod = await api.request<ErrorBody>('DELETE', '/v1/messages');
    assert.deepEqual(
      [wrongMethod.status, wrongMethod.body.code, wrongMethod.body.message, wrongMethod.headers.get('allow')],
      [405, 'LOCKSTEP_METHOD_NOT_ALLOWED', '/v1/messages does not take DELETE, only GET, HEAD, POST; see /docs', 'GET, HEAD, POST'],
    );
    for (const [path, message] of [
      ['/v1/reciever', 'no route GET /v1/reciever (did you mean /v1/receivers?); see /docs'],
      ['/v1/receivers/rcv_x/deadletters', 'no route GET /v1/receivers/rcv_x/deadletters (did you mean /v1/receivers/rcv_x/dead-letters?); see /docs'],
      ['/v2/everything', 'no route GET /v2/everything; see /docs'],
    ]) {
      const missed = await api.request<ErrorBody>('GET', path as string);
      assert.deepEqual([missed.status, missed.body.code, missed.body.message], [404, 'LOCKSTEP_NOT_FOUND', message]);
    }
    const noPayload = await api.request<ErrorBody>('POST', '/v1/messages', { eventType: 'a.b' });
    assert.deepEqual([noPayload.status, noPayload.body.field, noPayload.body.message], [400, 'payload', 'payload is required']);
    const misspelt = await api.request<ErrorBody>('POST', '/v1/messages/batch', {
      messages: [
        { eventType: 'a.b', payload: {} },
        { eventType: 'a.b', paylaod: {} },
      ],
    });
    assert.deepEqual(
      [misspelt.status, misspelt.body.field, misspelt.body.message],
      [400, 'messages[1].payload', 'messages[1].payload is required, and messages[1].paylaod is not a known field'],
    );
    assert.equal(await count(), before);
  });

  test('an empty body sent as JSON is no body: optional bodies are optional with the header too, a needed one is still asked for', async () => {
    const created = await api.createReceiver({ url: 'https://example.com/empty-json', enabled: false });
    const json = { 'content-type': 'application/json' };
    const replay = await api.request<{ count: number }>('POST', `/v1/receivers/${created.id}/replay`, '', json);
    assert.deepEqual([replay.status, replay.body], [202, { count: 0 }]);
    const rotated = await api.request<{ secret: string }>('POST', `/v1/receivers/${created.id}/secret/rotate`, '', json);
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    const before = await count();
    const receiver = await api.request<ErrorBody>('POST', '/v1/receivers', '', json);
    assert.deepEqual([receiver.status, receiver.body.field, receiver.body.message], [400, 'body', 'body must be object']);
    const broken = await api.request<ErrorBody>('POST', `/v1/receivers/${created.id}/replay`, '{', json);
    assert.deepEqual([broken.status, broken.body.field], [400, 'body']);
    assert.equal(await count(), before);
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
