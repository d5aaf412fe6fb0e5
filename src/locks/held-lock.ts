import { deadlineMargin, emptyLockStats, LockLostError, type AcquireOptions, type HeldLock, type LockLostCause, type LockStats } from './types.js';

/**
 * The local half of a held lock, shared by every backend: the `lost` signal and the local
 * deadline. A backend calls `confirmed(sentAt)` after each successful renewal (passing the time
 * the renewal was SENT, the conservative end) and `lose(cause)` when the service says the key is
 * gone. The deadline fires on its own timer, and `isHeld()` also reads the clock, so a process
 * that wakes from a pause sees the lock as lost before any timer has had a chance to run.
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
    if (Date.now() >= this.expiresAt) {
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
    // Node timers may fire a millisecond or so before Date.now() reaches the target (libuv caches
    // and rounds its loop time): then isHeld() still says true, and the timer must be set again
    this.timer = setTimeout(() => this.isHeld() && this.arm(), Math.max(0, this.expiresAt - Date.now()));
    this.timer.unref();
  }
}

/** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

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

  /** A renewal sent at `sentAt` succeeded for every lock in `locks`. */
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
  const giveUpAt = Date.now() + waitMs;
  for (;;) {
    const lock = await tryOnce();
    if (lock) return lock;
    const remaining = giveUpAt - Date.now();
    if (remaining <= 0 || signal?.aborted) return null;
    await waitForRelease(Math.min(pollMs, remaining), signal);
  }
}

/** Calls `handler` once with the cause when `lock` is lost or released (at once if it already is). */
export function whenLost(lock: HeldLock, handler: (cause: LockLostCause) => void): void {
  const fire = (): void => handler(lock.lost.reason instanceof LockLostError ? lock.lost.reason.reason : 'shutdown');
  if (lock.lost.aborted) fire();
  else lock.lost.addEventListener('abort', fire, { once: true });
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

/** What `SessionKeeper` needs of a backend's session (an etcd lease, a Consul session). */
export interface LockSession {
  /** When the newest renewal the lock service confirmed was SENT; at first, when the session was requested. */
  confirmedAt: number;
  /** Set once the session is given up; it is never used again. */
  abandoned: boolean;
}

/**
 * The ONE session a process takes its keys under, for lock services where keys live as long as a
 * session does (etcd, Consul). Invariant: every lock in the registry was taken under the current
 * session. Giving a session up loses every lock at once and ends it at the service (revoke,
 * destroy): otherwise, after a failed renewal that the service never noticed, our keys would stay
 * taken, held by no lock object, for as long as the session is kept alive. The next acquire opens
 * a new session.
 *
 * A lock's local deadline counts from the session's last confirmed renewal, not from the acquire:
 * the service drops the key when the SESSION expires, however recently the key was written.
 */
export class SessionKeeper<S extends LockSession> {
  private current: S | undefined;
  private opening: Promise<S> | undefined;
  private closed = false;

  constructor(
    private readonly held: HeldLockRegistry,
    private readonly open: () => Promise<S>,
    private readonly end: (session: S) => Promise<void>,
  ) {}

  /** The live session, if there is one, without opening one. */
  get live(): S | undefined {
    return this.current;
  }

  /** The live session, opened on first use and again after one was given up. */
  session(): Promise<S> {
    if (this.closed) return Promise.reject(new Error('lock backend closed'));
    if (this.current) return Promise.resolve(this.current);
    this.opening ??= this.openOne().finally(() => (this.opening = undefined));
    return this.opening;
  }

  /**
   * Runs `use` with the live session. When the service answers that it no longer knows that
   * session (`isGone`: revoked, expired or destroyed behind our back), the session is given up
   * ('renewal-refused') and `use` runs once more with a new one, instead of failing every acquire
   * until the next renewal notices.
   */
  async withSession<T>(use: (session: S) => Promise<T>, isGone: (error: unknown) => boolean): Promise<T> {
    const session = await this.session();
    try {
      return await use(session);
    } catch (error) {
      if (!isGone(error)) throw error;
      await this.abandon(session, 'renewal-refused');
      return use(await this.session());
    }
  }

  /** Tracks a lock just taken under `session`; null when the session was given up meanwhile (its end freed the key). */
  add(session: S, receiverId: string, fence: number): TrackedLock | null {
    if (session !== this.current) return null;
    const lock = this.held.add(receiverId, fence, session.confirmedAt);
    // a lock's deadline passing means the session's renewals stopped arriving: none of its locks is safe
    whenLost(lock, (cause) => void (cause === 'deadline' && this.abandon(session, 'deadline')));
    return lock;
  }

  /** A renewal of `session` sent at `sentAt` was confirmed: every held lock's deadline moves out. */
  renewed(session: S, sentAt: number): void {
    if (session !== this.current) return;
    session.confirmedAt = Math.max(session.confirmedAt, sentAt);
    this.held.renewed(this.held.all(), sentAt);
  }

  /** Gives `session` up (idempotent): its locks are lost with `cause`, then the service is told to end it. */
  async abandon(session: S, cause: LockLostCause): Promise<void> {
    if (session.abandoned) return;
    session.abandoned = true;
    if (this.current === session) {
      this.current = undefined;
      this.held.loseAll(cause);
    }
    await this.end(session).catch(() => {}); // unreachable service: the session's TTL ends it
  }

  /** Opens no session any more, lets `releaseAll` release the held keys, then ends the session. */
  async close(releaseAll: () => Promise<void>): Promise<void> {
    this.closed = true;
    await this.opening?.catch(() => {});
    await releaseAll();
    if (this.current) await this.abandon(this.current, 'shutdown');
  }

  private async openOne(): Promise<S> {
    const session = await this.open();
    if (session.abandoned || this.closed) {
      await this.abandon(session, 'shutdown');
      throw new Error('lock session lost, or the backend closed, while it was being opened');
    }
    this.current = session;
    return session;
  }
}
