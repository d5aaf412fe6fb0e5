import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { useLockstep } from '../support/in-process.js';
import type { ApiClient, MessageView } from '../support/lockstep.js';
import { waitFor } from '../support/ports.js';
import type { TestReceiver } from '../support/receiver.js';

describe('delivery path (API + emitter in one process)', () => {
  const context = useLockstep('all', {
    LOCKSTEP_ALLOW_PRIVATE_NETWORKS: 'true',
    LOCKSTEP_RETRY_SCHEDULE: '0.05,0.05,0.05',
    LOCKSTEP_THROTTLED_MIN_MS: '0',
    LOCKSTEP_LOCK_TTL_MS: '2000',
  });
  let api: ApiClient;
  let receiver: TestReceiver;
  before(() => ({ api, receiver } = context()));

  const settled = (id: string, status: string): Promise<MessageView> => {
    let view: MessageView | undefined;
    return waitFor(
      `message ${id} to be ${status}`,
      async () => {
        view = await api.message(id);
        return view.deliveries.every((d) => d.status === status);
      },
      15_000,
    ).then(() => view as MessageView);
  };

  test('delivers in acceptance order with Standard Webhooks signatures, custom headers and fences', async () => {
    const target = await api.createReceiver({ url: receiver.url('ordered'), eventTypes: ['order.*'], headers: { 'x-tenant': 'acme' } });
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await api.post('order.created', { i })).id);
    await settled(ids.at(-1) as string, 'delivered');
    await waitFor('all 30 requests', () => receiver.for('ordered').length >= 30);
    const requests = receiver.for('ordered');
    assert.deepEqual(
      requests.map((r) => r.messageId),
      ids,
    );
    const webhook = new Webhook(target.secret);
    for (const [index, request] of requests.entries()) {
      const verified = webhook.verify(request.body, request.headers) as { type: string; data: { i: number }; fence: number; timestamp: string };
      assert.equal(verified.type, 'order.created');
      assert.equal(verified.data.i, index);
      assert.ok(verified.fence >= 1);
      assert.equal(request.headers['x-tenant'], 'acme');
      assert.equal(request.headers['content-type'], 'application/json');
    }
    const message = await api.message(ids[0] as string);
    const [attempt] = message.deliveries[0]?.attempts ?? [];
    assert.equal(attempt?.statusCode, 200);
    assert.equal(attempt?.attempt, 1);
    assert.ok(attempt?.emitterId);
    assert.equal(attempt?.fence, requests[0]?.fence);
    const captured = attempt as unknown as { responseBody: string; responseHeaders: Record<string, string> };
    assert.equal(captured.responseBody, 'ok', 'the response body is kept with the attempt');
    assert.equal(captured.responseHeaders['content-type'], 'text/plain');
  });

  test('retries failures on the schedule, then dead; replay re-delivers', async () => {
    receiver.set('flaky', { status: 500 });
    const target = await api.createReceiver({ url: receiver.url('flaky'), eventTypes: ['flaky.*'] });
    const { id } = await api.post('flaky.event', {});
    const dead = await settled(id, 'dead');
    assert.deepEqual(
      dead.deliveries[0]?.attempts.map((a) => [a.attempt, a.statusCode]),
      [
        [1, 500],
        [2, 500],
        [3, 500],
        [4, 500],
      ],
    );
    assert.equal(receiver.for('flaky').length, 4);
    receiver.set('flaky', { status: 204 });
    const replay = await api.request<{ count: number }>('POST', `/v1/receivers/${target.id}/replay`, { status: 'dead' });
    assert.deepEqual([replay.status, replay.body.count], [202, 1]);
    const delivered = await settled(id, 'delivered');
    assert.equal(delivered.deliveries[0]?.attempts.at(-1)?.statusCode, 204);
  });

  test('redirects are not followed and count as failures', async () => {
    receiver.set('moved', { status: 302 });
    await api.createReceiver({ url: receiver.url('moved'), eventTypes: ['moved.*'] });
    const { id } = await api.post('moved.event', {});
    await settled(id, 'dead');
    assert.equal(receiver.for('moved').length, 4);
  });

  test('410 disables the receiver; enabling it resumes its queue', async () => {
    receiver.set('gone', { status: 410 });
    const target = await api.createReceiver({ url: receiver.url('gone'), eventTypes: ['gone.*'] });
    const first = await api.post('gone.event', { n: 1 });
    await waitFor('receiver disabled', async () => (await api.request<{ enabled: boolean }>('GET', `/v1/receivers/${target.id}`)).body.enabled === false);
    const second = await api.post('gone.event', { n: 2 }, { receiverIds: [target.id] });
    const view = (await api.request<{ disabledReason: string }>('GET', `/v1/receivers/${target.id}`)).body;
    assert.equal(view.disabledReason, 'gone');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(receiver.for('gone').length, 1, 'nothing more is sent to a gone receiver');
    receiver.set('gone', { status: 200 });
    await api.request('PATCH', `/v1/receivers/${target.id}`, { enabled: true });
    await settled(first.id, 'delivered');
    await settled(second.id, 'delivered');
    assert.deepEqual(
      receiver
        .for('gone')
        .slice(1)
        .map((r) => r.messageId),
      [first.id, second.id],
    );
  });

  test('resend makes a new delivery of a delivered message', async () => {
    await api.createReceiver({ url: receiver.url('again'), eventTypes: ['again.*'] });
    const { id } = await api.post('again.event', {});
    await settled(id, 'delivered');
    const resent = await api.request<{ receiverIds: string[] }>('POST', `/v1/messages/${id}/resend`, {});
    assert.equal(resent.status, 202);
    await waitFor('second request', () => receiver.for('again').length === 2);
    const view = await settled(id, 'delivered');
    assert.equal(view.deliveries[0]?.attempts.length, 2);
  });

  test('GET /metrics: Prometheus text with intake, attempts, queues and lock operations', async () => {
    const response = await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${api.token}` } });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /text\/plain/);
    const text = await response.text();
    for (const series of [
      /^lockstep_messages_accepted_total [1-9]/m,
      /^lockstep_delivery_attempts_total\{outcome="delivered"\} [1-9]/m,
      /^lockstep_delivery_attempts_total\{outcome="dead"\} [1-9]/m,
      /^lockstep_attempt_duration_seconds_bucket\{le="0.1",outcome="delivered"\} [1-9]/m,
      /^lockstep_queue_depth\{state="pending"\} \d+/m,
      /^lockstep_queue_depth\{state="dead"\} \d+/m,
      /^lockstep_oldest_pending_age_seconds\{state="retrying"\} /m,
      /^lockstep_lock_operations_total\{op="acquired"\} [1-9]/m,
      /^lockstep_receivers_held \d+/m,
      /^lockstep_locks_lost_total\{cause="deadline"\} 0/m,
      /^lockstep_lock_acquire_seconds_count [1-9]/m,
      /^lockstep_requests_aborted_total \d+/m,
    ])
      assert.match(text, series);
    assert.doesNotMatch(text, /rcv_/, 'no receiver ids in labels by default');
  });

  test('delete cancels pending deliveries and nothing is sent after the 204', async () => {
    receiver.set('slow', { delayMs: 100 });
    const target = await api.createReceiver({ url: receiver.url('slow'), eventTypes: ['slow.*'] });
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await api.post('slow.event', { i })).id);
    await waitFor('first request', () => receiver.for('slow').length >= 1);
    assert.equal((await api.request('DELETE', `/v1/receivers/${target.id}`)).status, 204);
    const deletedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.ok(
      receiver.for('slow').every((r) => r.start <= deletedAt),
      'no request started after the 204',
    );
    const statuses = await Promise.all(ids.map(async (id) => (await api.message(id)).deliveries[0]?.status));
    assert.ok(statuses.includes('cancelled'));
    assert.ok(
      statuses.every((s) => s === 'delivered' || s === 'cancelled'),
      statuses.join(),
    );
  });
});
