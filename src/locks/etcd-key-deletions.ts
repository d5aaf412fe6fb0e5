import type { Etcd3, Watcher } from 'etcd3';
import { sleep, withLinkedSignal } from '../lib/abort.js';

/**
 * Wakes a waiter when a busy receiver's key is deleted: one watch per `acquire()` call, started at
 * the revision of the first transaction that found the key taken, so no deletion in between is
 * missed. It is created only once the caller really waits (an acquire with `waitMs: 0` costs no
 * watch), in the background: until it runs, the waiter's poll still ticks.
 */
export class KeyDeletions {
  private fromRevision: number | undefined;
  private watcher: Promise<Watcher | undefined> | undefined;
  private deletions = 0;
  private seen = 0;
  private wake: (() => void) | undefined;
  private closed = false;

  constructor(
    private readonly client: Etcd3,
    private readonly key: string,
  ) {}

  /** Notes that the key was taken at `revision` (the first time counts); returns null, "busy", for the caller to return. */
  after(revision: number): null {
    this.fromRevision ??= revision;
    return null;
  }

  /** Resolves on the next deletion (at once if one came since the last wait), after `ms`, or on `signal`. */
  async wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
    this.watch();
    if (this.deletions === this.seen) {
      const woken = new AbortController();
      this.wake = () => woken.abort();
      await withLinkedSignal([signal, woken.signal], (stop) => sleep(ms, stop));
      this.wake = undefined;
    }
    this.seen = this.deletions;
  }

  close(): void {
    this.closed = true;
    void this.watcher?.then((watcher) => watcher?.cancel()).catch(() => {});
  }

  private watch(): void {
    if (this.watcher || this.fromRevision === undefined) return;
    this.watcher = this.client
      .watch()
      .key(this.key)
      .startRevision(String(this.fromRevision + 1))
      .create()
      .then((watcher) => {
        watcher.on('delete', () => {
          this.deletions++;
          this.wake?.();
        });
        if (this.closed) void watcher.cancel().catch(() => {});
        return watcher;
      })
      .catch(() => undefined);
  }
}
