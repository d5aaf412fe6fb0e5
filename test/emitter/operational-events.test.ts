import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { quickRetries, useLockstep } from '../support/in-process.js';
import { waitFor, type ApiClient } from '../support/lockstep.js';
import { bodiesAt, checkDocumented, LIFECYCLE, operationalEventCount, type OwnEvent } from '../support/own-events.js';
import type { TestReceiver } from '../support/receiver.js';

describe('operational events: a receiver failing and recovered, a delivery dead, a receiver disabled', () => {
  // with the catalog required, which Lockstep's own types pass; a receiver is failing at its second
  // consecutive failure and disabled at its second dead delivery
  const context = useLockstep('all', {
    ...quickRetries(1),
    LOCKSTEP_REQUIRE_KNOWN_EVENT_TYPES: 'true',
    LOCKSTEP_DISABLE_AFTER_DEAD_MS: '0',
    LOCKSTEP_BREAKER_FAILURES: '2',
  });
  let api: ApiClient;
  let receiver: TestReceiver;
  /** The events (of this type, or all but the lifecycle's) the `ops` receiver (subscribed to `lockstep.*`) got about this receiver. */
  const eventsAbout = (receiverId: string, type?: string): OwnEvent[] =>
    bodiesAt(receiver, 'ops').filter(
      (event) => event.data.receiverId === receiverId && (type === undefined ? !LIFECYCLE.includes(event.type) : event.type === type),
    );

  before(async () => {
    ({ api, receiver } = context());
    assert.equal((await api.request('POST', '/v1/event-types', { name: 'orders.created' })).status, 201);
    await api.createReceiver({ url: receiver.url('ops'), eventTypes: ['lockstep.*'] });
    // neither `*` nor an empty filter asks for Lockstep's own events
    await api.createReceiver({ url: receiver.url('everything'), eventTypes: ['*'] });
    await api.createReceiver({ url: receiver.url('unfiltered') });
  });

  it('reports a dead delivery to the receivers that subscribe, with what an operator needs to act', async () => {
    receiver.set('broken', { status: 500 });
    const broken = await api.createReceiver({ url: receiver.url('broken'), eventTypes: ['orders.*'] });
    const { id } = await api.post('orders.created', { order: 1 });
    await waitFor('the dead delivery reported', () => eventsAbout(broken.id, 'lockstep.delivery.dead').length > 0);
    const [event] = eventsAbout(broken.id, 'lockstep.delivery.dead');
    const { health, lastAttempt, ...rest } = event?.data ?? { receiverId: '' };
    assert.deepEqual(rest, { receiverId: broken.id, url: receiver.url('broken'), messageId: id, eventType: 'orders.created', attempts: 2 });
    assert.deepEqual([lastAttempt?.messageId, lastAttempt?.attempt, lastAttempt?.statusCode], [id, 2, 500]);
    assert.equal(health?.consecutiveFailures, 2, "the receiver's health as GET /v1/receivers/:id shows it");
    const message = await api.message(id);
    assert.equal(message.deliveries.find((delivery) => delivery.receiverId === broken.id)?.status, 'dead');
    await waitFor(
      'the producer message delivered to the catch-all receivers',
      () => receiver.for('everything').length > 0 && receiver.for('unfiltered').length > 0,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const name of ['everything', 'unfiltered'])
      assert.deepEqual(
        bodiesAt(receiver, name).map((event) => event.type),
        ['orders.created'],
        `${name} got no operational event`,
      );
  });

  it('reports a receiver failing when its breaker opens, and recovered at the next success', async () => {
    receiver.set('flappy', { status: 500 });
    const flappy = await api.createReceiver({ url: receiver.url('flappy'), eventTypes: ['orders.*'] });
    const first = await api.post('orders.created', { order: 'f1' });
    await waitFor('the failing reported', () => eventsAbout(flappy.id, 'lockstep.receiver.failing').length > 0);
    receiver.set('flappy', { status: 200 });
    const second = await api.post('orders.created', { order: 'f2' });
    await waitFor('the recovery reported', () => eventsAbout(flappy.id, 'lockstep.receiver.recovered').length > 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const seen = eventsAbout(flappy.id).map(({ type, data }) => [type, data.lastAttempt?.messageId, data.lastAttempt?.statusCode, data.health?.breaker.state]);
    assert.deepEqual(seen, [
      ['lockstep.receiver.failing', first.id, 500, 'open'],
      ['lockstep.delivery.dead', first.id, 500, 'open'],
      ['lockstep.receiver.recovered', second.id, 200, 'closed'],
    ]);
  });

  it('reports a receiver disabled by a 410 once, and one disabled because its deliveries keep dying', async () => {
    receiver.set('gone', { status: 410 });
    const gone = await api.createReceiver({ url: receiver.url('gone'), eventTypes: ['orders.*'] });
    await api.post('orders.created', { order: 2 });
    await api.post('orders.created', { order: 3 });
    await waitFor('the disabling reported', () => eventsAbout(gone.id).length > 0);
    receiver.set('dying', { status: 503 });
    const dying = await api.createReceiver({ url: receiver.url('dying'), eventTypes: ['orders.*'] });
    await api.post('orders.created', { order: 4 });
    await api.post('orders.created', { order: 5 });
    await waitFor('the dying receiver disabled and reported', () => eventsAbout(dying.id, 'lockstep.receiver.disabled').length > 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(
      eventsAbout(gone.id).map((event) => [event.type, event.data.reason, event.data.lastAttempt?.statusCode]),
      [['lockstep.receiver.disabled', 'gone', 410]],
    );
    const disabled = eventsAbout(dying.id, 'lockstep.receiver.disabled');
    assert.equal(disabled.length, 1);
    assert.match(disabled[0]?.data.reason ?? '', /^failing: its deliveries kept ending dead/);
    assert.equal(((await api.request('GET', `/v1/receivers/${dying.id}`)).body as { enabled: boolean }).enabled, false);
  });

  it('sends nothing about its own events: a failing subscriber does not feed itself', async () => {
    receiver.set('ops-broken', { status: 500 });
    const opsBroken = await api.createReceiver({ url: receiver.url('ops-broken'), eventTypes: ['lockstep.delivery.dead'] });
    receiver.set('broken-again', { status: 500 });
    const source = await api.createReceiver({ url: receiver.url('broken-again'), eventTypes: ['orders.*'] });
    await api.post('orders.created', { order: 6 });
    await waitFor('the dead event reached ops-broken, and died there', async () => {
      const listed = await api.request<{ data: { id: string }[] }>('GET', '/v1/messages?eventType=lockstep.delivery.dead&limit=100');
      for (const { id } of listed.body.data) {
        const message = await api.message(id);
        if ((message.payload as OwnEvent['data']).receiverId === source.id)
          return message.deliveries.find((delivery) => delivery.receiverId === opsBroken.id)?.status === 'dead';
      }
      return false;
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(eventsAbout(opsBroken.id, 'lockstep.delivery.dead').length, 0, 'no event about the dead operational event');
    assert.equal(receiver.for('ops-broken').length, 2, 'the one event, tried twice');
  });

  it('keeps them to receivers without a tenant, and says which tenant the receiver is of', async () => {
    assert.equal((await api.request('POST', '/v1/tenants', { id: 'acme', name: 'Acme' })).status, 201);
    await api.createReceiver({ url: receiver.url('tenant-ops'), eventTypes: ['lockstep.*'], tenantId: 'acme' });
    receiver.set('tenant-broken', { status: 500 });
    const broken = await api.createReceiver({ url: receiver.url('tenant-broken'), eventTypes: ['orders.*'], tenantId: 'acme' });
    await api.post('orders.created', { order: 7 }, { tenantId: 'acme' });
    await waitFor('the dead delivery reported', () => eventsAbout(broken.id, 'lockstep.delivery.dead').length > 0);
    assert.equal(eventsAbout(broken.id, 'lockstep.delivery.dead')[0]?.data.tenantId, 'acme');
    assert.equal(receiver.for('tenant-ops').length, 0, "a tenant's receiver gets none");
  });

  it('keeps the lockstep. prefix from producers and the catalog, and sends the test event with the catalog required', async () => {
    const single = await api.request<{ message: string; field?: string }>('POST', '/v1/messages', { eventType: 'lockstep.delivery.dead', payload: {} });
    assert.equal(single.status, 422);
    assert.match(single.body.message, /^eventType lockstep\.delivery\.dead starts with "lockstep\."/);
    const before = await api.request<{ data: unknown[] }>('GET', '/v1/messages?eventType=orders.created&limit=100');
    const batch = await api.request<{ message: string }>('POST', '/v1/messages/batch', {
      messages: [
        { eventType: 'orders.created', payload: {} },
        { eventType: 'lockstep.anything', payload: {} },
      ],
    });
    assert.equal(batch.status, 422);
    assert.match(batch.body.message, /^messages\[1\]\.eventType /);
    const after = await api.request<{ data: unknown[] }>('GET', '/v1/messages?eventType=orders.created&limit=100');
    assert.equal(after.body.data.length, before.body.data.length, 'a refused batch stores nothing');
    // the operational events' idempotency keys are out of a producer's reach too
    const keyed = [
      await api.request<{ message: string }>('POST', '/v1/messages', { eventType: 'orders.created', payload: {} }, { 'idempotency-key': 'lockstep.x' }),
      await api.request<{ message: string }>('POST', '/v1/messages', { eventType: 'orders.created', payload: {}, idempotencyKey: 'lockstep.x' }),
      await api.request<{ message: string }>('POST', '/v1/messages/batch', {
        messages: [{ eventType: 'orders.created', payload: {}, idempotencyKey: 'lockstep.x' }],
      }),
    ];
    assert.deepEqual(
      keyed.map(({ status, body }) => [status, body.message.split(' ')[0]]),
      [
        [422, 'Idempotency-Key'],
        [422, 'idempotencyKey'],
        [422, 'messages[0].idempotencyKey'],
      ],
    );
    const catalog = await api.request<{ message: string }>('POST', '/v1/event-types', { name: 'lockstep.mine' });
    assert.equal(catalog.status, 422);
    assert.match(catalog.body.message, /^name lockstep\.mine starts with/);
    const probe = await api.createReceiver({ url: receiver.url('probe'), eventTypes: ['orders.*'] });
    assert.equal((await api.request('POST', `/v1/receivers/${probe.id}/test`)).status, 202, 'lockstep.test passes a required catalog');
    await waitFor('the test event delivered', () => receiver.for('probe').length > 0);
  });

  it('sends each as its documented webhook says (GET /docs/json `webhooks`), and counts it', async () => {
    const { documented, types } = await checkDocumented(api, [...bodiesAt(receiver, 'ops'), ...bodiesAt(receiver, 'probe')]);
    // the receivers created here were reported too; test/api/receiver-events.test.ts sends the other lifecycle events
    const sentHere = documented.filter((type) => !LIFECYCLE.includes(type) || type === 'lockstep.receiver.created');
    assert.deepEqual(types, sentHere, 'every documented event of deliveries was sent in this suite');
    for (const type of types.filter((name) => name !== 'lockstep.test')) {
      assert.ok((await operationalEventCount(api, type, 'published')) > 0, `${type} counted as published`);
      assert.equal(await operationalEventCount(api, type, 'lost'), 0, `no ${type} lost`);
    }
  });
});

describe('operational events without a subscriber', () => {
  const context = useLockstep('all', quickRetries(1));

  it('stores none', async () => {
    const { api, receiver } = context();
    receiver.set('broken', { status: 500 });
    const broken = await api.createReceiver({ url: receiver.url('broken') });
    const { id } = await api.post('orders.created', { order: 1 });
    await waitFor('the delivery dead', async () => (await api.message(id)).deliveries[0]?.status === 'dead');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const listed = await api.request<{ data: unknown[] }>('GET', '/v1/messages?eventType=lockstep.*');
    assert.deepEqual(listed.body.data, [], `nothing stored about ${broken.id}`);
    assert.equal(receiver.for('broken').length, 2, 'the unfiltered receiver got no operational event either');
  });
});

describe('operational events from an emitter process of its own', () => {
  const context = useLockstep('api', quickRetries(1));

  it('publishes them beside the API, which serves them like any message', async () => {
    const { api, receiver } = context();
    await context().startMore('emitter', quickRetries(1));
    await api.createReceiver({ url: receiver.url('ops'), eventTypes: ['lockstep.delivery.*'] });
    receiver.set('broken', { status: 500 });
    const broken = await api.createReceiver({ url: receiver.url('broken'), eventTypes: ['orders.*'] });
    const { id } = await api.post('orders.created', { order: 1 });
    await waitFor('the dead delivery reported', () => receiver.for('ops').length > 0);
    const [event] = bodiesAt(receiver, 'ops');
    assert.deepEqual([event?.type, event?.data.receiverId, event?.data.messageId], ['lockstep.delivery.dead', broken.id, id]);
    const listed = await api.request<{ data: { eventType: string }[] }>('GET', '/v1/messages?eventType=lockstep.*');
    assert.deepEqual(
      listed.body.data.map((message) => message.eventType),
      ['lockstep.delivery.dead'],
    );
  });
});
