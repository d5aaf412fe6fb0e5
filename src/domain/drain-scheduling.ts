import type { DomainLog } from './log.js';
import type { Store } from '../store/index.js';

/** How long an accept may wait for its drain jobs to be queued before leaving that to the reconciler. */
const SCHEDULE_TIMEOUT_MS = 1000;

/**
 * The messages are already stored; if queueing their drain jobs fails or stalls now (Redis gone
 * that very moment: BullMQ waits for its connection), the emitters' reconciler queues them later,
 * so the accept stands and is not held up.
 */
export async function scheduleDrains(store: Store, log: DomainLog, receiverIds: string[], { now = false } = {}): Promise<void> {
  if (receiverIds.length === 0) return;
  const ids = [...new Set(receiverIds)];
  // `now`: also for a receiver whose next turn waits in the wake set
  const scheduling = now ? store.drains.wake(ids) : store.drains.schedule(ids);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not queued within ${SCHEDULE_TIMEOUT_MS} ms`)), SCHEDULE_TIMEOUT_MS);
  });
  await Promise.race([scheduling, timeout])
    .catch((error: unknown) => {
      scheduling.catch(() => {}); // it may still fail later; the reconciler covers it either way
      log.warn({ err: error }, 'messages stored but drain jobs not queued; the reconciler will queue them');
    })
    .finally(() => clearTimeout(timer));
}
