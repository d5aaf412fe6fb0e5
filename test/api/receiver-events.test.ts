import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { useLockstep } from '../support/in-process.js';
import { ApiClient, waitFor } from '../support/lockstep.js';
import { bodiesAt, checkDocumented, LIFECYCLE, operationalEventCount, type OwnEvent } from '../support/own-events.js';
import type { TestReceiver } from '../support/receiver.js';
import { createToken } from '../support/tenants.js';

describe('operational events of a receiver’s life: created, updated, deleted, and by whom', () => {
  const context = useLockstep('all', {});
  let api: ApiClient;
  let receiver: TestReceiver;
  /** What the `ops` receiver (subscribed to `lockstep.receiver.*`) got about this receiver, in the order it got them. */
  const lifeOf = (receiverId: string): [string, OwnEvent['data']][] =>
    bodiesAt(receiver, 'ops')
      .filter((event) => event.data.receiverId === receiverId && LIFECYCLE.includes(event.type))
      .map(({ type, data }) => [type, data]);

  before(async () => {
    ({ api, receiver } = context());
    await api.createReceiver({ url: receiver.url('ops'), eventTypes: ['lockstep.receiver.*'] });
  });

  it('reports each change in order (a key rotation too), naming the fields set and who set them, never a secret or a header value', async () => {
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const created = await api.createReceiver({
      url: receiver.url('lifecycle'),
      eventTypes: ['orders.*'],
      description: 'billing',
      secret,
      headers: { authorization: 'Bearer top-secret' },
    });
    const operator = await createToken(api, ['admin']);
    const patch = (client: ApiClient, body: object) => client.request('PATCH', `/v1/receivers/${created.id}`, body);
    assert.equal((await patch(new ApiClient(api.url, operator.token), { enabled: false, headers: { authorization: 'Bearer newer-secret' } })).status, 200);
    assert.equal((await patch(api, { enabled: true, eventTypes: ['orders.*', 'refunds.*'] })).status, 200);
    const rotated = await api.request<{ secret: string }>('POST', `/v1/receivers/${created.id}/secret/rotate`, {});
    assert.equal(rotated.status, 200);
    assert.equal((await api.request('DELETE', `/v1/receivers/${created.id}`)).status, 204);
    await waitFor('the five changes reported', () => lifeOf(created.id).length === 5);
    const about = { receiverId: created.id, url: receiver.url('lifecycle') };
    const now = (eventTypes: string[], enabled: boolean) => ({ ...about, description: 'billing', eventTypes, enabled });
    assert.deepEqual(lifeOf(created.id), [
      ['lockstep.receiver.created', { ...now(['orders.*'], true), by: 'LOCKSTEP_API_TOKEN' }],
      ['lockstep.receiver.updated', { ...now(['orders.*'], false), changed: ['enabled', 'headers'], by: operator.id }],
      ['lockstep.receiver.updated', { ...now(['orders.*', 'refunds.*'], true), changed: ['enabled', 'eventTypes'], by: 'LOCKSTEP_API_TOKEN' }],
      ['lockstep.receiver.updated', { ...now(['orders.*', 'refunds.*'], true), changed: ['secret'], by: 'LOCKSTEP_API_TOKEN' }],
      ['lockstep.receiver.deleted', { ...about, by: 'LOCKSTEP_API_TOKEN' }],
    ]);
    const bodies = receiver.for('ops').map((request) => request.body);
    for (const hidden of [secret, rotated.body.secret, 'top-secret', 'newer-secret'])
      assert.ok(!bodies.some((body) => body.includes(hidden)), `${hidden} is in no event`);
  });

  it("reports a tenant's receivers one by one, saying whose they were: created by its token, deleted with the tenant", async () => {
    assert.equal((await api.request('POST', '/v1/tenants', { id: 'initech', name: 'Initech' })).status, 201);
    const tenantToken = await createToken(api, ['tenant:initech']);
    const owned = await new ApiClient(api.url, tenantToken.token).createReceiver({ url: receiver.url('initech') });
    assert.equal((await api.request('DELETE', '/v1/tenants/initech?cascade=true')).status, 204);
    await waitFor('the cascade reported', () => lifeOf(owned.id).length === 2);
    assert.deepEqual(
      lifeOf(owned.id).map(([type, data]) => [type, data.tenantId, data.by]),
      [
        ['lockstep.receiver.created', 'initech', tenantToken.id],
        ['lockstep.receiver.deleted', 'initech', 'LOCKSTEP_API_TOKEN'],
      ],
    );
  });

  it('sends them as their documented webhooks say, counted, and refuses a change without publishing one', async () => {
    const before = receiver.for('ops').length;
    const refused = await api.request('PATCH', '/v1/receivers/rcv_00000000000000000000000000', { enabled: false });
    assert.equal(refused.status, 404);
    const { documented, types } = await checkDocumented(api, bodiesAt(receiver, 'ops'));
    assert.deepEqual(types, LIFECYCLE.slice().sort());
    assert.ok(LIFECYCLE.every((type) => documented.includes(type)));
    for (const type of LIFECYCLE) assert.ok((await operationalEventCount(api, type, 'published')) > 0, `${type} counted`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(receiver.for('ops').length, before, 'nothing about a refused change');
  });
});
