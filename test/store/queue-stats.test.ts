import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import type { BreakerPolicy, ClaimedDelivery, Holder, Outcome } from '../../src/store/deliveries.js';
import { useStore } from '../support/store.js';
import { EMPTY_CATALOG } from '../../src/store/event-types.js';

const RETENTION_MS = 1500;

/** What the counters and heads must say, worked out the slow way: every receiver's sets, one by one. */
interface Truth {
  depth: { queued: number; retrying: number; dead: number };
  heads: Record<'pending' | 'retrying' | 'dead', Record<string, number>>;
}

/**
 * Issue 12 item 3 on a real redis-server: the queue counters and per-receiver heads that the
 * scripts keep (accept, record, replay, resend, delete, the dead-letter trim) always equal what a
 * scan of every receiver finds, and counting them from scratch (an upgraded installation) agrees.
 */
describe('queue statistics kept by the scripts', () => {
  const db = useStore('qs', { retentionMs: RETENTION_MS });

  const holder: Holder = { fence: { service: 'redis', value: 1 } };
  const breaker: BreakerPolicy = { threshold: 1000, stepsMs: [1] };
  const accept = async (receiverIds: string[]): Promise<string> => {
    const result = await db.store.messages.accept({ eventType: 'qs.event', payload: {}, receiverIds }, EMPTY_CATALOG);
    assert.equal(result.kind, 'accepted');
    return result.message.id;
  };
  /** Claims up to `count` of the receiver's due deliveries and records `outcome` for each. */
  const work = async (receiverId: string, outcome: Outcome, count = 1): Promise<ClaimedDelivery[]> => {
    const claim = await db.store.deliveries.claim(receiverId, holder, count, breaker.threshold);
    const deliveries = claim.kind === 'send' ? claim.deliveries : [];
    const attempt = { startedAt: new Date().toISOString(), durationMs: 1, statusCode: 500, error: null, emitterId: 'e', fence: 1 };
    await db.store.deliveries.record(
      receiverId,
      holder,
      deliveries.map((delivery) => ({ delivery, attempt: { ...attempt, attempt: delivery.attempt }, outcome })),
      breaker,
    );
    return deliveries;
  };
  const retry: Outcome = { kind: 'failed', retryInMs: 0, final: false, holdMs: 0 };
  const dead: Outcome = { kind: 'failed', retryInMs: 0, final: true, holdMs: 0 };

  const scan = async (): Promise<Truth> => {
    const k = db.raw.keys;
    const truth: Truth = { depth: { queued: 0, retrying: 0, dead: 0 }, heads: { pending: {}, retrying: {}, dead: {} } };
    for (const id of await db.raw.redis.zrange(k.receivers, 0, -1)) {
      const queue = await db.raw.redis.zrange(k.queue(id), 0, -1, 'WITHSCORES');
      const frontier = Number((await db.raw.redis.hget(k.receiver(id), 'frontier')) ?? 0);
      truth.depth.queued += queue.length / 2;
      truth.depth.retrying += await db.raw.redis.zcard(k.retries(id));
      truth.depth.dead += await db.raw.redis.zcard(k.dead(id));
      const seqs = queue.filter((_, i) => i % 2 === 1).map(Number);
      const oldestRetry = seqs.find((seq) => seq <= frontier);
      const oldestFresh = seqs.find((seq) => seq > frontier);
      if (oldestRetry !== undefined) truth.heads.retrying[id] = oldestRetry;
      if (oldestFresh !== undefined) truth.heads.pending[id] = oldestFresh;
      const [, died] = await db.raw.redis.zrange(k.dead(id), 0, 0, 'WITHSCORES');
      if (died !== undefined) truth.heads.dead[id] = Number(died);
    }
    return truth;
  };
  const kept = async (): Promise<Truth> => {
    const k = db.raw.keys;
    const [queued, retrying, dead] = (await db.raw.redis.hmget(k.stats, 'queued', 'retrying', 'dead')).map(Number) as [number, number, number];
    const heads = async (kind: 'pending' | 'retrying' | 'dead'): Promise<Record<string, number>> => {
      const flat = await db.raw.redis.zrange(k.heads(kind), 0, -1, 'WITHSCORES');
      return Object.fromEntries(flat.flatMap((member, i) => (i % 2 === 0 ? [[member, Number(flat[i + 1])]] : [])));
    };
    return { depth: { queued, retrying, dead }, heads: { pending: await heads('pending'), retrying: await heads('retrying'), dead: await heads('dead') } };
  };
  const agree = async (step: string): Promise<Truth> => {
    const truth = await scan();
    assert.deepEqual(await kept(), truth, `after ${step}`);
    return truth;
  };

  test('every script keeps the counters and heads equal to a scan of every receiver', async () => {
    const [a, b, c] = [await db.newReceiver(), await db.newReceiver(), await db.newReceiver()];
    for (let i = 0; i < 5; i++) await accept([a, b]);
    await accept([c]);
    assert.deepEqual((await agree('accepting')).depth, { queued: 11, retrying: 0, dead: 0 });
    await work(a, { kind: 'delivered' }, 2);
    await agree('delivering');
    await work(a, retry, 2);
    await work(b, { kind: 'aborted' }, 1);
    assert.deepEqual((await agree('failures and an abort')).depth, { queued: 9, retrying: 3, dead: 0 });
    await work(a, dead, 2); // the two retries die
    await work(b, dead, 3); // b's aborted one (now a retry) and two first attempts die
    const afterDeaths = await agree('deaths');
    assert.deepEqual(afterDeaths.depth, { queued: 4, retrying: 0, dead: 5 });
    const state = await db.store.queueStats.read();
    assert.deepEqual(state.depth, { pending: 4, retrying: 0, dead: 5 });

    assert.equal(await db.store.receivers.replayDead(b, {}), 3);
    assert.deepEqual((await agree('a replay')).depth, { queued: 7, retrying: 3, dead: 2 });
    const [deadOfA] = await db.raw.redis.zrange(db.raw.keys.dead(a), 0, 0);
    assert.equal((await db.store.messages.resend(deadOfA as string, [a])).kind, 'resent');
    assert.deepEqual((await agree('a resend')).depth, { queued: 8, retrying: 3, dead: 1 });
    assert.ok((await db.store.queueStats.read()).oldestAgeS.retrying > 0, 'the oldest retry has an age');

    assert.equal(await db.store.receivers.delete(b), true);
    assert.deepEqual((await agree('a receiver delete')).depth, { queued: 3, retrying: 0, dead: 1 });

    await sleep(RETENTION_MS + 100);
    assert.equal(await db.store.queueStats.trimExpiredDeadLetters(), 1, "a's old dead letter is past retention");
    assert.deepEqual((await agree('the dead-letter trim')).depth, { queued: 3, retrying: 0, dead: 0 });

    const before = await kept();
    await db.raw.redis.del(db.raw.keys.stats);
    await db.store.queueStats.countOnce();
    assert.deepEqual(await kept(), before, 'counting from scratch finds the same');
  });
});
