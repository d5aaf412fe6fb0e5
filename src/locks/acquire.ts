import { monotonicNow } from './clock.js';
import type { AcquireOptions, HeldLock } from './types.js';

/**
 * The acquire loop every backend shares: try, and while the receiver is busy wait for the
 * backend's release notification (or a poll tick, for expiries nobody announces), until
 * `waitMs` has passed or the signal aborts.
 */
export async function acquireWithin(
  tryOnce: () => Promise<HeldLock | null>,
  waitForRelease: (ms: number, signal: AbortSignal | undefined) => Promise<void>,
  { waitMs, signal }: AcquireOptions,
  pollMs: number,
): Promise<HeldLock | null> {
  const giveUpAt = monotonicNow() + waitMs;
  for (;;) {
    const lock = await tryOnce();
    if (lock) return lock;
    const remaining = giveUpAt - monotonicNow();
    if (remaining <= 0 || signal?.aborted) return null;
    await waitForRelease(Math.min(pollMs, remaining), signal);
  }
}

/**
 * At most one acquire attempt per receiver at a time in this process; an overlapping one is
 * answered "busy" (null) without asking the lock service. Session-based services need this: a
 * Consul acquire is re-entrant for its own session (both attempts would win), and the clean-up
 * after a failed attempt deletes "our" key, which must not be a key the other attempt just took.
 */
export class AttemptGuard {
  private readonly inFlight = new Set<string>();

  async run<T>(receiverId: string, attempt: () => Promise<T | null>): Promise<T | null> {
    if (this.inFlight.has(receiverId)) return null;
    this.inFlight.add(receiverId);
    try {
      return await attempt();
    } finally {
      this.inFlight.delete(receiverId);
    }
  }
}
