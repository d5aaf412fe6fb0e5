import { lockBackendError } from './failure.js';
import type { HeldLockRegistry } from './registry.js';
import { whenLost, type TrackedLock } from './tracked-lock.js';
import type { LockLostCause } from './types.js';

/** What `SessionKeeper` needs of a backend's session (an etcd lease, a Consul session). */
export interface LockSession {
  /** When the newest renewal the lock service confirmed was SENT (monotonic); at first, when the session was requested. */
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
    if (this.closed) return Promise.reject(lockBackendError('lock backend closed'));
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

  /** A renewal of `session` sent at `sentAt` (monotonic) was confirmed: every held lock's deadline moves out. */
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
      throw lockBackendError('lock session lost, or the backend closed, while it was being opened');
    }
    this.current = session;
    return session;
  }
}
