import { sleep, withLinkedSignal } from '../lib/abort.js';
import { acquireWithin, AttemptGuard } from './acquire.js';
import { consulRenewEveryMs, consulSessionTtlS, CONSUL_MIN_SESSION_TTL_S, requestTimeoutMs } from './cadence.js';
import { monotonicNow } from './clock.js';
import { ConsulClient, ConsulError, REQUEST_TIMEOUT_MS, sessionGone, type KeyRead, type KvEntry } from './consul-client.js';
import { HeldLockRegistry } from './registry.js';
import { SessionKeeper, type LockSession } from './session-keeper.js';
import { holdersByReceiver } from './slots.js';
import type { TrackedLock } from './tracked-lock.js';
import type { AcquireOptions, HeldLock, LockBackendOptions, LockHolder, LockStats, ReceiverLocks } from './types.js';

/**
 * Lock-delay after our session is invalidated. Consul's 15 s default exists to keep a stale holder
 * out; here fences and the local deadline (which has already stopped us) do that, so a short delay
 * only adds a last margin to failover. Clean releases never trigger it.
 */
const LOCK_DELAY = '1s';
/** While a free key refuses us (its lock-delay, which ends without any write to wake us), retry this often. */
const LOCK_DELAY_RETRY_MS = 250;
/** Blocking queries on held keys: long, but well inside undici's 300 s headers timeout. */
const WATCH_WAIT_MS = 60_000;

interface ConsulSession extends LockSession {
  readonly id: string;
}

export interface ConsulTuning {
  /**
   * The shortest session TTL to ask for, in seconds. Consul servers refuse TTLs under their
   * `session_ttl_min` (10 s unless configured lower); lower this only for a server configured so,
   * or for the test double.
   */
  minSessionTtlS?: number;
}

/**
 * Consul backend, on Consul's documented HTTP API (consul-client.ts). ONE session per process,
 * `Behavior: "delete"` and no health checks (only its TTL ends it, as with the other backends).
 * A receiver is taken with `PUT /v1/kv/<key>?acquire=<session>`; the fence is the key's ModifyIndex,
 * read consistently right after (a Raft index, so it grows across the key being deleted and
 * created again, which LockIndex does not). Waiters and held keys use blocking queries: a held key
 * whose Session changes or that disappears is lost at once ('stolen').
 *
 * Behavior "delete" rather than "release": when a holder dies its key disappears instead of
 * lingering unlocked, so the KV space holds only live locks, and waiters wake the same way. Our
 * own release deletes the key too.
 *
 * TTL: the session TTL is max(Consul's minimum, ceil(lock TTL)), so with a lock TTL under 10 s the
 * session outlives the lock TTL. The local deadline still uses the LOCK TTL (`last confirmed
 * renewal SENT + lock ttl − margin`), as the API promises: the holder stops first, which is safe,
 * and renewals come every min(session TTL / 2, lock TTL / 3) so a healthy holder's deadline keeps
 * moving. The cost is failover after a crash: Consul frees the key when the SESSION expires, and it
 * may expire it up to 2 × its TTL late, so on real Consul a crashed holder's receivers wait 10–20 s
 * (plus the lock-delay), however short the lock TTL is.
 *
 * Loss: a renewal answered 404 (session gone) loses every lock ('renewal-refused'); one that fails
 * otherwise, or a local deadline that passes, loses them all too and the session is destroyed,
 * so its keys do not outlive the locks (see SessionKeeper).
 */
export class ConsulReceiverLocks implements ReceiverLocks {
  readonly backend = 'consul' as const;
  private readonly held: HeldLockRegistry;
  private readonly sessions: SessionKeeper<ConsulSession>;
  private readonly attempts = new AttemptGuard();
  private readonly consul: ConsulClient;
  private readonly sessionTtlS: number;
  private readonly renewEveryMs: number;
  /** Aborts every blocking query when the backend closes. */
  private readonly stopped = new AbortController();
  private heartbeat: NodeJS.Timeout | undefined;
  private renewing = false;

  constructor(
    addr: string,
    private readonly options: LockBackendOptions,
    tuning: ConsulTuning = {},
  ) {
    this.consul = new ConsulClient(addr, requestTimeoutMs(options.ttlMs));
    this.held = new HeldLockRegistry(options.ttlMs);
    this.sessions = new SessionKeeper(
      this.held,
      () => this.createSession(),
      (session) => this.destroySession(session),
    );
    const minSessionTtlS = tuning.minSessionTtlS ?? CONSUL_MIN_SESSION_TTL_S;
    this.sessionTtlS = consulSessionTtlS(options.ttlMs, minSessionTtlS);
    this.renewEveryMs = consulRenewEveryMs(options.ttlMs, minSessionTtlS);
  }

