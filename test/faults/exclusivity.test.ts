import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Fleet } from '../support/fleet.js';
import { waitFor } from '../support/ports.js';

/**
 * The central guarantee, with real processes: 3 emitters, 1 API, 20 receivers (fast, slow, and
 * one failing half the time), 2,000 messages each fanned out to 5 receivers. The receiver records
 * every request: no receiver may ever see two at once, first attempts arrive in acceptance order,
 * fences never go down, and every delivery ends delivered.
 */
let fleet: Fleet;
before(async () => {
  fleet = await Fleet.start(3, {
    LOCKSTEP_RETRY_SCHEDULE: Array.from({ length: 25 }, () => '0.01').join(','),
    LOCKSTEP_MAX_MESSAGES_PER_TURN: '25',
    LOCKSTEP_EMITTER_CONCURRENCY: '8',
    LOCKSTEP_LOG_LEVEL: 'warn',
  });
});
after(() => fleet?.stop());

const RECEIVERS = 20;
const MESSAGES = 2000;
const GROUPS = 4;

test('zero overlaps, acceptance order, monotonic fences, everything delivered', async (t) => {
  const { receiver, client } = fleet;
  const names = Array.from({ length: RECEIVERS }, (_, i) => `r${i}`);
  const idOf = new Map<string, string>();
  for (const [i, name] of names.entries()) {
    receiver.set(name, i === 0 ? { failRate: 0.5 } : { delayMs: i % 2 === 0 ? 20 : 0, checkFence: true });
    idOf.set(name, (await client.createReceiver({ url: receiver.url(name), eventTypes: [`g${i % GROUPS}.*`] })).id);
  }

  const accepted: { id: string; group: number }[] = [];
  const startedAt = Date.now();
  for (let n = 0; n < MESSAGES; n++) {
    const group = n % GROUPS;
    const { id, receiverIds } = await client.post(`g${group}.event`, { n });
    assert.equal(receiverIds.length, RECEIVERS / GROUPS);
    accepted.push({ id, group });
  }
  t.diagnostic(`accepted ${MESSAGES} messages in ${Date.now() - startedAt} ms`);

  const expectedPerReceiver = (i: number): string[] => accepted.filter((m) => m.group === i % GROUPS).map((m) => m.id);
  await waitFor(
    'every delivery to succeed',
    () =>
      names.every((name, i) => {
        const ok = new Set(
          receiver
            .for(name)
            .filter((r) => r.status >= 200 && r.status < 300)
            .map((r) => r.messageId),
        );
        return ok.size === expectedPerReceiver(i).length;
      }),
    150_000,
    200,
  );
  t.diagnostic(`all ${MESSAGES * (RECEIVERS / GROUPS)} deliveries done after ${Date.now() - startedAt} ms; ${receiver.requests.length} requests`);

  assert.deepEqual(receiver.overlaps, [], 'no receiver ever saw two requests at once');
  assert.deepEqual(receiver.staleFences, [], 'no receiver ever saw a fence lower than one it had seen');
  for (const [i, name] of names.entries()) {
    const requests = receiver.for(name).sort((a, b) => a.start - b.start);
    const firstSeen = [...new Set(requests.map((r) => r.messageId))];
    assert.deepEqual(firstSeen, expectedPerReceiver(i), `${name}: first attempts in acceptance order`);
    for (let k = 1; k < requests.length; k++) assert.ok((requests[k]?.fence ?? 0) >= (requests[k - 1]?.fence ?? 0), `${name}: fences never decrease`);
  }
  const fences = new Set(receiver.requests.map((r) => `${r.receiver}:${r.fence}`)).size;
  t.diagnostic(`${fences} lock holdings for ${receiver.requests.length} requests (${(fences / receiver.requests.length).toFixed(3)} acquisitions per request)`);

  const sample = accepted.filter((_, i) => i % 50 === 0);
  for (const { id } of sample) {
    const view = await client.message(id);
    assert.ok(
      view.deliveries.every((d) => d.status === 'delivered'),
      `${id}: ${JSON.stringify(view.deliveries.map((d) => d.status))}`,
    );
  }
});
