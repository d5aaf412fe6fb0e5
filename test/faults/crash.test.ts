import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Fleet } from '../support/fleet.js';
import { waitFor } from '../support/ports.js';

const TTL_MS = 2000;

let fleet: Fleet;
before(async () => {
  fleet = await Fleet.start(2, { LOCKSTEP_LOCK_TTL_MS: String(TTL_MS), LOCKSTEP_RETRY_SCHEDULE: '0.05,0.05,0.05,0.05,0.05' });
});
after(() => fleet?.stop());

test('kill -9 of the emitter mid-delivery: another takes over within TTL + 1 s, nothing lost, no overlap', async (t) => {
  const { receiver, client } = fleet;
  receiver.set('slow', { delayMs: 150, checkFence: true });
  const target = await client.createReceiver({ url: receiver.url('slow') });
  const ids: string[] = [];
  for (let i = 0; i < 30; i++) ids.push((await client.post('crash.test', { i })).id);

  await waitFor('a few deliveries', () => receiver.for('slow').length >= 3);
  const holder = await fleet.holderOf(target.id);
  assert.ok(holder, 'somebody holds the receiver');
  const victim = fleet.emitter(holder.emitterId);
  await waitFor('a request in flight', () => receiver.for('slow').length >= 4);
  victim.kill('SIGKILL');
  const killedAt = Date.now();
  t.diagnostic(`killed ${holder.emitterId} (fence ${holder.fence})`);

  await waitFor('deliveries to resume', () => receiver.for('slow').some((r) => r.start > killedAt), TTL_MS + 3000, 10);
  const resumedAfter = Math.min(...receiver.for('slow').filter((r) => r.start > killedAt).map((r) => r.start)) - killedAt;
  t.diagnostic(`deliveries resumed ${resumedAfter} ms after the kill (TTL ${TTL_MS} ms)`);
  assert.ok(resumedAfter <= TTL_MS + 1000, `resumed after ${resumedAfter} ms, want ≤ TTL + 1 s`);

  await waitFor('every message delivered', async () => {
    const views = await Promise.all(ids.map((id) => client.message(id)));
    return views.every((v) => v.deliveries[0]?.status === 'delivered');
  }, 30_000, 200);
  const after = receiver.for('slow').filter((r) => r.start > killedAt);
  assert.ok(after.every((r) => r.fence > holder.fence), 'the new holder sends with a higher fence');
  assert.deepEqual(receiver.overlaps, []);
  assert.deepEqual(receiver.staleFences, []);
  const delivered = new Set(receiver.for('slow').filter((r) => r.status === 200).map((r) => r.messageId));
  assert.equal(delivered.size, ids.length);
});