  async start(): Promise<void> {
    await this.sessions.session();
    this.heartbeat = setInterval(() => void this.renew(), this.renewEveryMs);
    this.heartbeat.unref();
  }

  async acquire(receiverId: string, options: AcquireOptions): Promise<HeldLock | null> {
    // the key's deletion wakes a waiter, expiries included: the poll is only a backstop
    const pollMs = Math.max(250, Math.min(5000, this.options.ttlMs));
    const changes = new KeyChanges((index, waitMs, signal) => this.blockingRead(receiverId, index, waitMs, signal));
    return acquireWithin(
      () => this.tryAcquire(receiverId),
      (ms, signal) => changes.wait(ms, signal),
      options,
      pollMs,
    );
  }

  async release(lock: HeldLock): Promise<void> {
    const session = this.sessions.live; // every held lock lives under the live session
    if (!this.held.releasing(lock) || !session) return;
    const key = this.keyPath(lock.receiverId);
    try {
      // One step, and only our own key: the delete applies only while the key is exactly as our
      // acquire wrote it (its ModifyIndex is our fence). Deleting it wakes waiters like a release.
      if (await this.consul.call<boolean>('DELETE', `${key}?cas=${lock.fence}`)) return;
      await this.consul.call('PUT', `${key}?release=${session.id}`); // changed since: release it only if still ours
    } catch {
      await this.sessions.abandon(session, 'renewal-failed'); // else the key would outlive its lock
    }
  }

  async holders(): Promise<LockHolder[]> {
    const prefix = `${this.options.prefix}/locks/`;
    const entries = await this.consul.list(`${this.keyPath('')}?recurse&consistent`);
    return holdersByReceiver(
      entries
        .filter((entry) => entry.Session)
        .map((entry) => ({ name: entry.Key.slice(prefix.length), fence: entry.ModifyIndex, ...decodeHolder(entry.Value) })),
    );
  }

  async ping(): Promise<boolean> {
    // the agent answers "" while the cluster has no leader, and then no lock can be taken
    return this.consul.call<string>('GET', '/v1/status/leader', undefined, 1000).then(
      (leader) => Boolean(leader),
      () => false,
    );
  }

