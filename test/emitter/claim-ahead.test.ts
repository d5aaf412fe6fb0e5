import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { Claim, ClaimedDelivery, DeliveryStore, Holder } from '../../src/store/deliveries.js';
import { EMPTY_CATALOG } from '../../src/store/event-types.js';
import type { ChannelNotices } from '../../src/store/index.js';
import { useDrainer, type DrainerHarness } from '../support/drainer.js';
import { waitFor } from '../support/ports.js';
import { useStore } from '../support/store.js';

/**
 * Claim ahead (issue 13): while a window's tail is in flight the turn claims the next one, past
 * the last first attempt claimed and leaving out the retries not recorded yet (claim.lua). Real
 * Redis, real Redis locks, a real receiver.
 */
describe('claim ahead', () => {
  const db = useStore('ahead');
  const holder: Holder = { fence: { service: 'redis', value: 1 } };
  const windowOf = (claim: Claim): string[] => (claim.kind === 'send' ? claim.deliveries.map((delivery) => delivery.messageId) : []);

  test('a claim ahead starts past the sequence given and leaves the retries in flight out, also for a strict receiver', async () => {
    const receiverId = await db.newReceiver({ ordering: 'strict' });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const accepted = await db.store.messages.accept({ eventType: 'test.event', payload: { i }, receiverIds: [receiverId] }, EMPTY_CATALOG);
      assert.equal(accepted.kind, 'accepted');
      ids.push(accepted.message.id);
    }
    const { deliveries } = db.store;
    const first = await deliveries.claim(receiverId, holder, 2, 5);
    assert.equal(first.kind, 'send');
    const [d1, d2] = (first.kind === 'send' ? first.deliveries : []) as [ClaimedDelivery, ClaimedDelivery];
    // d1 fails, recorded: a retry due at once
    const attempt = { attempt: 1, startedAt: new Date().toISOString(), durationMs: 1, statusCode: 500, error: null, emitterId: 'test', fence: 1 };
    await deliveries.record(receiverId, holder, [{ delivery: d1, attempt, outcome: { kind: 'failed', retryInMs: 0, final: false, holdMs: 0 } }], {
      threshold: 5,
      stepsMs: [60_000],
    });
    // claimed again (its retry) with d2 still unrecorded: ahead of them, only what follows d2
    const retry = await deliveries.claim(receiverId, holder, 1, 5, 0, { seq: d2.seq, retries: [] });
    assert.deepEqual(windowOf(retry), [ids[0]], 'the due retry first');
    assert.deepEqual(windowOf(await deliveries.claim(receiverId, holder, 2, 5, 0, { seq: d2.seq, retries: [d1.messageId] })), ids.slice(2, 4));
    assert.deepEqual(windowOf(await deliveries.claim(receiverId, holder, 32, 5)), ids, 'without them, everything unrecorded again');
  });

  describe('a strict receiver failing mid-window', () => {
    const harness = useDrainer(db, 2000);
    let h: DrainerHarness;
    let keyChanges: ChannelNotices;
    before(async () => {
      h = harness();
      // a claim ahead needs the key-change notices heard (otherwise every window is one attempt long)
      keyChanges = db.store.watchKeyChanges();
      await waitFor('the key-change notices to be heard', () => keyChanges.listening);
    });

    test('the window claimed ahead is given back unsent and unrecorded; the next holder claims it again', async () => {
      const { id, messageIds } = await h.receiverWithMessages('strict-ahead', 40, { ordering: 'strict', maxInFlight: 1 });
      const retry = { schedule: [1500], strictSchedule: [1500], breakerFailures: 5, throttledMinMs: 0, retryAfterMaxMs: 1000 };
      const drainer = h.drainerWith({ keyChanges, retry });
      // the claims ahead and their windows, seen on the real store
      const deliveries: DeliveryStore = db.store.deliveries;
      const claim = deliveries.claim.bind(deliveries);
      const ahead: string[][] = [];
      let aheadAnswered = (): void => {};
      const aheadDone = new Promise<void>((resolve) => (aheadAnswered = resolve));
      deliveries.claim = async (...args) => {
        const result = await claim(...args);
        if (args[5]) {
          ahead.push(windowOf(result));
          aheadAnswered();
        }
        return result;
      };
      // the 30th request (of a window of 32) fails, answered only once the next window is claimed
      let arrived = 0;
      h.receiver.answer = (response) => {
        arrived++;
        if (arrived === 30) void aheadDone.then(() => response.writeHead(500).end('nope'));
        else response.writeHead(200).end('ok');
      };
      const idsReceived = (): string[] => h.receiver.received.map((request) => String(request.headers['webhook-id']));
      const stateOf = async (messageId: string): Promise<{ status: string; codes: (number | null)[] }> => {
        const delivery = (await db.store.messages.get(messageId))?.deliveries[0];
        return { status: delivery?.status ?? 'none', codes: delivery?.attempts.map((attempt) => attempt.statusCode) ?? [] };
      };
      try {
        const end = await drainer.runTurn(id);
        assert.equal(end.kind, 'later', 'the strict retry is due in 1.5 s');
        assert.deepEqual(ahead, [messageIds.slice(32)], 'the next window was claimed while the 30th request was in flight');
        assert.deepEqual(idsReceived(), messageIds.slice(0, 30), 'nothing sent after the failure: not the window claimed ahead, not the rest of this one');
        assert.deepEqual(await stateOf(messageIds[29] ?? ''), { status: 'retrying', codes: [500] });
        for (const messageId of messageIds.slice(30)) assert.deepEqual(await stateOf(messageId), { status: 'pending', codes: [] }, 'unsent, unrecorded');

        // the next holder (a new turn, a new fence) claims them again, after the strict retry
        h.receiver.answer = (response) => response.writeHead(200).end('ok');
        for (let turn = 0; turn < 10 && (await drainer.runTurn(id)).kind !== 'done'; turn++) await new Promise((resolve) => setTimeout(resolve, 300));
        assert.deepEqual(idsReceived().slice(30), messageIds.slice(29), 'the retry first (strict), then the rest once each');
        for (const messageId of messageIds.slice(30)) assert.deepEqual(await stateOf(messageId), { status: 'delivered', codes: [200] });
      } finally {
        deliveries.claim = claim;
        h.receiver.answer = undefined;
      }
    });
  });
});
