import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { before, describe, test } from 'node:test';
import { useLockstep } from '../support/in-process.js';
import type { ApiClient } from '../support/lockstep.js';
import { waitFor } from '../support/ports.js';
import type { TestReceiver } from '../support/receiver.js';

const RETENTION_MS = 2000;

interface DeliveryView {
  receiverId: string;
  status: string;
  attempts: unknown[];
  omittedAttempts: number;
}

/**
 * Issue 12 item 1 through the API (API + emitter in one process, real Redis): with
 * LOCKSTEP_RETENTION_MS set, a delivered message answers 404 and a dead one leaves the
 * dead-letters list once the retention has passed since they became final.
 */
describe('retention through the API', () => {
  const context = useLockstep('all', { LOCKSTEP_RETENTION_MS: String(RETENTION_MS), LOCKSTEP_RETRY_SCHEDULE: '0.05', LOCKSTEP_THROTTLED_MIN_MS: '0' });
  let api: ApiClient;
  let receiver: TestReceiver;
  before(() => ({ api, receiver } = context()));

  const deliveries = async (id: string): Promise<DeliveryView[]> =>
    (await api.request<{ deliveries: DeliveryView[] }>('GET', `/v1/messages/${id}`)).body.deliveries;

  test('a delivered message answers 404 and a dead letter is no longer listed once the retention has passed', async () => {
    receiver.set('fine', { status: 200 });
    receiver.set('broken', { status: 500 });
    const fine = await api.createReceiver({ url: receiver.url('fine'), eventTypes: ['ok.*'] });
    const broken = await api.createReceiver({ url: receiver.url('broken'), eventTypes: ['bad.*'] });
    const delivered = await api.post('ok.event', { n: 1 });
    const dead = await api.post('bad.event', { n: 2 });
    await waitFor(
      'both deliveries final',
      async () => (await deliveries(delivered.id))[0]?.status === 'delivered' && (await deliveries(dead.id))[0]?.status === 'dead',
      15_000,
      50,
    );
    const [shown] = await deliveries(delivered.id);
    assert.deepEqual([shown?.receiverId, shown?.attempts.length, shown?.omittedAttempts], [fine.id, 1, 0], 'the count of attempts left out is in the answer');
    const letters = await api.request<{ data: { messageId: string }[] }>('GET', `/v1/receivers/${broken.id}/dead-letters`);
    assert.deepEqual(
      letters.body.data.map((letter) => letter.messageId),
      [dead.id],
    );

    await sleep(RETENTION_MS + 300);
    assert.equal((await api.request('GET', `/v1/messages/${delivered.id}`)).status, 404);
    assert.equal((await api.request('GET', `/v1/messages/${dead.id}`)).status, 404);
    const after = await api.request<{ data: unknown[] }>('GET', `/v1/receivers/${broken.id}/dead-letters`);
    assert.deepEqual(after.body.data, [], 'the dead-letters list no longer shows it');
    const health = await api.request<{ health: { deadLetters: number } }>('GET', `/v1/receivers/${broken.id}`);
    assert.equal(health.body.health.deadLetters, 0);
  });
});
