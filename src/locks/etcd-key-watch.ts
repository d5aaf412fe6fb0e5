import { sleep, withLinkedSignal } from '../lib/abort.js';
import type { EtcdKeyFeed, KeyChange } from './etcd-key-feed.js';
import { whenLost, type TrackedLock } from './tracked-lock.js';

/**
 * One acquire's view of its receiver's key, from the process's key feed. It subscribes before the
 * first transaction, so no change after that transaction is missed, even one the feed hands on
 * before the transaction's answer arrives. While the key is taken, its deletion after the latest
 * transaction that found it so wakes the waiter (the waiter's poll stays as a backstop). Once the
 * key is ours, any change after our put other than by our lease loses the lock at once ('stolen').
 */
export class KeyWatch {
  private readonly unsubscribe: () => void;
  /** The revision of the latest transaction that found the key taken. */
  private busyAt = Number.POSITIVE_INFINITY;
  /** The latest change the feed handed on. */
  private latest: KeyChange | undefined;
  private wake: (() => void) | undefined;
  private held: { lock: TrackedLock; lease: string } | undefined;

  constructor(feed: EtcdKeyFeed, key: string) {
    this.unsubscribe = feed.subscribe(key, (change) => this.changed(change));
  }

  /** Notes that a transaction at `revision` found the key taken; returns null, "busy", for the caller to return. */
  busy(revision: number): null {
    this.busyAt = revision;
    return null;
  }

  /** Resolves on a deletion after the latest busy answer (at once if one came already), after `ms`, or on `signal`. */
  async wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.freed()) return;
    const woken = new AbortController();
    this.wake = () => woken.abort();
    await withLinkedSignal([signal, woken.signal], (stop) => sleep(ms, stop));
    this.wake = undefined;
  }

  /** The key is ours under `lease` since `lock.fence`: from now on, watch it for `lock` until it is lost. */
  hold(lock: TrackedLock, lease: string): void {
    this.held = { lock, lease };
    whenLost(lock, this.unsubscribe);
    // a change the feed handed on before the transaction's answer: only the latest can be after our put
    if (this.latest) this.changed(this.latest);
  }

  /** The acquire is over: unsubscribes, unless the key is now held. */
  close(): void {
    if (!this.held) this.unsubscribe();
  }

  private changed(change: KeyChange): void {
    this.latest = change;
    if (this.held) {
      const { lock, lease } = this.held;
      if (change.revision > lock.fence && (change.type === 'delete' || change.lease !== lease)) lock.lose('stolen');
    } else if (this.freed()) this.wake?.();
  }

  /** The key was deleted after the latest transaction that found it taken, and not taken since. */
  private freed(): boolean {
    return this.latest?.type === 'delete' && this.latest.revision > this.busyAt;
  }
}
