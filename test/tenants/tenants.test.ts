import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import fc from 'fast-check';
import { tenantHasReceivers } from '../../src/domain/tenants.js';
import type { ErrorBody } from '../../src/shapes/common.js';
import type { AcceptedMessage } from '../../src/shapes/messages.js';
import type { PublicReceiver } from '../../src/shapes/receivers.js';
import type { Tenant } from '../../src/shapes/tenants.js';
import { quickRetries, useLockstep } from '../support/in-process.js';
import { waitFor, type ApiClient } from '../support/lockstep.js';
import type { TestReceiver } from '../support/receiver.js';

describe('tenants: CRUD, receivers and messages of a tenant, isolation at intake', () => {
  const context = useLockstep('all', quickRetries());
  let api: ApiClient;
  let receiver: TestReceiver;
  before(() => ({ api, receiver } = context()));

  const createTenant = async (id: string): Promise<Tenant> => {
    const { status, body } = await api.request<Tenant>('POST', '/v1/tenants', { id, name: `${id} Ltd` });
    assert.equal(status, 201, JSON.stringify(body));
    return body;
  };

  test('create, read, page, patch and delete a tenant; bad input names the field and changes nothing', async () => {
    const created = await api.request<Tenant>('POST', '/v1/tenants', { id: 'acme', name: 'Acme Ltd', metadata: { customerNumber: '42' } });
    assert.equal(created.status, 201);
    assert.deepEqual(
      { ...created.body, createdAt: '', updatedAt: '' },
      { id: 'acme', name: 'Acme Ltd', metadata: { customerNumber: '42' }, createdAt: '', updatedAt: '' },
    );
    const again = await api.request<ErrorBody>('POST', '/v1/tenants', { id: 'acme', name: 'Someone else' });
    assert.deepEqual([again.status, again.body.field], [409, 'id']);
    assert.equal((await api.request<Tenant>('GET', '/v1/tenants/acme')).body.name, 'Acme Ltd', 'the 409 changed nothing');
    for (const [body, field] of [
      [{ id: '' }, 'id'],
      [{ id: 'a'.repeat(65) }, 'id'],
      [{ id: 'bad/id' }, 'id'],
      [{ id: 'ok', surprise: 1 }, 'surprise'],
      [{ id: 'ok', metadata: { n: 1 } }, 'metadata.n'],
    ] as const) {
      const answer = await api.request<ErrorBody>('POST', '/v1/tenants', body);
      assert.deepEqual([answer.status, answer.body.field], [400, field], JSON.stringify(answer.body));
    }
    assert.equal((await api.request('GET', '/v1/tenants/ok')).status, 404);
    for (const id of ['t.1', 't-2', 't_3']) await createTenant(id);
    const first = await api.request<{ data: Tenant[]; next: string | null }>('GET', '/v1/tenants?limit=2');
    assert.deepEqual(
      first.body.data.map((t) => t.id),
      ['acme', 't-2'],
    );
    const second = await api.request<{ data: Tenant[]; next: string | null }>('GET', `/v1/tenants?limit=2&cursor=${first.body.next}`);
    assert.deepEqual(
      second.body.data.map((t) => t.id),
      ['t.1', 't_3'],
    );
    const patched = await api.request<Tenant>('PATCH', '/v1/tenants/acme', { name: 'Acme Group' });
    assert.deepEqual([patched.status, patched.body.name, patched.body.metadata], [200, 'Acme Group', { customerNumber: '42' }]);
    assert.equal((await api.request('DELETE', '/v1/tenants/t.1')).status, 204);
    assert.equal((await api.request('GET', '/v1/tenants/t.1')).status, 404);
    assert.equal((await api.request('PATCH', '/v1/tenants/t.1', { name: 'x' })).status, 404);
    assert.equal((await api.request('DELETE', '/v1/tenants/t.1')).status, 404);
  });

  test('a receiver belongs to a tenant from its creation on; an unknown tenant is a 422, the tenant cannot change', async () => {
    await createTenant('rcv-owner');
    const own = await api.createReceiver({ url: receiver.url('owned'), tenantId: 'rcv-owner' });
    assert.equal(own.tenantId, 'rcv-owner');
    const unknown = await api.request<ErrorBody>('POST', '/v1/receivers', { url: receiver.url('x'), tenantId: 'nobody' });
    assert.deepEqual(
      [unknown.status, unknown.body.field, unknown.body.message],
      [422, 'tenantId', 'tenantId names no tenant (nobody): create the tenant first (POST /v1/tenants)'],
    );
    const patch = await api.request<ErrorBody>('PATCH', `/v1/receivers/${own.id}`, { tenantId: 'acme' });
    assert.deepEqual([patch.status, patch.body.field], [400, 'tenantId']);
    const listed = await api.request<{ data: PublicReceiver[] }>('GET', '/v1/receivers?tenantId=rcv-owner');
    assert.deepEqual(
      listed.body.data.map((r) => r.id),
      [own.id],
    );
  });

  test("a message with a tenant goes to that tenant's matching receivers only; one without, to receivers without a tenant", async () => {
    await createTenant('route-a');
    await createTenant('route-b');
    const a = await api.createReceiver({ url: receiver.url('route-a'), tenantId: 'route-a', eventTypes: ['route.*'] });
    const aOther = await api.createReceiver({ url: receiver.url('route-a2'), tenantId: 'route-a', eventTypes: ['other.*'] });
    const b = await api.createReceiver({ url: receiver.url('route-b'), tenantId: 'route-b', eventTypes: ['route.*'] });
    const none = await api.createReceiver({ url: receiver.url('route-none'), eventTypes: ['route.*'] });
    assert.deepEqual((await api.post('route.x', {}, { tenantId: 'route-a' })).receiverIds, [a.id]);
    assert.deepEqual((await api.post('route.x', {}, { tenantId: 'route-b' })).receiverIds, [b.id]);
    assert.deepEqual((await api.post('route.x', {})).receiverIds, [none.id]);
    assert.deepEqual((await api.post('other.x', {}, { tenantId: 'route-a' })).receiverIds, [aOther.id]);
    assert.deepEqual((await api.post('route.x', {}, { tenantId: 'route-a', receiverIds: [a.id] })).receiverIds, [a.id]);
    for (const [extra, field] of [
      [{ tenantId: 'route-a', receiverIds: [b.id] }, 'receiverIds[0]'],
      [{ tenantId: 'route-a', receiverIds: [a.id, none.id] }, 'receiverIds[1]'],
      [{ receiverIds: [a.id] }, 'receiverIds[0]'],
      [{ tenantId: 'nobody' }, 'tenantId'],
    ] as const) {
      const answer = await api.request<ErrorBody>('POST', '/v1/messages', { eventType: 'route.x', payload: {}, ...extra });
      assert.deepEqual([answer.status, answer.body.field], [422, field], JSON.stringify(answer.body));
    }
    const batch = await api.request<ErrorBody>('POST', '/v1/messages/batch', {
      messages: [
        { eventType: 'route.x', payload: {}, tenantId: 'route-a' },
        { eventType: 'route.x', payload: {}, tenantId: 'route-b', receiverIds: [a.id] },
      ],
    });
    assert.deepEqual([batch.status, batch.body.field], [422, 'messages[1].receiverIds[0]']);
    const resend = await api.request<ErrorBody>('POST', `/v1/messages/${(await api.post('route.x', {}, { tenantId: 'route-a' })).id}/resend`, {
      receiverIds: [b.id],
    });
    assert.deepEqual([resend.status, resend.body.field], [422, 'receiverIds[0]'], 'a resend cannot cross tenants either');
    const message = await api.message((await api.post('route.y', {}, { tenantId: 'route-a' })).id);
    assert.equal(message.tenantId, 'route-a');
  });

  test('DELETE of a tenant with receivers is a 409 unless ?cascade=true, which deletes them and drops their queues', async () => {
    await createTenant('leaving');
    receiver.set('leaving', { delayMs: 200 });
    const [r1, r2] = [
      await api.createReceiver({ url: receiver.url('leaving'), tenantId: 'leaving' }),
      await api.createReceiver({ url: receiver.url('leaving'), tenantId: 'leaving' }),
    ];
    for (let n = 0; n < 10; n++) await api.post('leave.x', { n }, { tenantId: 'leaving' });
    const refused = await api.request<ErrorBody>('DELETE', '/v1/tenants/leaving');
    assert.equal(refused.status, 409);
    assert.equal(refused.body.message, 'tenant leaving still has 2 receivers: delete them first, or DELETE with ?cascade=true');
    assert.equal(tenantHasReceivers('one', 1).message, 'tenant one still has 1 receiver: delete it first, or DELETE with ?cascade=true');
    assert.equal((await api.request('GET', '/v1/tenants/leaving')).status, 200);
    assert.equal((await api.request('DELETE', '/v1/tenants/leaving?cascade=true')).status, 204);
    const after = receiver.for('leaving').length;
    for (const id of [r1?.id, r2?.id]) assert.equal((await api.request('GET', `/v1/receivers/${id}`)).status, 404);
    assert.equal((await api.request('GET', '/v1/tenants/leaving')).status, 404);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(receiver.for('leaving').length, after, 'nothing sent after the 204');
    assert.ok(after < 20, `${after} of 20 deliveries were sent before the delete`);
  });

  test('property: whatever receivers are created and deleted meanwhile, no message ever reaches another tenant', async () => {
    const tenants = ['iso-a', 'iso-b', 'iso-c'];
    for (const id of tenants) await createTenant(id);
    /** receiver id → its tenant ('' = none), for every receiver ever created here */
    const owner = new Map<string, string>();
    const accepted: { message: AcceptedMessage; tenant: string }[] = [];
    const tenantOf = fc.constantFrom('', ...tenants);
    const op = fc.oneof(
      fc.record({ kind: fc.constant('create' as const), tenant: tenantOf, types: fc.subarray(['iso.*', 'iso.a', 'iso.b', '*']) }),
      fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('post' as const), tenant: tenantOf, type: fc.constantFrom('iso.a', 'iso.b'), explicit: fc.boolean(), pick: fc.nat() }),
    );
    const run = async (step: typeof op extends fc.Arbitrary<infer T> ? T : never): Promise<void> => {
      const ids = [...owner.keys()];
      if (step.kind === 'create') {
        const path = `iso-${step.tenant || 'none'}`;
        const created = await api.createReceiver({ url: receiver.url(path), eventTypes: step.types, ...(step.tenant ? { tenantId: step.tenant } : {}) });
        owner.set(created.id, step.tenant);
      } else if (step.kind === 'delete' && ids.length > 0) {
        await api.request('DELETE', `/v1/receivers/${ids[step.pick % ids.length]}`);
      } else if (step.kind === 'post') {
        const named = step.explicit && ids.length > 0 ? { receiverIds: [ids[step.pick % ids.length]] } : {};
        const answer = await api.request<AcceptedMessage>('POST', '/v1/messages', {
          eventType: step.type,
          payload: { tenant: step.tenant },
          ...(step.tenant ? { tenantId: step.tenant } : {}),
          ...named,
        });
        if (answer.status === 202) accepted.push({ message: answer.body, tenant: step.tenant });
        else assert.ok([404, 422].includes(answer.status), JSON.stringify(answer.body));
      }
    };
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(op, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 8 }), async (rounds) => {
        // each round's steps run at once: creates and deletes race the posts
        for (const steps of rounds) await Promise.all(steps.map(run));
        for (const { message, tenant } of accepted) {
          for (const id of message.receiverIds) assert.equal(owner.get(id), tenant, `message ${message.id} of tenant "${tenant}" went to ${id}`);
        }
      }),
      { numRuns: 25, seed: 1616 },
    );
    assert.ok(accepted.length > 50, `${accepted.length} messages accepted`);
    // what arrived: each receiver path got only its own tenant's payloads
    await waitFor('the deliveries to end', () => receiver.requests.filter((r) => r.receiver.startsWith('iso-')).length > 0, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    for (const request of receiver.requests.filter((r) => r.receiver.startsWith('iso-'))) {
      const { data } = JSON.parse(request.body) as { data: { tenant: string } };
      assert.equal(`iso-${data.tenant || 'none'}`, request.receiver, `a payload of tenant "${data.tenant}" reached ${request.receiver}`);
    }
  });
});
