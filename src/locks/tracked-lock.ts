import { monotonicNow } from './clock.js';
import { deadlineMargin, LockLostError, lostCause, type HeldLock, type LockLostCause } from './types.js';

/**
 * The local half of a held lock, shared by every backend: the `lost` signal and the local
 * deadline. A backend calls `confirmed(sentAt)` after each successful renewal (passing the time
 * the renewal was SENT, the conservative end) and `lose(cause)` when the service says the key is
 * gone. The deadline fires on its own timer, and `isHeld()` also reads the clock, so a process
 * that wakes from a pause sees the lock as lost before any timer has had a chance to run. Every
 * time here is on the monotonic clock (see clock.ts).
 */
export class TrackedLock implements HeldLock {
  readonly since = new Date();
  private readonly controller = new AbortController();
  private readonly margin: number;
  private expiresAt: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly receiverId: string,
    readonly fence: number,
    private readonly ttlMs: number,
    acquireSentAt: number,
    private readonly onLost: (lock: TrackedLock, cause: LockLostCause) => void = () => {},
  ) {
    this.margin = deadlineMargin(ttlMs);
    this.expiresAt = acquireSentAt + ttlMs - this.margin;
    this.arm();
  }

  get lost(): AbortSignal {
    return this.controller.signal;
  }

  deadline(): number {
    return this.expiresAt;
  }

  isHeld(): boolean {
    if (this.controller.signal.aborted) return false;
    if (monotonicNow() >= this.expiresAt) {
      this.lose('deadline');
      return false;
    }
    return true;
  }

  /** A renewal sent at `sentAt` was confirmed by the lock service: push the deadline out. */
  confirmed(sentAt: number): void {
    if (this.controller.signal.aborted) return;
    const next = sentAt + this.ttlMs - this.margin;
    if (next > this.expiresAt) {
      this.expiresAt = next;
      this.arm();
    }
  }

  lose(cause: LockLostCause): void {
    if (this.controller.signal.aborted) return;
    clearTimeout(this.timer);
    this.controller.abort(new LockLostError(this.receiverId, cause));
    this.onLost(this, cause);
  }

  private arm(): void {
    clearTimeout(this.timer);
    // Node timers may fire a little before performance.now() reaches the target (libuv caches and
    // rounds its loop time): then isHeld() still says true, and the timer must be set again
    this.timer = setTimeout(() => this.isHeld() && this.arm(), Math.max(0, Math.ceil(this.expiresAt - monotonicNow())));
    this.timer.unref();
  }
}

/** Calls `handler` once with the cause when `lock` is lost or released (at once if it already is). */
export function whenLost(lock: HeldLock, handler: (cause: LockLostCause) => void): void {
  const fire = (): void => handler(lostCause(lock) ?? 'shutdown');
  if (lock.lost.aborted) fire();
  else lock.lost.addEventListener('abort', fire, { once: true });
}
