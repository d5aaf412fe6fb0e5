import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Fleet } from '../support/fleet.js';
import { waitFor } from '../support/ports.js';

const TTL_MS = 8000;

let fleet: Fleet;
before(async () => {
  fleet = await Fleet.start(2, { LOCKSTEP_LOCK_TTL_MS: String(TTL_MS) });
});
after(() => fleet?.stop());

test('SIGTERM on an emitter: in-flight request finished and recorded, locks released, exit 0, receiver resumes elsewhere at once', async (t) => {
  const { receiver, client } = fleet;
  receiver.set('slow', { delayMs: 300 });
  const target = await client.createReceiver({ url: receiver.url('slow') });
  const ids: string[] = [];
  for (let i = 0; i < 20; i++) ids.push((await client.post('stop.test', { i })).id);
  await waitFor('a delivery under way', async () => receiver.for('slow').length >= 1 && (await fleet.holderOf(target.id)) !== undefined);
  const holder = await fleet.holderOf(target.id);
  assert.ok(holder);
  const stopping = fleet.emitter(holder.emitterId);
  const signalledAt = Date.now();
  stopping.kill('SIGTERM');
  assert.equal(await stopping.exited, 0, 'exit code 0');
  const exitedAfter = Date.now() - signalledAt;
  await waitFor('the other emitter to take over', () => receiver.for('slow').some((r) => r.start > signalledAt + 50), 5000);
  const resumedAfter =
    Math.min(
      ...receiver
        .for('slow')
        .filter((r) => r.start > signalledAt + 50)
        .map((r) => r.start),
    ) - signalledAt;
  t.diagnostic(`emitter exited ${exitedAfter} ms after SIGTERM; the receiver resumed elsewhere after ${resumedAfter} ms (TTL ${TTL_MS} ms)`);
  assert.ok(resumedAfter < TTL_MS / 2, 'resumed without waiting for the TTL');
  assert.ok(
    receiver.requests.every((r) => !r.aborted),
    'the in-flight request was finished, not cut',
  );
  await waitFor(
    'every message delivered',
    async () => (await Promise.all(ids.map((id) => client.message(id)))).every((m) => m.deliveries[0]?.status === 'delivered'),
    20_000,
    200,
  );
  assert.deepEqual(receiver.overlaps, []);
  assert.equal(new Set(receiver.for('slow').map((r) => r.messageId)).size, ids.length);
  assert.equal(receiver.for('slow').length, ids.length, 'nothing was sent twice');
});

test('SIGTERM on the API: stops accepting, finishes requests, exits 0', async () => {
  const exitCode = await fleet.api.stop();
  assert.equal(exitCode, 0);
  await assert.rejects(fetch(`${fleet.api.url}/healthz`));
});
