import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { EMPTY_CATALOG } from '../../src/store/event-types.js';
import type { ChannelNotices } from '../../src/store/index.js';
import { useDrainer, type DrainerHarness } from '../support/drainer.js';
import { waitFor } from '../support/ports.js';
import { useStore } from '../support/store.js';

/**
 * Where a turn ends (issue 13), with real Redis, real Redis locks and a real receiver. A turn
 * whose queue empties lingers for new work instead of releasing at once (linger.ts), and its
 * message budget grows while no other receiver's job waits for an emitter. A second acquire
 * would show as a new fence at the receiver: one fence means one turn.
 */
describe('where a turn ends', () => {
  const db = useStore('turns');
  describe('a drainer with Redis locks and a real receiver', () => {
    const harness = useDrainer(db, 2000);
    let h: DrainerHarness;
    let work: ChannelNotices;
    before(async () => {
      h = harness();
      work = db.store.watchWork();
      await waitFor('the work notices to be heard', () => work.listening);
    });
    const fences = (name: string): number[] => h.receiver.for(name).map((request) => request.fence);
    const post = async (receiverId: string): Promise<void> => {
      const accepted = await db.store.messages.accept({ eventType: 'test.event', payload: {}, receiverIds: [receiverId] }, EMPTY_CATALOG);
      assert.equal(accepted.kind, 'accepted');
    };

    test('a turn whose queue empties lingers: a message accepted meanwhile goes out in the same turn', async () => {
      const drainer = h.drainerWith({ linger: { ms: 3000, whileTurnsBelow: 10, work } });
      const { id } = await h.receiverWithMessages('linger', 1);
      const turn = drainer.runTurn(id);
      await waitFor('the first delivery', () => h.receiver.for('linger').length === 1);
      await post(id);
      assert.deepEqual(await turn, { kind: 'done' });
      assert.equal(drainer.counters.turns, 1);
      const [first, second] = fences('linger');
      assert.equal(fences('linger').length, 2, 'both delivered');
      assert.equal(second, first, 'under the same lock: no release and acquire between them');
    });

    test('with no room for it (as many turns running as allowed) a turn does not linger', async () => {
      const drainer = h.drainerWith({ linger: { ms: 3000, whileTurnsBelow: 1, work } });
      const { id } = await h.receiverWithMessages('busy-emitter', 1);
      assert.deepEqual(await drainer.runTurn(id), { kind: 'done' });
      await post(id);
      assert.equal(h.receiver.for('busy-emitter').length, 1, 'the turn had ended: the second message waits for its job');
    });

    test('the message budget grows while no other receiver waits for an emitter', async () => {
      const drainer = h.drainerWith({ maxMessagesPerTurn: 5, othersWaiting: () => Promise.resolve(false) });
      const { id } = await h.receiverWithMessages('alone', 12);
      assert.deepEqual(await drainer.runTurn(id), { kind: 'done' });
      assert.equal(fences('alone').length, 12);
      assert.equal(new Set(fences('alone')).size, 1, 'one turn, one fence');
    });

    test('and ends at the budget when another receiver waits', async () => {
      const drainer = h.drainerWith({ maxMessagesPerTurn: 5, othersWaiting: () => Promise.resolve(true) });
      const { id } = await h.receiverWithMessages('shared', 12);
      const turn = await drainer.runTurn(id);
      assert.equal(turn.kind, 'later');
      assert.equal(h.receiver.for('shared').length, 5);
    });
  });
});
