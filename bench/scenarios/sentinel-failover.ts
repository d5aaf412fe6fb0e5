// Sentinel failover: Redis is a master with 2 replicas and 3 sentinels (master declared down after
// 1 s), Lockstep runs with LOCKSTEP_REDIS_MIN_REPLICAS at its Sentinel default (1); one producer
// posts for one receiver without pause while 2 emitters deliver. kill -9 the master. Figures: kill →
// the first 202 of a request sent after the kill, and kill → the first arrival of a message such a
// request got accepted. A request in flight at the kill does not count: its write may have reached
// master and replica before it, so its 202 (or its delivery) says nothing of the failover. The notes
// say when the sentinels named the new master and whether every 202 arrived.
import type { ApiClient } from '../../test/support/lockstep.js';
import type { SentinelSet } from '../../test/support/sentinel.js';
import { waitFor } from '../../test/support/ports.js';
import { now, sleep } from '../clock.js';
import type { BackendScenario } from '../context.js';
import { limitRow } from '../report.js';
import { Stack } from '../stack.js';

/** The sentinels' down-after-milliseconds of the harness, and what a failover may take beyond it. */
const DOWN_AFTER_MS = 1000;
const TARGET_MS = 5000;

interface Accepted {
  id: string;
  /** When the request left, and when its 202 came back. */
  sentAt: number;
  at: number;
}

/** Posts until `running()` is false; every 202 with the times of its request and its answer. */
async function produce(client: ApiClient, receiverId: string, running: () => boolean): Promise<Accepted[]> {
  const accepted: Accepted[] = [];
  for (let n = 0; running(); n++) {
    const sentAt = now();
    const response = await client
      .request<{ id: string }>('POST', '/v1/messages', { eventType: 'bench.sentinel', payload: { n }, receiverIds: [receiverId] })
      .catch(() => ({ status: 0, body: { id: '' } }));
    if (response.status === 202) accepted.push({ id: response.body.id, sentAt, at: now() });
    else await sleep(5); // a 503 comes back at once: do not spin
  }
  return accepted;
}

export const sentinelFailover: BackendScenario = async (ctx, backend) => {
  const { receiver } = ctx;
  const stack = await Stack.startOnSentinel(backend, { LOCKSTEP_LOCK_TTL_MS: '2000', LOCKSTEP_RECONCILE_EVERY_MS: '1000' });
  const sentinel = stack.ha.sentinel as SentinelSet;
  try {
    const client = await stack.api();
    const { id } = await client.createReceiver({ url: receiver.url('sentinel'), eventTypes: ['bench.sentinel'] });
    await stack.startEmitters(2);
    await receiver.reset();
    let running = true;
    const producing = produce(client, id, () => running);
    await sleep(2000);
    // The figures count from the call (so they are never shortened by the call's own time); only
    // requests sent once it returned, when the old master was surely dead, count as after the kill.
    const killedAt = now();
    const killedPort = await sentinel.killMaster();
    const deadAt = now();
    await waitFor('a new master', async () => (await sentinel.masterPort()) !== killedPort, 20_000, 20);
    const promotedMs = now() - killedAt;
    await sleep(TARGET_MS + 2000);
    running = false;
    const accepted = await producing;
    const after = accepted.filter(({ sentAt }) => sentAt > deadAt);
    const afterIds = new Set(after.map(({ id: messageId }) => messageId));
    await waitFor(
      'every 202 to arrive',
      async () => {
        const arrived = new Set((await receiver.arrivals()).id);
        return accepted.every(({ id: messageId }) => arrived.has(messageId));
      },
      30_000,
      250,
    ).catch(() => {});
    const arrivals = await receiver.arrivals();
    const arrived = new Set(arrivals.id);
    const missing = accepted.filter(({ id: messageId }) => !arrived.has(messageId)).length;
    const firstAcceptedMs = (after[0]?.at ?? NaN) - killedAt;
    const firstDeliveredMs = Math.min(...arrivals.at.filter((_, i) => afterIds.has(arrivals.id[i] as string))) - killedAt;
    const notes = `sentinels named the new master ${promotedMs.toFixed(0)} ms after the kill (down-after ${DOWN_AFTER_MS} ms); ${accepted.length} accepted (${after.length} sent after the kill), ${missing} of them not delivered`;
    const row = (what: string, figure: number) =>
      limitRow({
        scenario: `sentinel failover: kill -9 the master → ${what}`,
        backend,
        figure: missing === 0 ? figure : NaN,
        unit: 'ms',
        baseline: DOWN_AFTER_MS,
        baselineLabel: 'down-after',
        target: `≤ ${TARGET_MS / 1000} s, every 202 delivered`,
        limit: TARGET_MS,
        notes,
      });
    return [row('first 202', firstAcceptedMs), row('first delivery of a message accepted after it', firstDeliveredMs)];
  } finally {
    await stack.stop();
  }
};
