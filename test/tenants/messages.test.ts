import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { ErrorBody, Page } from '../../src/shapes/common.js';
import type { MessageSummary } from '../../src/shapes/message-list.js';
import type { AcceptedMessage } from '../../src/shapes/messages.js';
import { useLockstep } from '../support/in-process.js';
import { ApiClient, waitFor } from '../support/lockstep.js';
import type { TestReceiver } from '../support/receiver.js';
import { createToken } from '../support/tenants.js';

describe('listing messages, and a receiver test event', () => {
  const context = useLockstep('all', { LOCKSTEP_ALLOW_PRIVATE_NETWORKS: 'true', LOCKSTEP_THROTTLED_MIN_MS: '0' });
  let api: ApiClient;
  let receiver: TestReceiver;
  before(() => ({ api, receiver } = context()));

  const list = async (query: string, client = api): Promise<Page<MessageSummary>> => {
    const { status, body } = await client.request<Page<MessageSummary>>('GET', `/v1/messages${query}`);
    assert.equal(status, 200, JSON.stringify(body));
    return body;
  };

  test('newest first, paged by cursor, filtered by tenant, event type (or a.*) and time', async () => {
    for (const id of ['list-a', 'list-b']) assert.equal((await api.request('POST', '/v1/tenants', { id })).status, 201);
    const posted: (AcceptedMessage & { tenantId?: string })[] = [];
    for (let n = 0; n < 12; n++) {
      const tenantId = ['list-a', 'list-b', undefined][n % 3];
      const eventType = n % 2 === 0 ? 'invoice.paid' : 'order.created';
      posted.push({ ...(await api.post(eventType, { n }, tenantId ? { tenantId } : {})), ...(tenantId ? { tenantId } : {}) });
      if (n === 5) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const newestFirst = [...posted].reverse();
    const all = await list('?limit=100');
    assert.deepEqual(
      all.data.map((m) => m.id),
      newestFirst.map((m) => m.id),
    );
    // no receiver takes these events: each reads as its 202 did, with its tenant and no delivery
    assert.deepEqual(all.data[0], { ...newestFirst[0], deliveries: [] }, 'each entry reads as its 202 did, with its tenant');
    // paging
    const seen: string[] = [];
    for (let cursor: string | null = ''; cursor !== null;) {
      const page = await list(`?limit=5${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.data.map((m) => m.id));
      cursor = page.next;
    }
    assert.deepEqual(
      seen,
      newestFirst.map((m) => m.id),
    );
    const ofA = await list('?tenantId=list-a');
    assert.deepEqual(
      ofA.data.map((m) => m.id),
      newestFirst.filter((m) => m.tenantId === 'list-a').map((m) => m.id),
    );
    const paidOfB = await list('?tenantId=list-b&eventType=invoice.paid');
    assert.deepEqual(
      paidOfB.data.map((m) => m.id),
      newestFirst.filter((m) => m.tenantId === 'list-b' && m.eventType === 'invoice.paid').map((m) => m.id),
    );
    assert.deepEqual(
      (await list('?eventType=order.*')).data.map((m) => m.id),
      newestFirst.filter((m) => m.eventType === 'order.created').map((m) => m.id),
    );
    const since = posted[6]?.createdAt ?? '';
    assert.deepEqual(
      (await list(`?since=${since}`)).data.map((m) => m.id),
      newestFirst.filter((m) => m.createdAt >= since).map((m) => m.id),
    );
    assert.deepEqual(
      (await list(`?until=${since}`)).data.map((m) => m.id),
      newestFirst.filter((m) => m.createdAt < since).map((m) => m.id),
    );
    // a tenant token lists its own, whatever it asks for
    const tokenOfA = new ApiClient(api.url, (await createToken(api, ['tenant:list-a'])).token);
    assert.deepEqual(
      (await list('', tokenOfA)).data.map((m) => m.id),
      ofA.data.map((m) => m.id),
    );
    for (const [query, field] of [
      ['?limit=0', 'querystring.limit'],
      ['?cursor=nope', 'querystring.cursor'],
      ['?since=yesterday', 'querystring.since'],
      ['?eventType=a b', 'querystring.eventType'],
      ['?tenantId=a/b', 'querystring.tenantId'],
      ['?surprise=1', 'querystring.surprise'],
    ]) {
      const answer = await api.request<ErrorBody>('GET', `/v1/messages${query}`);
      assert.deepEqual([answer.status, answer.body.field], [400, field], `${query}: ${JSON.stringify(answer.body)}`);
    }
  });

  test('POST /v1/receivers/:id/test sends that receiver alone a lockstep.test event, whatever its event types, as its tenant', async () => {
    assert.equal((await api.request('POST', '/v1/tenants', { id: 'tester' })).status, 201);
    const target = await api.createReceiver({ url: receiver.url('tested'), tenantId: 'tester', eventTypes: ['never.sent'] });
    const bystander = await api.createReceiver({ url: receiver.url('bystander'), tenantId: 'tester' });
    const { status, body } = await api.request<AcceptedMessage>('POST', `/v1/receivers/${target.id}/test`);
    assert.equal(status, 202);
    assert.deepEqual([body.eventType, body.receiverIds], ['lockstep.test', [target.id]]);
    await waitFor('the test event delivered', async () => (await api.message(body.id)).deliveries[0]?.status === 'delivered');
    const [request] = receiver.for('tested');
    assert.equal((JSON.parse(request?.body ?? '{}') as { type?: string }).type, 'lockstep.test');
    assert.equal(receiver.for('bystander').length, 0);
    assert.equal((await api.message(body.id)).tenantId, 'tester');
    assert.equal(bystander.tenantId, 'tester');
    assert.equal((await api.request('POST', '/v1/receivers/rcv_0000000000000000000000000a/test')).status, 404);
  });
  test("a tenant deleted and created again under the same id never reaches its namesake's messages", async () => {
    assert.equal((await api.request('POST', '/v1/tenants', { id: 'reused' })).status, 201);
    const old = await api.post('reused.event', { secret: 'of the first reused' }, { tenantId: 'reused' });
    const first = new ApiClient(api.url, (await createToken(api, ['tenant:reused'])).token);
    assert.equal((await first.request('GET', `/v1/messages/${old.id}`)).status, 200, 'its own tenant reads it');
    assert.equal((await api.request('DELETE', '/v1/tenants/reused')).status, 204);
    assert.equal((await api.request('POST', '/v1/tenants', { id: 'reused' })).status, 201);
    const second = new ApiClient(api.url, (await createToken(api, ['tenant:reused'])).token);
    const read = await second.request<ErrorBody>('GET', `/v1/messages/${old.id}`);
    assert.equal(read.status, 404, 'the new tenant of that id does not');
    assert.equal((await second.request('POST', `/v1/messages/${old.id}/resend`, {})).status, 404);
    assert.deepEqual((await list('', second)).data, [], 'nor lists it');
    const fresh = await api.post('reused.event', { n: 2 }, { tenantId: 'reused' });
    assert.equal((await second.request('GET', `/v1/messages/${fresh.id}`)).status, 200, 'its own new messages it reads');
  });
});
