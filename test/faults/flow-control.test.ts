import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Fleet } from '../support/fleet.js';
import { bestRate, peakConcurrency, queueFor, worstRateExcess } from '../support/flow.js';
import type { LockstepProcess } from '../support/lockstep.js';
import { waitFor } from '../support/ports.js';

/**
 * Flow control with real processes (issue 14): 3 emitters, lock TTL 2 s. During the run the
 * emitter holding the wide receiver is killed with -9, and later the next one is SIGSTOPped past
 * the TTL and let go again. The receiver process records every request's start and end.
 */
const TTL_MS = 2000;
/** Arrival times are whole milliseconds, stamped by the receiver's event loop: t gets this much slack. */
const JITTER_MS = 2;
let fleet: Fleet;
before(async () => {
  fleet = await Fleet.start(3, { LOCKSTEP_LOCK_TTL_MS: String(TTL_MS), LOCKSTEP_EMITTER_CONCURRENCY: '8', LOCKSTEP_LOG_LEVEL: 'warn' });
});
after(() => fleet?.stop());

const ok = (status: number): boolean => status >= 200 && status < 300;

/** The emitter holding `receiverId`'s own lock (slot 0) right now, once one does. */
async function holderProcess(receiverId: string): Promise<LockstepProcess> {
  let holder: { emitterId: string } | undefined;
  await waitFor(`a holder of ${receiverId}`, async () => (holder = await fleet.holderOf(receiverId)) !== undefined, 10_000, 5);
  return fleet.emitter((holder as { emitterId: string }).emitterId);
}

