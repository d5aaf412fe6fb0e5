import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Fleet } from '../support/fleet.js';
import { waitFor } from '../support/ports.js';
import type { RecordedRequest } from '../support/receiver.js';

/**
 * Ordering modes and the circuit breaker (issue 18), with real processes: an API and two
 * emitters on a real Redis, real HTTP receivers. Every retry step is 1 s.
 */
const STEPS = 8;
let fleet: Fleet;
before(async () => {
  fleet = await Fleet.start(2, { LOCKSTEP_RETRY_SCHEDULE: Array.from({ length: STEPS }, () => '1').join(','), LOCKSTEP_LOG_LEVEL: 'warn' });
});
after(() => fleet?.stop());

/** Queues `count` messages for each of `names`' receivers while no emitter runs, in batches. */
async function queue(eventType: string, count: number): Promise<void> {
  for (let start = 0; start < count; start += 250) {
    const messages = Array.from({ length: Math.min(250, count - start) }, (_, i) => ({ eventType, payload: { n: start + i } }));
    const { status } = await fleet.client.request('POST', '/v1/messages/batch', { messages });
    assert.equal(status, 202);
  }
}

const delivered = (requests: RecordedRequest[]): RecordedRequest[] => requests.filter((r) => r.status >= 200 && r.status < 300);
const firstAttemptOrder = (requests: RecordedRequest[]): string[] => [...new Set(requests.map((r) => r.messageId))];

test('unordered (default): a receiver failing 5 % of requests drains 500 messages within twice the healthy time + 3 s', async () => {
  const { receiver, client } = fleet;
  await fleet.stopEmitters();
  receiver.set('healthy', {});
  receiver.set('flaky', { failRate: 0.05 });
  await client.createReceiver({ url: receiver.url('healthy'), eventTypes: ['healthy.*'] });
  await client.createReceiver({ url: receiver.url('flaky'), eventTypes: ['flaky.*'] });
  await queue('healthy.event', 500);
  await queue('flaky.event', 500);
  const started = Date.now();
  await Promise.all([fleet.addEmitter('e-1'), fleet.addEmitter('e-2')]);
  await waitFor('the healthy receiver to get all 500', () => delivered(receiver.for('healthy')).length >= 500, 60_000);
  const healthyMs = Date.now() - started;
  const limitMs = 2 * healthyMs + 3000;
  await waitFor(
    `the flaky receiver to get all 500 within ${limitMs} ms`,
    () => new Set(delivered(receiver.for('flaky')).map((r) => r.messageId)).size >= 500,
    Math.max(1, started + limitMs - Date.now()),
  );
  const flakyMs = Date.now() - started;
  const failures = receiver.for('flaky').filter((r) => r.status === 500).length;
  console.log(`# healthy drained in ${healthyMs} ms; flaky (${failures} failures) in ${flakyMs} ms`);
  // first attempts still start in acceptance order, one at a time
  const order = firstAttemptOrder(receiver.for('flaky')).map((id) =>
    Number((JSON.parse(receiver.for('flaky').find((r) => r.messageId === id)?.body ?? '{}') as { data: { n: number } }).data.n),
  );
  assert.deepEqual(
    order,
    [...order].sort((a, b) => a - b),
    'first attempts in acceptance order',
  );
  assert.equal(receiver.overlaps.length, 0, 'never two requests at once');
});

test('a receiver that always fails gets at most breaker-threshold + one request per step (breaker open, then probes)', async () => {
  const { receiver, client } = fleet;
  receiver.set('down', { status: 500 });
  const target = await client.createReceiver({ url: receiver.url('down'), eventTypes: ['down.*'] });
  await queue('down.event', 40);
  await waitFor('the breaker to open', () => receiver.for('down').length >= 5, 10_000);
  const openedAt = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 3500));
  const requests = receiver.for('down').length;
  // 5 first attempts, then one probe per ~1 s step (±20 %): at most 5 + 3.5 / 0.8 → 9 in the window
  assert.ok(requests <= 5 + Math.ceil(3500 / 800), `${requests} requests after the breaker opened ${Date.now() - openedAt} ms ago`);
  assert.ok(requests >= 6, 'the probes go on');
  const { body } = await client.request<{
    health: { breaker: { state: string; since: string | null; nextProbeAt: string | null }; consecutiveFailures: number };
  }>('GET', `/v1/receivers/${target.id}`);
  assert.equal(body.health.breaker.state, 'open');
  assert.ok(body.health.breaker.since);
  assert.ok(body.health.consecutiveFailures >= 5);
  receiver.set('down', {});
  await waitFor(
    'the probe to close the breaker and everything to be delivered',
    () => new Set(delivered(receiver.for('down')).map((r) => r.messageId)).size >= 40,
    20_000,
  );
  const healed = await client.request<{ health: { breaker: { state: string } } }>('GET', `/v1/receivers/${target.id}`);
  assert.equal(healed.body.health.breaker.state, 'closed');
});

