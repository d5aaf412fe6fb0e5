import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { useLockstep } from '../support/in-process.js';
import { waitFor } from '../support/ports.js';

/** Retry behaviour users of Svix/Convoy ask for, each against its own Lockstep (API + emitter). */
const base = { LOCKSTEP_ALLOW_PRIVATE_NETWORKS: 'true', LOCKSTEP_THROTTLED_MIN_MS: '0' };

describe('a failing receiver backs off as a whole', () => {
  const context = useLockstep('all', { ...base, LOCKSTEP_RETRY_SCHEDULE: '1,1,1' });
  test('ten queued messages to a dead receiver cost one request per retry step, not one per message', async () => {
    const { api, receiver } = context();
    receiver.set('down', { status: 500 });
    const target = await api.createReceiver({ url: receiver.url('down') });
    for (let i = 0; i < 10; i++) await api.post('down.event', { i });
    await waitFor('the first attempt', () => receiver.for('down').length >= 1);
    // retries come 0.8-1.2 s apart (1 s ± 20%): 1.5 s after the first attempt there have been exactly two
    const firstAt = receiver.for('down')[0]?.start ?? Date.now();
    await new Promise((resolve) => setTimeout(resolve, firstAt + 1500 - Date.now()));
    const requests = receiver.for('down');
    assert.equal(requests.length, 2, `one probe, then one retry after ~1 s; saw ${requests.length}`);
    assert.equal(new Set(requests.map((r) => r.messageId)).size, 1, 'the later messages waited');
    const health = (await api.request<{ health: { consecutiveFailures: number; nextRetryAt: string | null; queueDepth: number } }>('GET', `/v1/receivers/${target.id}`)).body.health;
    assert.equal(health.consecutiveFailures, 2);
    assert.equal(health.queueDepth, 10);
    assert.ok(health.nextRetryAt && Date.parse(health.nextRetryAt) > Date.now(), 'the next retry time is shown');
  });

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
    await waitFor('the receiver to be disabled', async () => {
      view = (await api.request<typeof view>('GET', `/v1/receivers/${target.id}`)).body;
      return !view.enabled;
    }, 10_000);
    assert.match(view.disabledReason ?? '', /^failing: its deliveries kept ending dead for 500 milliseconds$/);
    const sent = receiver.for('broken').length;
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(receiver.for('broken').length, sent, 'nothing more is sent once disabled');
  });
});
