import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { useLockstep } from '../support/in-process.js';

type Receiver = { id: string; maxInFlight: number; rateLimitPerSecond?: number; rateLimitBurst: number; retrySchedule?: number[]; ordering: string };
type ErrorBody = { statusCode: number; message: string; field?: string };

/** The flow-control fields of a receiver (issue 14): defaults, bounds, null clearing, strict's 422. */
describe('receiver flow-control fields', () => {
  const lockstep = useLockstep('api', { LOCKSTEP_ALLOW_PRIVATE_NETWORKS: 'true' });
  const url = 'http://127.0.0.1:9/hook';

  test('defaults: one in flight, no rate limit, burst 1, the default schedule', async () => {
    const { api } = lockstep();
    const { status, body } = await api.request<Receiver>('POST', '/v1/receivers', { url });
    assert.equal(status, 201);
    assert.equal(body.maxInFlight, 1);
    assert.equal(body.rateLimitBurst, 1);
    assert.equal(body.rateLimitPerSecond, undefined);
    assert.equal(body.retrySchedule, undefined);
  });

  test('set on create, changed and cleared (null) by PATCH, shown by GET', async () => {
    const { api } = lockstep();
    const created = await api.request<Receiver>('POST', '/v1/receivers', {
      url,
      maxInFlight: 8,
      rateLimitPerSecond: 20.5,
      rateLimitBurst: 5,
      retrySchedule: [1, 2.5, 60],
    });
    assert.equal(created.status, 201);
    assert.deepEqual(
      [created.body.maxInFlight, created.body.rateLimitPerSecond, created.body.rateLimitBurst, created.body.retrySchedule],
      [8, 20.5, 5, [1, 2.5, 60]],
    );
    const patched = await api.request<Receiver>('PATCH', `/v1/receivers/${created.body.id}`, { maxInFlight: 2, rateLimitPerSecond: null, retrySchedule: null });
    assert.equal(patched.status, 200);
    const { body } = await api.request<Receiver>('GET', `/v1/receivers/${created.body.id}`);
    assert.equal(body.maxInFlight, 2);
    assert.equal(body.rateLimitBurst, 5);
    assert.equal(body.rateLimitPerSecond, undefined);
    assert.equal(body.retrySchedule, undefined);
  });

  test('out of bounds: a 400 naming the field, nothing stored', async () => {
    const { api } = lockstep();
    const before = (await api.request<{ data: unknown[] }>('GET', '/v1/receivers?limit=500')).body.data.length;
    for (const [field, value] of [
      ['maxInFlight', 0],
      ['maxInFlight', 257],
      ['maxInFlight', 1.5],
      ['rateLimitPerSecond', 0.001],
      ['rateLimitPerSecond', 10001],
      ['rateLimitBurst', 0],
      ['rateLimitBurst', 2.5],
      ['retrySchedule', []],
      ['retrySchedule', [-1]],
      ['retrySchedule', ['5']],
    ] as const) {
      const { status, body } = await api.request<ErrorBody>('POST', '/v1/receivers', { url, [field]: value });
      assert.equal(status, 400, `${field}: ${JSON.stringify(value)}`);
      assert.match(`${body.field ?? ''} ${body.message}`, new RegExp(field), `${field}: ${body.message}`);
    }
    assert.equal((await api.request<{ data: unknown[] }>('GET', '/v1/receivers?limit=500')).body.data.length, before);
  });

  test('strict means one at a time: strict with maxInFlight > 1 is a 422 naming the field, on create and PATCH', async () => {
    const { api } = lockstep();
    const create = await api.request<ErrorBody>('POST', '/v1/receivers', { url, ordering: 'strict', maxInFlight: 4 });
    assert.equal(create.status, 422);
    assert.equal(create.body.field, 'maxInFlight');
    const wide = (await api.request<Receiver>('POST', '/v1/receivers', { url, maxInFlight: 4 })).body;
    const toStrict = await api.request<ErrorBody>('PATCH', `/v1/receivers/${wide.id}`, { ordering: 'strict' });
    assert.equal(toStrict.status, 422);
    assert.equal(toStrict.body.field, 'ordering');
    const strict = (await api.request<Receiver>('POST', '/v1/receivers', { url, ordering: 'strict' })).body;
    const widen = await api.request<ErrorBody>('PATCH', `/v1/receivers/${strict.id}`, { maxInFlight: 2 });
    assert.equal(widen.status, 422);
    assert.equal(widen.body.field, 'maxInFlight');
    assert.equal((await api.request<Receiver>('GET', `/v1/receivers/${wide.id}`)).body.ordering, 'unordered', 'the refused PATCH changed nothing');
    assert.equal(
      (await api.request<Receiver>('PATCH', `/v1/receivers/${wide.id}`, { ordering: 'strict', maxInFlight: 1 })).status,
      200,
      'both at once is fine',
    );
  });
});