test('strict: a receiver failing 20 % at random completes its deliveries in acceptance order', async () => {
  const { receiver, client } = fleet;
  receiver.set('strict', { failRate: 0.2 });
  // its own short schedule: the property is the order, and the default strict schedule (1, 5, 10 s…)
  // made the run's length a matter of luck (a message failing three times in a row waits 16 s)
  await client.createReceiver({
    url: receiver.url('strict'),
    eventTypes: ['strict.*'],
    ordering: 'strict',
    retrySchedule: Array.from({ length: 10 }, () => 0.2),
  });
  await queue('strict.event', 40);
  await waitFor('all 40 delivered', () => delivered(receiver.for('strict')).length >= 40, 60_000);
  const completions = delivered(receiver.for('strict')).map((r) => Number((JSON.parse(r.body) as { data: { n: number } }).data.n));
  assert.deepEqual(
    completions,
    Array.from({ length: 40 }, (_, i) => i),
    'completed in acceptance order',
  );
  assert.ok(receiver.for('strict').length > 40, 'some attempts failed and were retried');
});

test('PATCH {"ordering"} takes effect at the next turn', async () => {
  const { receiver, client } = fleet;
  receiver.set('switch', { status: 500 });
  const target = await client.createReceiver({ url: receiver.url('switch'), eventTypes: ['switch.*'], ordering: 'strict' });
  await queue('switch.event', 3);
  await waitFor('a first failure', () => receiver.for('switch').length >= 1);
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(new Set(receiver.for('switch').map((r) => r.messageId)).size, 1, 'strict: the later messages wait behind the failed one');
  const { status } = await client.request('PATCH', `/v1/receivers/${target.id}`, { ordering: 'unordered' });
  assert.equal(status, 200);
  await waitFor('the other messages to go on without the failed one', () => new Set(receiver.for('switch').map((r) => r.messageId)).size === 3, 5000);
});

test('unordered: a message accepted while the only other delivery waits for its retry goes at once, not at that retry', async () => {
  const { receiver, client } = fleet;
  receiver.set('parked', { status: 500 });
  const { id } = await client.createReceiver({ url: receiver.url('parked'), eventTypes: ['parked.*'], retrySchedule: [60, 60] });
  const failed = await client.post('parked.event', { n: 1 });
  await waitFor('the first attempt to fail', () => receiver.for('parked').length === 1);
  receiver.set('parked', {});
  // the turn ends with its retry 60 s away: the receiver waits for it with no drain job
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const { body } = await client.request<{ health: { nextRetryAt: string | null; breaker: { state: string } } }>('GET', `/v1/receivers/${id}`);
  const retryInMs = Date.parse(body.health.nextRetryAt ?? '') - Date.now();
  // 60 s ± the schedule's 20 % jitter, less the second waited
  assert.ok(retryInMs > 45_000 && retryInMs < 72_000, `health.nextRetryAt ${body.health.nextRetryAt}: the retry's time, 48–72 s after the failure`);
  assert.equal(body.health.breaker.state, 'closed');
  const next = await client.post('parked.event', { n: 2 });
  await waitFor('the new message delivered long before the retry', () => delivered(receiver.for('parked')).some((r) => r.messageId === next.id), 10_000);
  assert.deepEqual(
    receiver.for('parked').map((r) => r.messageId),
    [failed.id, next.id],
    'the failed one still waits for its retry',
  );
});