/** The emitter holding both receivers' own locks at one moment, polled for up to `withinMs`. */
async function holderOfBoth(a: string, b: string, withinMs: number): Promise<LockstepProcess | undefined> {
  const until = Date.now() + withinMs;
  while (Date.now() < until) {
    const [ha, hb] = [await fleet.holderOf(a), await fleet.holderOf(b)];
    if (ha && hb && ha.emitterId === hb.emitterId) return fleet.emitter(ha.emitterId);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return undefined;
}

test('maxInFlight 4 reaches 4 in flight and never 5; a 20/s burst-5 limit holds over every pair of arrivals; maxInFlight 1 keeps one at a time and acceptance order; through kill -9 and SIGSTOP', async (t) => {
  const { receiver, client } = fleet;
  receiver.set('wide', { delayMs: 20, checkFence: true });
  receiver.set('paced', { delayMs: 5, checkFence: true });
  receiver.set('single', { delayMs: 5, checkFence: true });
  const wide = (await client.createReceiver({ url: receiver.url('wide'), maxInFlight: 4 })).id;
  const paced = (await client.createReceiver({ url: receiver.url('paced'), maxInFlight: 2, rateLimitPerSecond: 20, rateLimitBurst: 5 })).id;
  const single = (await client.createReceiver({ url: receiver.url('single') })).id;
  const [wideIds, pacedIds, singleIds] = [await queueFor(client, wide, 1500), await queueFor(client, paced, 200), await queueFor(client, single, 600)];
  const deliveredTo = (name: string): number =>
    new Set(
      receiver
        .for(name)
        .filter((r) => ok(r.status))
        .map((r) => r.messageId),
    ).size;

  // polled sparingly: this process is also the receiver, whose arrival stamps its own event loop delays
  await waitFor('300 deliveries to wide', () => deliveredTo('wide') >= 300, 60_000, 20);
  const killed = await holderProcess(wide);
  killed.kill('SIGKILL');
  t.diagnostic(`killed ${killed.env.LOCKSTEP_EMITTER_ID} (-9) holding wide after ${deliveredTo('wide')} deliveries`);
  await waitFor('700 deliveries to wide', () => deliveredTo('wide') >= 700, 60_000, 20);
  // preferably an emitter holding both wide and paced, so that both meet the stale holder
  const frozen = (await holderOfBoth(wide, paced, 3000)) ?? (await holderProcess(wide));
  frozen.pause();
  const held = (await fleet.client.request<{ data: { receiverId: string; emitterId: string }[] }>('GET', '/v1/locks')).body.data;
  const names = new Map([
    [wide, 'wide'],
    [paced, 'paced'],
    [single, 'single'],
  ]);
  const heldByFrozen = held.filter((h) => h.emitterId === frozen.env.LOCKSTEP_EMITTER_ID).map((h) => names.get(h.receiverId));
  t.diagnostic(`SIGSTOPped ${frozen.env.LOCKSTEP_EMITTER_ID} holding ${[...new Set(heldByFrozen)].join(', ')} for ${TTL_MS + 1000} ms`);
  await new Promise((resolve) => setTimeout(resolve, TTL_MS + 1000));
  frozen.resume();

  await waitFor(
    'every delivery',
    () => deliveredTo('wide') === wideIds.length && deliveredTo('paced') === pacedIds.length && deliveredTo('single') === singleIds.length,
    120_000,
    250,
  );

  // maxInFlight 4: reached, never passed; fences the receiver saw never went down
  t.diagnostic(`wide: peak ${receiver.peakInFlightTo('wide')} in flight, ${receiver.for('wide').length} requests`);
  // past the peak, what was in flight: fences (which holders), starts, and whether a sender had closed its connection
  for (const overlap of receiver.overlaps.filter((o) => o.receiver === 'wide' && o.others.length >= 4)) {
    const others = overlap.others.map((o) => `fence ${o.fence} from ${o.start}${o.closedAt === undefined ? '' : `, closed ${o.closedAt}`}`);
    t.diagnostic(`wide: fence ${overlap.fence} began at ${overlap.at} beside ${others.join('; ')}`);
  }
  assert.equal(receiver.peakInFlightTo('wide'), 4, 'wide: 4 in flight at the peak, never 5');
  // first attempts start in acceptance order; their arrivals over 4 connections may swap only among requests in flight together
  const firstArrival = [
    ...new Set(
      receiver
        .for('wide')
        .sort((a, b) => a.seq - b.seq)
        .map((r) => r.messageId),
    ),
  ];
  const displacement = Math.max(...wideIds.map((id, i) => Math.abs(firstArrival.indexOf(id) - i)));
  assert.ok(displacement < 4, `wide: a first attempt arrived ${displacement} places from its acceptance order`);

  // the rate limit, over every pair of arrivals, and the rate it still reaches
  const pacedAt = receiver.for('paced').map((r) => r.start);
  const worst = worstRateExcess(pacedAt, 20, 5, JITTER_MS);
  const reached = bestRate(pacedAt, 3000);
  t.diagnostic(
    `paced: worst pair ${worst.count} requests in ${worst.windowMs} ms (excess ${worst.excess.toFixed(2)}); best 3 s: ${reached.toFixed(1)}/s; peak ${receiver.peakInFlightTo('paced')} in flight`,
  );
  assert.ok(worst.excess <= 0, `paced: ${worst.count} requests within ${worst.windowMs} ms exceed 5 + 20·t`);
  assert.ok(reached >= 18, `paced: reached only ${reached.toFixed(1)}/s over its best 3 s`);
  assert.ok(receiver.peakInFlightTo('paced') <= 2, 'paced: never more than its maxInFlight 2');

  // maxInFlight 1: today's guarantees
  assert.equal(receiver.peakInFlightTo('single'), 1, 'single: never two at once');
  const singleFirst = [
    ...new Set(
      receiver
        .for('single')
        .sort((a, b) => a.seq - b.seq)
        .map((r) => r.messageId),
    ),
  ];
  assert.deepEqual(singleFirst, singleIds, 'single: first attempts in acceptance order');
  assert.deepEqual(receiver.staleFences, [], 'no receiver saw a fence lower than one it had seen');
  for (const name of ['wide', 'paced', 'single']) {
    const requests = receiver.for(name).sort((a, b) => a.seq - b.seq);
    for (let k = 1; k < requests.length; k++) assert.ok((requests[k]?.fence ?? 0) >= (requests[k - 1]?.fence ?? 0), `${name}: fences never decrease`);
  }
});

test('lowering maxInFlight or the rate by PATCH takes effect within one turn', async (t) => {
  const { receiver, client } = fleet;
  const turnMs = 2000; // LOCKSTEP_MAX_TURN_MS's default: a turn is over by then
  receiver.set('shrink', { delayMs: 30 });
  receiver.set('slow-down', { delayMs: 2 });
  const shrink = (await client.createReceiver({ url: receiver.url('shrink'), maxInFlight: 4 })).id;
  const slowDown = (await client.createReceiver({ url: receiver.url('slow-down'), rateLimitPerSecond: 50 })).id;
  await queueFor(client, shrink, 400);
  await queueFor(client, slowDown, 400);
  await waitFor('4 in flight to shrink', () => receiver.peakInFlightTo('shrink') === 4, 30_000, 5);
  await waitFor('50 requests to slow-down', () => receiver.for('slow-down').length >= 50, 30_000, 5);

  const patched = Date.now();
  assert.equal((await client.request('PATCH', `/v1/receivers/${shrink}`, { maxInFlight: 1 })).status, 200);
  assert.equal((await client.request('PATCH', `/v1/receivers/${slowDown}`, { rateLimitPerSecond: 5 })).status, 200);
  const from = patched + turnMs;
  await new Promise((resolve) => setTimeout(resolve, turnMs + 3000));

  const after = peakConcurrency(receiver.for('shrink'), from);
  const laterStarts = receiver
    .for('slow-down')
    .map((r) => r.start)
    .filter((at) => at >= from);
  const worst = worstRateExcess(laterStarts, 5, 1, JITTER_MS);
  t.diagnostic(
    `shrink: peak ${after} in flight after the turn; slow-down: ${laterStarts.length} requests in 3 s after it, worst excess ${worst.excess.toFixed(2)}`,
  );
  assert.ok(
    receiver.for('shrink').some((r) => r.start >= from),
    'shrink: still sending',
  );
  assert.equal(after, 1, 'shrink: one at a time a turn after the PATCH');
  assert.ok(laterStarts.length >= 10, `slow-down: still sending (${laterStarts.length})`);
  assert.ok(worst.excess <= 0, `slow-down: ${worst.count} requests within ${worst.windowMs} ms exceed 1 + 5·t`);
});
