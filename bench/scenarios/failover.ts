// Failover: a backlog for one receiver, 2 emitters, lock TTL 2 s. Freeze (SIGSTOP) the emitter that
// holds the receiver, confirm in /v1/locks that it still holds it with the same fence (so it did not
// hand over between the look-up and the freeze), then kill -9 it. Figure: time from the freeze to
// the first arrival sent under a newer fence, i.e. by the surviving emitter; the worst of a few
// kills (a replacement emitter is started after each), since it depends on when the victim last
// renewed its session.
import type { ApiClient } from '../../test/support/lockstep.js';
import { waitFor } from '../../test/support/ports.js';
import { now, sleep } from '../clock.js';
import { SHORT_TTL_MS, type BackendScenario, type BenchContext } from '../context.js';
import { enqueue } from '../enqueue.js';
import { limitRow } from '../report.js';
import { Stack, type BenchEmitter } from '../stack.js';

interface Holder {
  receiverId: string;
  emitterId: string;
  fence: number;
}

async function holderOf(client: ApiClient, receiverId: string): Promise<Holder | undefined> {
  const { body } = await client.request<{ data: Holder[] }>('GET', '/v1/locks');
  return body.data.find((holder) => holder.receiverId === receiverId);
}

/** Freezes the holder of `receiverId` while it provably holds it; returns it, its fence and when. */
async function freezeHolder(
  client: ApiClient,
  receiverId: string,
  emitters: BenchEmitter[],
): Promise<{ victim: BenchEmitter; fence: number; frozenAt: number } | undefined> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const holder = await holderOf(client, receiverId);
    const victim = emitters.find((emitter) => emitter.id === holder?.emitterId);
    if (holder && victim) {
      victim.process.pause();
      const frozenAt = now();
      const still = await holderOf(client, receiverId);
      if (still?.emitterId === holder.emitterId && still.fence === holder.fence) return { victim, fence: holder.fence, frozenAt };
      victim.process.resume();
    }
    await sleep(20);
  }
  return undefined;
}

/** One kill: freeze and kill the holder, wait for a newer fence to arrive; returns ms from freeze to it. */
async function killHolder(ctx: BenchContext, client: ApiClient, receiverId: string, emitters: BenchEmitter[]): Promise<{ resumeMs: number; stale: number }> {
  const frozen = await freezeHolder(client, receiverId, emitters);
  if (!frozen) throw new Error('could not catch an emitter holding the receiver');
  frozen.victim.process.kill('SIGKILL');
  let resumedAt = NaN;
  let stale = 0;
  await waitFor(
    'deliveries to resume under a newer fence',
    async () => {
      const { at, fence } = await ctx.receiver.arrivals();
      const after = at.map((t, i) => ({ t, fence: fence[i] as number })).filter(({ t }) => t > frozen.frozenAt);
      stale = after.filter(({ fence: f }) => f <= frozen.fence).length;
      resumedAt = after.find(({ fence: f }) => f > frozen.fence)?.t ?? NaN;
      return Number.isFinite(resumedAt);
    },
    SHORT_TTL_MS + 20_000,
    50,
  );
  return { resumeMs: resumedAt - frozen.frozenAt, stale };
}

export const failover: BackendScenario = async (ctx, backend) => {
  const { receiver, sizes } = ctx;
  const stack = await Stack.start(backend, { LOCKSTEP_LOCK_TTL_MS: String(SHORT_TTL_MS) });
  try {
    const client = await stack.api();
    const { id } = await client.createReceiver({ url: receiver.url('failover'), eventTypes: ['bench.failover'] });
    await enqueue(
      client,
      Array.from({ length: sizes.failoverMessages }, (_, n) => ({ eventType: 'bench.failover', payload: { n }, receiverIds: [id] })),
    );
    await receiver.reset();
    await stack.startEmitters(2);
    const kills: { resumeMs: number; stale: number }[] = [];
    for (let round = 0; round < sizes.failoverRounds; round++) {
      if (round > 0) await stack.startEmitters(1); // back to two live emitters
      const { count } = await receiver.stats();
      await receiver.waitForCount(count + 200, 60_000, 'deliveries to flow');
      kills.push(await killHolder(ctx, client, id, stack.emitters));
      ctx.log(`  kill ${round + 1}: resumed after ${kills.at(-1)?.resumeMs.toFixed(0)} ms`);
    }
    const worst = Math.max(...kills.map((k) => k.resumeMs));
    return [
      limitRow({
        scenario: `failover: kill -9 the holder (TTL ${SHORT_TTL_MS / 1000} s)`,
        backend,
        figure: worst,
        unit: 'ms to resume',
        baseline: SHORT_TTL_MS,
        baselineLabel: 'lock TTL',
        target: '≤ TTL + 1 s',
        limit: SHORT_TTL_MS + 1000,
        notes:
          `worst of ${kills.length} kills (all: ${kills.map((k) => k.resumeMs.toFixed(0)).join(', ')} ms), ` +
          `each from SIGSTOP (then SIGKILL) of the holder to the first arrival with a newer fence; ` +
          `${kills.reduce((n, k) => n + k.stale, 0)} arrival(s) of killed holders landed after their freeze`,
      }),
    ];
  } finally {
    await stack.stop();
  }
};
