import { TrackedLock } from './tracked-lock.js';
import { emptyLockStats, type HeldLock, type LockLostCause, type LockStats } from './types.js';

/**
 * The locks one process holds, shared bookkeeping for every backend: creates each lock's local
 * half, forgets it when it is lost, and keeps the operation counters.
 */
export class HeldLockRegistry {
  private readonly counters = emptyLockStats();
  private readonly held = new Map<string, TrackedLock>();

  constructor(private readonly ttlMs: number) {}

  get size(): number {
    return this.held.size;
  }

  all(): TrackedLock[] {
    return [...this.held.values()];
  }

  get(receiverId: string): TrackedLock | undefined {
    return this.held.get(receiverId);
  }

  /** Counts an acquire attempt; refuses a receiver this process already holds. */
  attempting(receiverId: string): void {
    if (this.held.has(receiverId)) throw new Error(`this process already holds ${receiverId}`);
    this.counters.acquireAttempts++;
  }

  /** Tracks a lock just taken; `acquireSentAt` is on the monotonic clock. */
  add(receiverId: string, fence: number, acquireSentAt: number): TrackedLock {
    const lock = new TrackedLock(receiverId, fence, this.ttlMs, acquireSentAt, (lost, cause) => this.forget(lost, cause));
    this.held.set(receiverId, lock);
    this.counters.acquired++;
    return lock;
  }

  /** Stops tracking `lock` for a release; false when it is not (or no longer) ours. */
  releasing(lock: HeldLock): lock is TrackedLock {
    const tracked = this.held.get(lock.receiverId);
    if (tracked !== lock) return false;
    this.held.delete(lock.receiverId);
    tracked.lose('released');
    this.counters.releases++;
    return true;
  }

  /** A renewal sent at `sentAt` (monotonic) succeeded for every lock in `locks`. */
  renewed(locks: TrackedLock[], sentAt: number): void {
    this.counters.renewals++;
    for (const lock of locks) lock.confirmed(sentAt);
  }

  loseAll(cause: LockLostCause): void {
    for (const lock of this.all()) lock.lose(cause);
  }

  stats(): LockStats {
    return structuredClone(this.counters);
  }

  private forget(lock: TrackedLock, cause: LockLostCause): void {
    if (cause !== 'released') this.counters.lost[cause]++;
    if (this.held.get(lock.receiverId) === lock) this.held.delete(lock.receiverId);
  }
}
