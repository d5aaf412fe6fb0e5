import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseSlotLockName, slotLockName } from '../../src/locks/slots.js';
import type { HeldLock, ReceiverLocks } from '../../src/locks/types.js';
import { createLocks, startLockService, type LockService, type LockServiceName } from '../support/lock-services.js';

test('slot lock names: slot 0 is the receiver id itself, slot k is <id>~k, and back', () => {
  assert.equal(slotLockName('rcv_a', 0), 'rcv_a');
  assert.equal(slotLockName('rcv_a', 3), 'rcv_a~3');
  assert.deepEqual(parseSlotLockName('rcv_a'), { receiverId: 'rcv_a', slot: 0 });
  assert.deepEqual(parseSlotLockName('rcv_a~3'), { receiverId: 'rcv_a', slot: 3 });
  assert.deepEqual(parseSlotLockName('rcv_a~x'), { receiverId: 'rcv_a~x', slot: 0 }, 'not a slot suffix: a name of its own');
});

/** maxInFlight's slots on every backend: each its own key and fence, each listed by holders() with its slot. */
for (const name of ['redis', 'redis-sharded', 'etcd', 'consul-double'] as LockServiceName[]) {
  describe(`lock slots: ${name}`, () => {
    let service: LockService;
    let a: ReceiverLocks;
    let b: ReceiverLocks;
    before(async () => {
      service = await startLockService(name);
      const prefix = `lockstep-slots-${process.pid}-${name}`;
      [a, b] = [createLocks(service.spec(prefix), 'slots-a'), createLocks(service.spec(prefix), 'slots-b')];
      await Promise.all([a.start(), b.start()]);
    });
    after(async () => {
      await Promise.all([a?.close(), b?.close()]);
      await service?.destroy();
    });

    test('slots of one receiver are separate locks, listed by slot', async () => {
      const own = (await a.acquire(slotLockName('rcv_slots', 0), { waitMs: 0 })) as HeldLock;
      const second = (await b.acquire(slotLockName('rcv_slots', 1), { waitMs: 0 })) as HeldLock;
      const third = (await a.acquire(slotLockName('rcv_slots', 2), { waitMs: 0 })) as HeldLock;
      assert.ok(own && second && third, 'every slot is free to take, whoever holds the others');
      assert.equal(await b.acquire(slotLockName('rcv_slots', 2), { waitMs: 0 }), null, 'a held slot is held');
      const listed = (await b.holders()).filter((h) => h.receiverId === 'rcv_slots');
      assert.deepEqual(
        listed.map((h) => [h.slot, h.emitterId, h.fence]),
        [
          [0, 'slots-a', own.fence],
          [1, 'slots-b', second.fence],
          [2, 'slots-a', third.fence],
        ],
      );
      await a.release(third);
      const again = await b.acquire(slotLockName('rcv_slots', 2), { waitMs: 0 });
      assert.ok(again && again.fence > third.fence, "a slot's fence grows with every new holder");
      await Promise.all([a.release(own), b.release(second), b.release(again)]);
    });
  });
}
