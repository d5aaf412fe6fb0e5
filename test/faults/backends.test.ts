import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { Fleet, type FleetLocks } from '../support/fleet.js';
import { waitFor } from '../support/ports.js';

/**
 * Faults with real processes, for every lock backend: one API, emitter processes, and a receiver
 * that records every request and refuses (409) a fence lower than the highest it has seen.
 * `LOCKSTEP_TEST_LOCK_BACKENDS=redis,etcd` runs some of them (scripts/test.mjs, on a Redis Cluster).
 */
const ALL_LOCKS: FleetLocks[] = ['redis', 'etcd', 'consul-double'];
const chosen = process.env.LOCKSTEP_TEST_LOCK_BACKENDS?.split(',') ?? ALL_LOCKS;
const unknown = chosen.filter((name) => !(ALL_LOCKS as string[]).includes(name));
if (unknown.length > 0) throw new Error(`LOCKSTEP_TEST_LOCK_BACKENDS: unknown ${unknown.join(', ')} (one or more of ${ALL_LOCKS.join(', ')})`);
for (const locks of ALL_LOCKS.filter((name) => chosen.includes(name))) {
  describe(`faults with the ${locks} lock backend`, () => {
    let fleet: Fleet;
    let ttlMs = 0;
    before(async () => {
      fleet = await Fleet.start(0, { LOCKSTEP_RETRY_SCHEDULE: '0.05,0.05,0.05,0.05,0.05', LOCKSTEP_MAX_MESSAGES_PER_TURN: '5' }, locks);
      ttlMs = Number(fleet.emitterEnv.LOCKSTEP_LOCK_TTL_MS);
    });
    after(() => fleet?.stop());
    beforeEach(() => fleet.stopEmitters());

    /**
     * Registers a slow receiver, queues messages, and waits until `emitterId` is mid-request to it,
     * early in the request (each takes 300 ms): a freeze then finds the emitter waiting for the
     * answer. Right after an answer it would be sending the next request, where a freeze may land in
     * the microseconds between its last deadline check and the write: the request then goes out on
     * waking with its old fence (README, guarantee 1's limit; test/emitter/fencing.test.ts covers a
     * freeze just before that check).
     */
    async function busyReceiver(name: string, emitterId: string, count: number): Promise<{ id: string; messages: string[]; fence: number }> {
      const { receiver, client } = fleet;
      receiver.set(name, { delayMs: 300, checkFence: true });
      const { id } = await client.createReceiver({ url: receiver.url(name) });
      const messages: string[] = [];
      for (let i = 0; i < count; i++) messages.push((await client.post(`${name}.event`, { i }, { receiverIds: [id] })).id);
      let fence = 0;
      await waitFor(
        `${emitterId} to be sending to ${name}`,
        async () => {
          const holder = await fleet.holderOf(id);
          fence = holder?.fence ?? 0;
          const openMs = receiver.openForMs(name);
          return holder?.emitterId === emitterId && openMs !== null && openMs < 150;
        },
        20_000,
        20,
      );
      return { id, messages, fence };
    }

    async function allDelivered(messages: string[]): Promise<void> {
      await waitFor(
        'every message delivered',
        async () => (await Promise.all(messages.map((m) => fleet.client.message(m)))).every((v) => v.deliveries[0]?.status === 'delivered'),
        60_000,
        250,
      );
    }

    // Consul also keeps a dead session's key for its lock-delay (1 s, src/locks/consul.ts), which no
    // write announces, so a waiting emitter retries through it every 250 ms: that much more.
    const takeoverMs = (): number => ttlMs + 1000 + (locks === 'consul-double' ? 1250 : 0);

    test('kill -9 of the emitter mid-request: another takes over within TTL + 1 s (+ lock-delay), all delivered, no overlap', async (t) => {
      const victim = await fleet.addEmitter(`${locks}-victim`);
      // paused until the kill: running, it could win the receiver between two of the victim's turns and
      // keep it. Started before the messages: started after, on a loaded machine, it came up when the
      // victim had sent them all, so there was no turn left to freeze the victim in (clean-clone CI, etcd)
      const survivor = await fleet.addEmitter(`${locks}-survivor`, { LOCKSTEP_LOG_LEVEL: 'debug' });
      survivor.pause();
      const { id, messages } = await busyReceiver('killed', `${locks}-victim`, 12);
      // frozen first, so that it starts no turn while its fence is read (holding the receiver: between
      // two turns the survivor may have it), then killed: the fence of its turn tells its requests
      // from the new holder's (a request it wrote right before the kill may arrive just after it)
      let victimFence = 0;
      let killedAt = 0; // from the freeze: the victim renews nothing after it
      await waitFor('the victim frozen while it holds the receiver', async () => {
        victim.pause();
        killedAt = Date.now();
        const holder = await fleet.holderOf(id);
        if (holder?.emitterId === `${locks}-victim`) victimFence = holder.fence;
        else victim.resume();
        return victimFence > 0;
      });
      victim.kill('SIGKILL');
      survivor.resume();
      const { receiver } = fleet;
      const byOthers = (): typeof receiver.requests => receiver.for('killed').filter((r) => r.fence > victimFence);
      await waitFor('deliveries to resume', () => byOthers().length > 0, ttlMs + 5000, 10).catch(async (error: unknown) => {
        // a takeover that never came: the receiver's lock and drain job, and what the survivor said (its
        // log lines, not its banner; debug: it says when Redis did not answer) tell why
        t.diagnostic(`receiver: ${await fleet.whyIdle(id).catch(String)}`);
        for (const line of survivor.logs.filter((l) => l.startsWith('{')).slice(-12)) t.diagnostic(`survivor: ${line.slice(0, 400)}`);
        throw error;
      });
      const resumedAfter = Math.min(...byOthers().map((r) => r.start)) - killedAt;
      t.diagnostic(`${locks}: deliveries resumed ${resumedAfter} ms after kill -9 (TTL ${ttlMs} ms)`);
      assert.ok(resumedAfter <= takeoverMs(), `resumed after ${resumedAfter} ms (bound ${takeoverMs()} ms)`);
      await allDelivered(messages);
      const lateFromVictim = receiver.for('killed').filter((r) => r.start > killedAt && r.fence <= victimFence);
      assert.ok(lateFromVictim.length <= 1, `only the request in flight at the kill arrives after it: ${JSON.stringify(lateFromVictim)}`);
      assert.deepEqual(receiver.overlaps, []);
      assert.deepEqual(receiver.staleFences, []);
    });

    test('kill -STOP the holder for 2 × TTL, then -CONT: it sends nothing more to that receiver', async (t) => {
      const sleeper = await fleet.addEmitter(`${locks}-sleeper`);
      const { messages, fence } = await busyReceiver('paused', `${locks}-sleeper`, 12);
      sleeper.pause();
      const pausedAt = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 2 * ttlMs));
      sleeper.resume();
      const resumedAt = Date.now();
      await allDelivered(messages);
      const { receiver } = fleet;
      const staleAfterWake = receiver.for('paused').filter((r) => r.start >= resumedAt && r.fence <= fence);
      t.diagnostic(
        `${locks}: paused ${resumedAt - pausedAt} ms; ${receiver.for('paused').filter((r) => r.start > pausedAt).length} requests by others meanwhile; ${staleAfterWake.length} from the woken emitter`,
      );
      assert.deepEqual(staleAfterWake, [], 'the woken emitter sent nothing under its old fence');
      assert.deepEqual(receiver.staleFences, [], 'no stale fence was ever sent');
      assert.deepEqual(receiver.overlaps, []);
    });

    test('an emitter cut off from the lock service mid-request aborts it at its local deadline, before anyone else gets in', async (t) => {
      const link = await fleet.lockServer.link();
      try {
        const { receiver, client } = fleet;
        await fleet.addEmitter(`${locks}-isolated`, link.env);
        receiver.set('cut', { hang: true, checkFence: true });
        const { id } = await client.createReceiver({ url: receiver.url('cut'), timeoutMs: 60_000 });
        const message = (await client.post('cut.event', {}, { receiverIds: [id] })).id;
        await waitFor(
          'the isolated emitter to hold the receiver',
          async () => (await fleet.holderOf(id))?.emitterId === `${locks}-isolated` && receiver.inFlightTo('cut') === 1,
          20_000,
          20,
        );
        receiver.set('cut', { status: 200, checkFence: true }); // the hanging request keeps hanging; the next one succeeds
        await fleet.addEmitter(`${locks}-standby`);
        const cutAt = Date.now();
        link.blackhole();
        await waitFor('another emitter to deliver', () => receiver.for('cut').some((r) => r.status === 200), ttlMs * 4 + 5000, 10);
        const aborted = receiver.for('cut').find((r) => r.aborted);
        const takeover = receiver.for('cut').find((r) => r.status === 200);
        assert.ok(
          aborted,
          `the isolated request was aborted: ${JSON.stringify(receiver.for('cut').map((r) => [r.start - cutAt, r.end - cutAt, r.status, r.fence, r.aborted]))}`,
        );
        assert.ok(takeover);
        t.diagnostic(
          `${locks} timeline: cut off at 0 ms → in-flight request aborted at ${aborted.end - cutAt} ms → another emitter sent at ${takeover.start - cutAt} ms (TTL ${ttlMs} ms)`,
        );
        assert.ok(aborted.end < takeover.start, 'aborted before the new holder started');
        assert.ok(aborted.end - cutAt <= ttlMs, 'aborted by the local deadline, within the TTL');
        // the job the cut-off emitter held comes back when its BullMQ lock lapses; a wake-up it took
        // into the void costs the others at most their block timeout (1 s: emitter.ts), not 5 s
        const bound = takeoverMs() + 1500;
        assert.ok(takeover.start - cutAt <= bound, `another emitter took over ${takeover.start - cutAt} ms after the cut (bound ${bound} ms)`);
        await allDelivered([message]);
        assert.deepEqual(receiver.overlaps, []);
      } finally {
        await link.close();
      }
    });

    test('an emitter cut off from the lock service takes no drain jobs until it answers again; another serves every receiver meanwhile', async (t) => {
      const link = await fleet.lockServer.link();
      try {
        const { receiver, client } = fleet;
        const isolated = await fleet.addEmitter(`${locks}-unanswered`, link.env);
        link.blackhole('reset');
        const cutAt = Date.now();
        const post = async (name: string): Promise<string> => {
          receiver.set(name, { status: 200 });
          const { id } = await client.createReceiver({ url: receiver.url(name) });
          return (await client.post(`${name}.event`, {}, { receiverIds: [id] })).id;
        };
        // the cut-off emitter, alone, takes their jobs first
        const messages = await Promise.all(Array.from({ length: 8 }, (_, i) => post(`gate-${i}`)));
        const other = await fleet.addEmitter(`${locks}-answered`);
        // the jobs it took wait one lock-service request (≤ TTL here) and a hand-back; the other emitter's start is in it too
        const bound = 2 * ttlMs + 5000;
        await waitFor(
          'every receiver served by the other emitter',
          async () => (await Promise.all(messages.map((m) => client.message(m)))).every((v) => v.deliveries[0]?.status === 'delivered'),
          bound,
          50,
        );
        t.diagnostic(`${locks}: 8 receivers served ${Date.now() - cutAt} ms after the cut (bound ${bound} ms)`);
        // with Redis locks the link is the emitter's whole Redis: cut off, it takes no job to begin with
        const said = (text: string): boolean => isolated.json().some((line) => String(line.msg).startsWith(text));
        // a failed acquire may take two requests (Consul's clean-up of one that timed out): 2 × 5 s at most
        if (locks !== 'redis') await waitFor('the cut-off emitter to say it takes no jobs', () => said('lock service unreachable'), 12_000, 50);
        // healed, and alone: it takes jobs again by itself
        link.restore();
        if (locks !== 'redis') await waitFor('the cut-off emitter to take jobs again', () => said('lock service answers again'), 10_000, 50);
        await other.stop();
        const after = await post('gate-after');
        await allDelivered([after]);
        assert.deepEqual(receiver.overlaps, []);
      } finally {
        await link.close();
      }
    });

    // Consul (the double) is not restarted: the issue asks this of etcd and Redis.
    if (locks !== 'consul-double') {
      test('lock service restart: emitters recover by themselves and nothing is lost', async (t) => {
        const { receiver, client } = fleet;
        await fleet.addEmitter(`${locks}-steady`);
        receiver.set('restart', { delayMs: 5 });
        const { id } = await client.createReceiver({ url: receiver.url('restart') });
        const accepted: string[] = [];
        const post = async (i: number): Promise<void> => {
          const response = await client.request<{ id: string }>('POST', '/v1/messages', { eventType: 'restart.event', payload: { i }, receiverIds: [id] });
          if (response.status === 202) accepted.push(response.body.id);
        };
        for (let i = 0; i < 20; i++) await post(i);
        await fleet.lockServer.stop();
        for (let i = 20; i < 40; i++) await post(i); // refused with 503 when the lock service is also the store
        await new Promise((resolve) => setTimeout(resolve, 3000));
        await fleet.lockServer.start();
        await waitFor('the API to be ready again', async () => (await fetch(`${client.url}/readyz`)).status === 200, 15_000, 100);
        const before = accepted.length;
        for (let i = 40; i < 60; i++) await post(i);
        assert.equal(accepted.length - before, 20, 'every message after the restart was accepted');
        await allDelivered(accepted);
        t.diagnostic(`${locks}: ${accepted.length} messages accepted around a lock-service restart, all delivered`);
        assert.deepEqual(receiver.overlaps, []);
      });
    }
  });
}
