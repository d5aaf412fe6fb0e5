import type { ReceiverLocks } from '../locks/types.js';
import { notFound } from '../errors.js';
import type { ReceiverView, Store } from '../store/index.js';
import type { DomainLog } from './log.js';

/**
 * Deletes of one receiver in this process, one after another. This process has one lock session,
 * and one session can hold a receiver only once: two deletes racing for the lock would collide
 * inside it. So a delete that finds another one of the same receiver under way waits for it, then
 * runs from the start: it finds the receiver gone (not found), or deletes it if the earlier one
 * failed. Deletes in different processes are kept apart by the lock itself.
 */
export class DeleteQueue {
  private readonly running = new Map<string, Promise<unknown>>();

  async run<T>(receiverId: string, remove: () => Promise<T>): Promise<T> {
    for (let earlier = this.running.get(receiverId); earlier; earlier = this.running.get(receiverId)) await earlier.catch(() => {});
    const removal = remove();
    this.running.set(receiverId, removal);
    try {
      return await removal;
    } finally {
      if (this.running.get(receiverId) === removal) this.running.delete(receiverId);
    }
  }
}

/**
 * Deletion holds the receiver's lock for the moment of the delete, so no emitter is sending to it
 * when the delete returns. The receiver is first marked as being deleted, so its holder's turn ends
 * after its in-flight request and no other emitter starts one while we wait. A receiver that is
 * gone at any step (another process deleted it meanwhile) is not found, as for a delete that came after.
 * Returns the receiver as it was.
 */
export async function deleteUnderLock(store: Store, locks: ReceiverLocks, log: DomainLog, id: string): Promise<ReceiverView> {
  const receiver = await store.receivers.get(id);
  if (!receiver || !(await store.receivers.markDeleting(id))) throw notFound(`receiver ${id}`);
  const lock = await locks.acquire(id, { waitMs: receiver.timeoutMs + 5000 });
  if (!lock) log.warn({ receiverId: id }, 'could not take the receiver lock for delete in time; deleting anyway');
  let deleted: boolean;
  try {
    deleted = await store.receivers.delete(id);
  } finally {
    if (lock) await locks.release(lock);
  }
  if (!deleted) throw notFound(`receiver ${id}`);
  log.info({ receiverId: id }, 'receiver deleted');
  return receiver;
}
