import { idTimestamp } from '../ids.js';
import type { Store } from '../store/index.js';
import type { QueueState } from './types.js';

/** One Redis read per scrape (and per stats request), shared by the queue gauges. */
export class QueueSnapshot {
  private last: { at: number; value: Promise<QueueState> } | undefined;

  constructor(private readonly store: Store) {}

  read(): Promise<QueueState> {
    if (!this.last || Date.now() - this.last.at > 500) this.last = { at: Date.now(), value: queueState(this.store) };
    return this.last.value;
  }
}

async function queueState(store: Store): Promise<QueueState> {
  const { redis, keys } = store;
  const ids = await redis.zrange(keys.receivers, 0, -1);
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.zcard(keys.queue(id)).zcard(keys.dead(id)).hget(keys.receiver(id), 'backoffUntil').zrange(keys.queue(id), 0, 0);
  const replies = (await pipeline.exec()) ?? [];
  const state: QueueState = { depth: { pending: 0, retrying: 0, dead: 0 }, oldestAgeS: { pending: 0, retrying: 0 } };
  const now = Date.now();
  ids.forEach((_, i) => {
    const [depth, dead, backoff, head] = [0, 1, 2, 3].map((k) => replies[i * 4 + k]?.[1]);
    const kind = Number(backoff ?? 0) > now ? 'retrying' : 'pending';
    state.depth[kind] += Number(depth);
    state.depth.dead += Number(dead);
    const oldest = (head as string[] | undefined)?.[0];
    if (oldest) state.oldestAgeS[kind] = Math.max(state.oldestAgeS[kind], (now - idTimestamp(oldest)) / 1000);
  });
  return state;
}