  stats(): LockStats {
    return this.held.stats();
  }

  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    await this.sessions.close(async () => {
      await Promise.all(this.held.all().map((lock) => this.release(lock)));
    });
    this.stopped.abort();
  }

  private async createSession(): Promise<ConsulSession> {
    const sentAt = monotonicNow();
    const { ID } = await this.consul.call<{ ID: string }>('PUT', '/v1/session/create', {
      Name: `lockstep ${this.options.emitterId}`,
      TTL: `${this.sessionTtlS}s`,
      Behavior: 'delete',
      LockDelay: LOCK_DELAY,
      // no serfHealth: only the TTL ends the session (Consul ≥ 1.7 reads an empty Checks as empty NodeChecks)
      Checks: [],
    });
    return { id: ID, confirmedAt: sentAt, abandoned: false };
  }

  private async destroySession(session: ConsulSession): Promise<void> {
    await this.consul.call('PUT', `/v1/session/destroy/${session.id}`);
  }

  private async renew(): Promise<void> {
    const session = this.sessions.live;
    if (this.renewing || !session) return;
    this.renewing = true;
    const sentAt = monotonicNow();
    try {
      await this.consul.call('PUT', `/v1/session/renew/${session.id}`);
      this.sessions.renewed(session, sentAt);
    } catch (error) {
      const gone = error instanceof ConsulError && error.status === 404;
      await this.sessions.abandon(session, gone ? 'renewal-refused' : 'renewal-failed');
    } finally {
      this.renewing = false;
    }
  }

  private async tryAcquire(receiverId: string): Promise<HeldLock | null> {
    this.held.attempting(receiverId);
    return this.attempts.run(receiverId, () => this.sessions.withSession((session) => this.take(session, receiverId), sessionGone));
  }

  /** `?acquire=` then a consistent read of the key, for its ModifyIndex (the fence) and owner. */
  private async take(session: ConsulSession, receiverId: string): Promise<HeldLock | null> {
    const key = this.keyPath(receiverId);
    const holder = { emitterId: this.options.emitterId, since: new Date().toISOString() };
    let entry: KvEntry | undefined;
    try {
      if (!(await this.consul.call<boolean>('PUT', `${key}?acquire=${session.id}`, holder))) return null;
      entry = (await this.read(receiverId)).entry;
    } catch (error) {
      // an acquire we got no answer to may still have been applied: release it if it is ours
      if (!sessionGone(error)) await this.consul.call('PUT', `${key}?release=${session.id}`).catch(() => this.sessions.abandon(session, 'renewal-failed'));
      throw error;
    }
    if (entry?.Session !== session.id) return null; // invalidated in between: not ours any more
    const lock = this.sessions.add(session, receiverId, entry.ModifyIndex);
    if (lock) void this.watchHeld(lock, session, entry.ModifyIndex);
    return lock;
  }

  /** Blocking queries on a held key: it disappearing or changing session means the lock is gone. */
  private async watchHeld(lock: TrackedLock, session: ConsulSession, index: number): Promise<void> {
    let seen = index;
    while (!lock.lost.aborted) {
      try {
        const { entry, index: next } = await this.blockingRead(lock.receiverId, seen, WATCH_WAIT_MS, lock.lost);
        if (entry?.Session !== session.id) return lock.lose('stolen');
        seen = next;
      } catch {
        // unreachable: renewals and the deadline decide
        await withLinkedSignal([lock.lost, this.stopped.signal], (stop) => sleep(LOCK_DELAY_RETRY_MS, stop));
        if (this.stopped.signal.aborted) return;
      }
    }
  }

  private read(receiverId: string): Promise<KeyRead> {
    return this.consul.readKey(`${this.keyPath(receiverId)}?consistent`, 0);
  }

  /** `GET ?index=N&wait=…`: answers once the key changed after index N, or when the wait ends. */
  private blockingRead(receiverId: string, index: number, waitMs: number, signal: AbortSignal | undefined): Promise<KeyRead> {
    const query = index > 0 ? `?index=${index}&wait=${Math.max(1, Math.ceil(waitMs))}ms` : '';
    // Consul adds up to wait/16 of jitter to a blocking query
    const timeoutMs = index > 0 ? Math.ceil(waitMs + waitMs / 16) + REQUEST_TIMEOUT_MS : REQUEST_TIMEOUT_MS;
    return this.consul.readKey(`${this.keyPath(receiverId)}${query}`, index, timeoutMs, [this.stopped.signal, signal]);
  }

  private keyPath(receiverId: string): string {
    return `/v1/kv/${[this.options.prefix, 'locks', receiverId].map(encodeURIComponent).join('/')}`;
  }
}

/**
 * Waits for a busy key to change, for one `acquire()` call: each wait is a blocking query from the
 * index the previous one returned, so no change in between is missed, and it returns as soon as
 * the key is free (released, deleted) for the caller to try again.
 */
class KeyChanges {
  private index = 0;
  private free = false;

  constructor(private readonly read: (index: number, waitMs: number, signal: AbortSignal | undefined) => Promise<KeyRead>) {}

  async wait(ms: number, signal: AbortSignal | undefined): Promise<void> {
    const giveUpAt = monotonicNow() + ms;
    for (;;) {
      const remaining = giveUpAt - monotonicNow();
      if (remaining <= 0 || signal?.aborted) return;
      // a free key that still refused us is in its lock-delay, whose end no write announces
      const waitMs = this.free ? Math.min(remaining, LOCK_DELAY_RETRY_MS) : remaining;
      try {
        const { entry, index } = await this.read(this.index, waitMs, signal);
        this.index = index;
        this.free = !entry?.Session;
      } catch {
        return sleep(Math.min(remaining, LOCK_DELAY_RETRY_MS), signal); // unreachable: the next try reports it
      }
      if (this.free) return;
    }
  }
}

function decodeHolder(value: string | null): { emitterId: string; since: string } {
  try {
    const { emitterId, since } = JSON.parse(Buffer.from(value ?? '', 'base64').toString('utf8')) as { emitterId?: unknown; since?: unknown };
    return { emitterId: String(emitterId), since: String(since) };
  } catch {
    return { emitterId: 'unknown', since: '' };
  }
}
