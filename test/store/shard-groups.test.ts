import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EMPTY_CATALOG } from '../../src/store/event-types.js';
import { Keys } from '../../src/store/keys.js';
import { SLOTS, slotOf } from '../../src/shard-groups.js';
import { Store } from '../../src/store/index.js';
import type { StoreRedis } from '../../src/store/scripts.js';
import { useStore } from '../support/store.js';

const GROUPS = 4;

test('shard groups: one group is the plain layout; more spread evenly over the slot space', () => {
  const one = new Keys('lockstep');
  assert.equal(one.of('rcv_a'), one);
  assert.deepEqual(one.groupKeys, [one]);
  const keys = new Keys('{lockstep}', 24);
  keys.groupKeys.forEach((group, g) => {
    const slot = slotOf(group.queue('rcv_a'));
    assert.ok(slot >= Math.floor((g * SLOTS) / 24) && slot < Math.floor(((g + 1) * SLOTS) / 24), `group ${g} in its slot range`);
    // every key of a group shares its slot
    assert.equal(slotOf(group.message('msg_x')), slot);
    assert.equal(slotOf(group.sequence), slot);
  });
  assert.equal(new Set(keys.groupKeys.map((group) => group.prefix)).size, 24);
  assert.equal(keys.of('rcv_b'), keys.of('rcv_b'), 'a receiver stays in its group');
});

describe('a store with shard groups on a real Redis', () => {
  const db = useStore('sg', { shardGroups: GROUPS });

  test('a message to receivers of several groups: a copy per group, read back whole, resent into a group that lost its copy', async () => {
    const receivers: string[] = [];
    for (let i = 0; i < 12; i++) receivers.push(await db.newReceiver());
    const groups = db.raw.keys.byGroup(receivers);
    // each new receiver goes to the group with the fewest: random ids put 1–6 of twelve in a group
    assert.deepEqual(
      [...groups.values()].map((ids) => ids.length),
      [3, 3, 3, 3],
      'twelve receivers, three in each of the four groups',
    );

    const accepted = await db.store.messages.accept({ eventType: 'sg.event', payload: { n: 1 } }, EMPTY_CATALOG);
    assert.equal(accepted.kind, 'accepted');
    const { id } = accepted.message;
    assert.deepEqual([...accepted.message.receiverIds].sort(), [...receivers].sort());
    for (const [group, ids] of groups) {
      const copy = await db.raw.redis.hgetall(group.message(id));
      assert.equal(copy.open, String(ids.length), 'each copy counts its own group’s deliveries');
      assert.deepEqual(
        Object.keys(copy)
          .filter((field) => Keys.parseField(field)?.kind === 'delivery')
          .sort(),
        ids.map((r) => group.deliveryField(r)).sort(),
      );
      for (const receiverId of ids) assert.notEqual(await db.raw.redis.zscore(group.queue(receiverId), id), null);
    }
    assert.ok(groups.has(db.raw.keys.of(id)), 'the home group is one of the receivers’');

    const message = await db.store.messages.get(id);
    assert.deepEqual(message?.deliveries.map((d) => d.receiverId).sort(), [...receivers].sort());
    assert.equal((await db.store.queueStats.read()).depth.pending, 12, 'the counters of every group, summed');

    // a group whose copy is gone (its deliveries ended and it expired) gets one again from the home copy
    const [lostGroup, lostIds] = [...groups].find(([group]) => group !== db.raw.keys.of(id)) ?? [];
    assert.ok(lostGroup && lostIds);
    for (const receiverId of lostIds) await db.raw.redis.zrem(lostGroup.queue(receiverId), id);
    await db.raw.redis.del(lostGroup.message(id));
    const resent = await db.store.messages.resend(id, lostIds);
    assert.equal(resent.kind, 'resent');
    assert.equal(await db.raw.redis.hget(lostGroup.message(id), 'eventType'), 'sg.event');
    for (const receiverId of lostIds) assert.notEqual(await db.raw.redis.zscore(lostGroup.queue(receiverId), id), null);
  });

  test('listings merge the groups: receivers in id order, page by page', async () => {
    const all: string[] = [];
    for (let page = await db.store.receivers.list(5, undefined); ; page = await db.store.receivers.list(5, page.next ?? undefined)) {
      all.push(...page.data.map((receiver) => receiver.id));
      if (!page.next) break;
    }
    assert.equal(all.length, 12);
    assert.deepEqual(all, [...all].sort());
  });

  test('an idempotency key answers the first message, whichever group holds it', async () => {
    const input = { eventType: 'sg.event', payload: {}, idempotencyKey: 'order-17' };
    const first = await db.store.messages.accept(input, EMPTY_CATALOG);
    const again = await db.store.messages.accept(input, EMPTY_CATALOG);
    assert.equal(again.kind, 'duplicate');
    assert.equal(first.kind === 'accepted' && again.kind === 'duplicate' && again.message.id, first.kind === 'accepted' && first.message.id);
  });

  test('a payload deleted while a resend runs: what the resend queued in another group is cancelled again', async () => {
    const first = await db.newReceiver();
    let other = await db.newReceiver();
    while (db.raw.keys.of(other) === db.raw.keys.of(first)) other = await db.newReceiver();
    const accepted = await db.store.messages.accept({ eventType: 'sg.race', payload: { card: 'x' }, receiverIds: [first] }, EMPTY_CATALOG);
    assert.equal(accepted.kind, 'accepted');
    const { id } = accepted.message;
    assert.equal(db.raw.keys.of(id), db.raw.keys.of(first), 'the home group is its one receiver’s');
    // the deletion runs after the resend read the payload, before its first group call (the other group's: the home group goes last)
    const client = (db.store.messages as unknown as { redis: StoreRedis }).redis;
    const resendMessage = client.resendMessage.bind(client);
    let deleted = false;
    client.resendMessage = async (...args) => {
      if (!deleted) deleted = (await db.store.messages.deletePayload(id)).kind === 'deleted';
      return resendMessage(...args);
    };
    try {
      assert.deepEqual(await db.store.messages.resend(id, [first, other]), { kind: 'payload-deleted' });
    } finally {
      client.resendMessage = resendMessage;
    }
    const otherGroup = db.raw.keys.of(other);
    assert.equal(await db.raw.redis.hget(otherGroup.message(id), 'payload'), null, 'the copy the resend made lost its payload too');
    assert.equal(await db.raw.redis.zscore(otherGroup.queue(other), id), null, 'and its delivery is in no queue');
    const message = await db.store.messages.get(id);
    assert.deepEqual(
      message?.deliveries.map((d) => [d.receiverId, d.status]).sort(),
      [
        [first, 'cancelled'],
        [other, 'cancelled'],
      ].sort(),
    );
  });

  test('a start with another number of shard groups is refused, naming the setting', async () => {
    const other = new Store(db.server.url, 'sg', { disableAfterDeadMs: 3_600_000, shardGroups: GROUPS + 1 });
    await assert.rejects(other.connect(), /4 shard group\(s\), and LOCKSTEP_REDIS_SHARD_GROUPS is 5/);
    await other.close();
  });
});
