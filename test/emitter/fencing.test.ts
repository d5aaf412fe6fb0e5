import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { ReceiverDrainer } from '../../src/emitter/drain.js';
import type { RedisReceiverLocks } from '../../src/locks/redis.js';
import type { ReceiverLocks } from '../../src/locks/types.js';
import type { Metrics } from '../../src/metrics/index.js';
import type { Tracing } from '../../src/tracing/index.js';
import { useDrainer, type DrainerHarness } from '../support/drainer.js';
import { waitFor } from '../support/ports.js';
import type { TestReceiver } from '../support/receiver.js';
import { useStore } from '../support/store.js';

/**
 * The emitter's side of store fencing (issue 10 item 2), with real Redis, real Redis locks and a
 * real HTTP receiver: once the store has seen a newer holder's fence, the drainer gives the
 * receiver up at once, sends nothing more, releases its lock and counts a lock lost as 'fenced'.
 */
describe('the drainer gives a receiver up when the store refuses its fence', () => {
  // the store's own block, so that it stops after everything below that uses it
  const db = useStore('drainfence');
  describe('a drainer with Redis locks and a real receiver', () => {
    const TTL_MS = 600;
    const harness = useDrainer(db, TTL_MS);
    let locks: RedisReceiverLocks;
    let receiver: TestReceiver;
    let metrics: Metrics;
    let drainer: ReceiverDrainer;
    let drainerWith: DrainerHarness['drainerWith'];
    let receiverWithMessages: DrainerHarness['receiverWithMessages'];

    before(() => {
      ({ locks, receiver, metrics, drainerWith, receiverWithMessages } = harness());
      drainer = drainerWith();
      metrics.watchLocks(locks, () => drainer.counters.aborted);
    });

    const stored = async (messageId: string, receiverId: string): Promise<{ status: string; attempts: number }> =>
      JSON.parse((await db.raw.redis.hget(db.raw.keys.message(messageId), db.raw.keys.deliveryField(receiverId))) ?? '{}') as {
        status: string;
        attempts: number;
      };
    const mark = (receiverId: string) => db.raw.redis.hget(db.raw.keys.receiver(receiverId), 'maxFence:redis');
    const fencedMetric = async (): Promise<number> =>
      Number(/^lockstep_locks_lost_total\{cause="fenced"\} (\d+)$/m.exec(await metrics.registry.metrics())?.[1]);
    // a newer holder (another emitter, after our lock had expired unseen) claims with a far higher fence
    const newerHolderClaims = (receiverId: string) => db.store.deliveries.claim(receiverId, { fence: { service: 'redis', value: 1000 } }, 32, 5);

    test('refused at the first claim: nothing is sent, the lock is released, the loss is counted', async () => {
      const { id, messageIds } = await receiverWithMessages('first', 2);
      assert.equal((await newerHolderClaims(id)).kind, 'send');
      const before = locks.stats();
      assert.deepEqual(await drainer.runTurn(id), { kind: 'busy' });
      assert.equal(receiver.for('first').length, 0, 'nothing sent');
      assert.equal(locks.stats().releases, before.releases + 1, 'the lock was released');
      assert.deepEqual(await locks.holders(), [], 'nobody holds the receiver now');
      assert.equal(drainer.counters.fenced, 1);
      assert.equal(await fencedMetric(), 1, 'lockstep_locks_lost_total{cause="fenced"}');
      const d1 = await stored(messageIds[0] as string, id);
      assert.deepEqual([d1.status, d1.attempts, await mark(id)], ['pending', 0, '1000'], "the newer holder's mark stands, D1 untouched");
    });

    test('refused at the record: sending stops there, the newer holder keeps the deliveries, our requests stay in the history', async () => {
      // Outcomes are recorded behind the requests (in batches of up to 16, and at the window's end):
      // a holder learns of a newer one at its next record, so it may send the rest of a short
      // window first; the receiver's own fence check refuses those (README: guarantees).
      receiver.set('slow', { delayMs: 300 });
      const { id, messageIds } = await receiverWithMessages('slow', 3);
      const turn = drainer.runTurn(id);
      await waitFor('our request to D1 to be in flight', () => receiver.inFlightTo('slow') === 1);
      assert.equal((await newerHolderClaims(id)).kind, 'send', 'the newer holder claims D1 while our request is in flight');
      assert.deepEqual(await turn, { kind: 'busy' });
      assert.equal(drainer.counters.fenced, 2);
      assert.equal(await fencedMetric(), 2);
      for (const messageId of messageIds) {
        const delivery = await stored(messageId, id);
        assert.deepEqual([delivery.status, delivery.attempts], ['pending', 0], 'our records changed nothing');
      }
      const history = (await db.store.messages.get(messageIds[0] as string))?.deliveries.find((d) => d.receiverId === id)?.attempts ?? [];
      assert.deepEqual(
        history.map((a) => [a.emitterId, a.statusCode]),
        [['us', 200]],
        'the request we really sent is recorded',
      );
      assert.equal(await mark(id), '1000');
    });

    test('a lock lost before the first claim claims nothing (a pause right after the acquire)', async () => {
      const { id, messageIds } = await receiverWithMessages('paused', 1);
      // the process freezes for longer than the TTL right after taking the lock: no renewal runs
      const pausing: ReceiverLocks = Object.assign(Object.create(locks) as ReceiverLocks, {
        acquire: async (...args: Parameters<ReceiverLocks['acquire']>) => {
          const lock = await locks.acquire(...args);
          const until = Date.now() + TTL_MS + 200;
          while (Date.now() < until); // a blocked event loop, as in a GC pause or SIGSTOP
          return lock;
        },
      });
      const turn = await drainerWith({}, pausing).runTurn(id);
      assert.equal(turn.kind, 'later');
      const d1 = await stored(messageIds[0] as string, id);
      assert.deepEqual([d1.status, d1.attempts], ['pending', 0], 'not claimed by a holder whose lock had lapsed');
      assert.equal(await mark(id), null, 'no fence mark from it either');
      assert.equal(receiver.for('paused').length, 0);
    });

    test('a freeze between the last check and the write sends nothing: the write itself checks the deadline', async () => {
      const { id, messageIds } = await receiverWithMessages('frozen', 3);
      // The tracing hook runs after the drainer's last check, right before the request is handed to
      // undici, which writes it on a kept-alive connection from an immediate it queues then. An
      // immediate queued here runs just before that one, with no timer phase between: blocking the
      // loop there past the TTL is a process frozen (SIGSTOP) right before the write and woken with
      // no timer run yet, so no 'lost' signal has fired when the write comes.
      let attempts = 0;
      const freezing: Tracing = {
        request: () => ({ traceparent: '', end: () => {} }),
        shutdown: async () => {},
        attempt: () => {
          if (++attempts === 2)
            setImmediate(() => {
              const until = performance.now() + TTL_MS + 200;
              while (performance.now() < until); // the freeze
            });
          return { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', end: () => {} };
        },
      };
      const turn = await drainerWith({ tracing: freezing }).runTurn(id);
      assert.equal(turn.kind, 'later');
      assert.equal(attempts, 2, 'no attempt after the one frozen');
      assert.deepEqual(
        receiver.for('frozen').map((request) => request.headers['webhook-id']),
        [messageIds[0]],
        'D1 sent; D2, checked before the freeze, never written',
      );
      const history = (await db.store.messages.get(messageIds[1] as string))?.deliveries.find((d) => d.receiverId === id)?.attempts ?? [];
      assert.deepEqual(
        history.map((a) => [a.statusCode, a.error]),
        [[null, `aborted: lock on ${id} lost: deadline`]],
        'recorded as aborted by the lock',
      );
    });
  });
});
