import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { useLockstep } from '../support/in-process.js';
import { waitFor } from '../support/ports.js';

/** Retry behaviour users of Svix/Convoy ask for, each against its own Lockstep (API + emitter). */
const base = { LOCKSTEP_ALLOW_PRIVATE_NETWORKS: 'true', LOCKSTEP_THROTTLED_MIN_MS: '0' };

describe('a receiver that asks to be left alone is', () => {
  const context = useLockstep('all', { ...base, LOCKSTEP_RETRY_SCHEDULE: '1,1,1' });
  test('503 with Retry-After is honoured', async () => {
    const { api, receiver } = context();
    receiver.set('busy', { status: 503, headers: { 'retry-after': '2' } });
    await api.createReceiver({ url: receiver.url('busy') });
    await api.post('busy.event', {});
    await waitFor('the first attempt', () => receiver.for('busy').length === 1);
    receiver.set('busy', { status: 200 });
    await waitFor('the retry', () => receiver.for('busy').length === 2, 5000);
    const [first, second] = receiver.for('busy');
    const gap = (second?.start ?? 0) - (first?.start ?? 0);
    assert.ok(gap >= 1900, `waited ${gap} ms for Retry-After: 2`);
  });
});

describe('a receiver whose deliveries keep dying is disabled', () => {
  const context = useLockstep('all', { ...base, LOCKSTEP_RETRY_SCHEDULE: '0.1', LOCKSTEP_DISABLE_AFTER_DEAD_MS: '500' });
  test('disabled with a reason once deliveries kept ending dead for the configured period', async () => {
    const { api, receiver } = context();
    receiver.set('broken', { status: 500 });
    const target = await api.createReceiver({ url: receiver.url('broken') });
    for (let i = 0; i < 20; i++) await api.post('broken.event', { i });
    let view: { enabled: boolean; disabledReason?: string } = { enabled: true };
    await waitFor(
      'the receiver to be disabled',
      async () => {
        view = (await api.request<typeof view>('GET', `/v1/receivers/${target.id}`)).body;
        return !view.enabled;
      },
      10_000,
    );
    assert.match(view.disabledReason ?? '', /^failing: its deliveries kept ending dead for 500 milliseconds$/);
    const sent = receiver.for('broken').length;
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(receiver.for('broken').length, sent, 'nothing more is sent once disabled');
  });
});
