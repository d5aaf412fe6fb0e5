import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { ErrorBody } from '../../src/shapes/common.js';
import { useLockstep } from '../support/in-process.js';
import type { ApiClient } from '../support/lockstep.js';

// What the API refuses, and that a refusal names the field, says what to send instead and changes nothing.
describe('refused input', () => {
  const context = useLockstep('api', { LOCKSTEP_ALLOW_PRIVATE_NETWORKS: 'false', LOCKSTEP_BODY_LIMIT_BYTES: '65536' });
  let api: ApiClient;
  before(() => ({ api } = context()));

  const count = async (): Promise<number> => (await api.request<{ data: unknown[] }>('GET', '/v1/receivers?limit=500')).body.data.length;

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
});
